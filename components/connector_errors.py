"""What to tell the user when pachd refuses the Okta connector because Dex cannot open it.

pachd validates every connector it is given by opening it (pachyderm
src/server/identity/server/dex_api.go, ``validateConnector``: ``unable to open connector: %v``).
For the ``oidc`` type, opening is OIDC discovery from inside the pachd pod (pachyderm/dex
connector/oidc/oidc.go, ``Config.Open``: ``failed to get provider: %v`` around go-oidc's
``NewProvider``), so the refusal surfaces one of go-oidc's errors:

- ``oidc: issuer did not match the issuer returned by provider, expected "<tried>" got "<okta's>"``
  when Okta's discovery document names another issuer (Dex compares byte for byte);
- ``<status>: <body>`` when Okta answers the discovery URL with an error (an unknown
  authorization server is ``404 Not Found``);
- ``Get "<issuer>/.well-known/openid-configuration": <network error>`` when the pod cannot reach
  Okta at all (DNS, firewall, egress proxy, TLS interception).

A pure function: no secret goes in (the caller passes pachd's details already redacted) and none
comes out.
"""

from __future__ import annotations

import re

# pachd's wording for a connector Dex could not open (dex_api.go `validateConnector`).
_UNABLE_TO_OPEN = "unable to open connector"
# go-oidc `NewProvider`: the discovery document names another issuer.
_ISSUER_MISMATCH = re.compile(
    r'issuer did not match the issuer returned by provider, expected "[^"]*" got "(?P<got>[^"]*)"'
)
# go-oidc `NewProvider`: Okta answered the discovery URL with a non-200 status.
_HTTP_STATUS = re.compile(r"failed to get provider: (?P<status>[1-5]\d\d [^:]*):")
# net/http's client error: the request never got an answer.
_TRANSPORT = re.compile(r'failed to get provider: Get "[^"]*": (?P<reason>.+)$')

# The stack keys that decide the issuer the connector tries.
ISSUER_KEYS = ("okta:orgName", "okta:baseUrl", "pachyderm-okta:okta.authorizationServer")
# The Helm values that give pachd a way out through an HTTP proxy (the chart's `global.proxy`,
# `global.noProxy`, and `global.customCaCerts` for a proxy that re-signs TLS).
EGRESS_KEYS = (
    "pachyderm-okta:pachyderm.values.global.proxy",
    "pachyderm-okta:pachyderm.values.global.noProxy",
    "pachyderm-okta:pachyderm.values.global.customCaCerts",
)


def connector_refusal_message(connector_id: str, issuer: str, details: str) -> str | None:
    """Explain pachd's refusal to open connector ``connector_id``, or ``None`` for other errors.

    ``issuer`` is the issuer the connector tried; ``details`` is pachd's error text (gRPC
    details, possibly prefixed with the status code), already free of secrets.
    """
    if _UNABLE_TO_OPEN not in details:
        return None
    discovery_url = f"{issuer.rstrip('/')}/.well-known/openid-configuration"
    mismatch = _ISSUER_MISMATCH.search(details)
    http_status = _HTTP_STATUS.search(details)
    transport = _TRANSPORT.search(details)
    if mismatch:
        what = (
            f"Okta's discovery document at {discovery_url} names the issuer "
            f'"{mismatch.group("got")}", not "{issuer}", and Dex compares the two byte for byte'
        )
    elif http_status:
        what = f"Okta answered {discovery_url} with {http_status.group('status')}"
    elif transport:
        what = f"the pachd pod could not fetch {discovery_url}: {transport.group('reason')}"
    else:
        what = f"OIDC discovery at {discovery_url} failed"
    issuer_cause = (
        f"the issuer does not match what Okta reports: it is decided by {', '.join(ISSUER_KEYS)} "
        "and, for a custom authorization server, by that server's issuer mode in Okta "
        "(ORG_URL or CUSTOM_URL); check them and run `pulumi up` again"
    )
    route_cause = (
        "the pachd pods have no route to Okta: Dex runs inside pachd, so the cluster must allow "
        f"egress from the pachd pods to {_host(issuer)}:443 (NetworkPolicy, firewall, DNS); "
        f"behind an HTTP proxy set {', '.join(EGRESS_KEYS)}"
    )
    causes = (
        [route_cause, issuer_cause] if transport and not mismatch else [issuer_cause, route_cause]
    )
    return (
        f"pachd could not open IDP connector {connector_id!r} with issuer {issuer!r}: "
        f"pachd opens it by OIDC discovery from inside its pod, and {what}. "
        f"The two usual causes: (1) {causes[0]}; (2) {causes[1]}."
    )


def _host(issuer: str) -> str:
    """The host part of an issuer URL (the issuer itself if it has no ``scheme://``)."""
    _, separator, rest = issuer.partition("://")
    return rest.split("/", 1)[0] if separator else issuer
