"""What pachd's Dex is given: the Okta connector document, the OIDC scopes, the client ids.

Plain functions of plain values, called inside ``Output.apply`` by the auth component.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from components.okta_decisions import GROUPS_SCOPE

# No `openid`: Dex always requests it first itself (docs/decisions.md, decision 19).
OKTA_CONNECTOR_SCOPES = ("profile", "email", "groups", "offline_access")
# Everything Dex asks Okta for at sign-in: what a custom authorization server's access rule must
# allow, and nothing more.
OKTA_REQUESTED_SCOPES = ("openid", *OKTA_CONNECTOR_SCOPES)
# What pachd asks Dex for when a user logs in (decision 19).
PACHD_OIDC_SCOPES = ("email", "profile", "groups", "openid")
# Dex client ids; the chart's `pachd.oauthClientID` and `console.config.oauthClientID` name them.
PACHD_CLIENT_ID = "pachd"
CONSOLE_CLIENT_ID = "console"


def okta_connector_scopes(*, groups: bool) -> tuple[str, ...]:
    """The connector's ``scopes``; ``groups`` only when the authorization server defines it.

    Okta refuses the whole request with ``invalid_scope`` for a scope the server lacks.
    """
    return tuple(scope for scope in OKTA_CONNECTOR_SCOPES if groups or scope != GROUPS_SCOPE)


def okta_requested_scopes(*, groups: bool) -> tuple[str, ...]:
    """What Dex asks Okta for at sign-in: ``openid`` (always first) and the connector's scopes."""
    return ("openid", *okta_connector_scopes(groups=groups))


def okta_connector_config(
    *,
    issuer: str,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    skip_email_verified: bool,
    scopes: Sequence[str],
) -> dict[str, Any]:
    """The Dex ``oidc`` connector config for the Okta app.

    ``issuer`` must be Okta's discovery issuer byte for byte; ``redirect_uri`` equals Dex's own
    ``<issuer>/callback``, so the callback-domain check stays on.
    """
    if issuer.endswith("/"):
        raise ValueError(
            "the Okta issuer must not end in '/': Dex compares it byte-for-byte with Okta's "
            "discovery document"
        )
    return {
        "issuer": issuer,
        "clientID": client_id,
        "clientSecret": client_secret,
        "redirectURI": redirect_uri,
        "scopes": list(scopes),
        # client_secret_post on every Okta host, as the app expects (decision 18).
        "basicAuthUnsupported": True,
        # Dex reads the `groups` claim only with this flag (decision 28).
        "insecureEnableGroups": True,
        # Okta's ID token is thin: groups and email_verified come from userinfo (decision 28).
        "getUserInfo": True,
        "insecureSkipEmailVerified": skip_email_verified,
        "insecureSkipIssuerCallbackDomainCheck": False,
    }
