"""What the user reads when pachd refuses the Okta connector (``idp_connector``).

Regression guarded: a wrong issuer or an Okta the pachd pods cannot reach surfaced as Dex's raw
words, at `pulumi up`, with nothing saying which stack keys decide the issuer or that the network
path in question is the pod's, not the deployer's. The message must name the connector, the
issuer tried, the keys, both usual causes, and never a secret.

pachd's message shapes, copied with their provenance:

- the wrapping: pachd ``unable to open connector: %v`` (pachyderm
  src/server/identity/server/dex_api.go, ``validateConnector``) around Dex's ``failed to get
  provider: %v`` (pachyderm/dex connector/oidc/oidc.go, ``Config.Open``), returned as gRPC
  UNKNOWN;
- issuer mismatch: go-oidc ``NewProvider``, ``oidc: issuer did not match the issuer returned by
  provider, expected %q got %q``; the trailing-slash values are the ones on Pachyderm's Okta
  troubleshooting page (docs-content latest/set-up/connectors/okta.md);
- unreachable: net/http's ``Get "<url>": <error>`` with the resolver's ``lookup <host> on
  <server>: no such host``, a dial ``i/o timeout``, a refused ``proxyconnect``, or a TLS-re-signing
  proxy's ``x509: certificate signed by unknown authority``;
- unknown server: go-oidc ``"%s: %s"`` of the status and Okta's E0000007 body.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import grpc
import pytest

from components.pachyderm_auth.activation import ActivationProvider
from components.pachyderm_auth.idp_connector import ConnectorProvider, connector_refusal_message
from components.pachyderm_auth.pachd import PachdError
from testkit.auth_props import OKTA_ISSUER, AuthProps
from testkit.fake_pachd import FakePachd

WRAP = "UNKNOWN: unable to open connector: failed to get provider: "
TRIED = "https://trial-1234567.okta.com/"
MISMATCH = (
    WRAP + "oidc: issuer did not match the issuer returned by provider, "
    'expected "https://trial-1234567.okta.com/" got "https://trial-1234567.okta.com"'
)
DISCOVERY = "https://dev-123456.okta.com/.well-known/openid-configuration"
NO_SUCH_HOST = (
    WRAP + f'Get "{DISCOVERY}": dial tcp: lookup dev-123456.okta.com on 10.96.0.10:53: no such host'
)
DIAL_TIMEOUT = WRAP + f'Get "{DISCOVERY}": dial tcp 198.51.100.7:443: i/o timeout'
PROXY_REFUSED = (
    WRAP + f'Get "{DISCOVERY}": proxyconnect tcp: dial tcp 10.0.0.9:3128: connect: '
    "connection refused"
)
TLS_INTERCEPTED = (
    WRAP + f'Get "{DISCOVERY}": tls: failed to verify certificate: x509: certificate signed by '
    "unknown authority"
)
UNKNOWN_SERVER = (
    WRAP + '404 Not Found: {"errorCode":"E0000007","errorSummary":"Not found: Resource not '
    'found: ausWRONG (AuthorizationServer)","errorLink":"E0000007","errorId":"oae1",'
    '"errorCauses":[]}'
)
ISSUER_CAUSE = (
    "the issuer does not match what Okta reports: it is decided by okta:orgName, okta:baseUrl, "
    "pachyderm-okta:okta.authorizationServer and, for a custom authorization server, by that "
    "server's issuer mode in Okta (ORG_URL or CUSTOM_URL); check them and run `pulumi up` again"
)


def _route_cause(host: str) -> str:
    return (
        "the pachd pods have no route to Okta: Dex runs inside pachd, so the cluster must allow "
        f"egress from the pachd pods to {host}:443 (NetworkPolicy, firewall, DNS); behind an "
        "HTTP proxy set pachyderm-okta:pachyderm.values.global.proxy, "
        "pachyderm-okta:pachyderm.values.global.noProxy, "
        "pachyderm-okta:pachyderm.values.global.customCaCerts"
    )


def test_issuer_mismatch_names_okta_issuer_keys_and_both_causes() -> None:
    assert connector_refusal_message("okta", TRIED, MISMATCH) == (
        "pachd could not open IDP connector 'okta' with issuer 'https://trial-1234567.okta.com/': "
        "pachd opens it by OIDC discovery from inside its pod, and Okta's discovery document at "
        "https://trial-1234567.okta.com/.well-known/openid-configuration names the issuer "
        '"https://trial-1234567.okta.com", not "https://trial-1234567.okta.com/", and Dex '
        "compares the two byte for byte. The two usual causes: "
        f"(1) {ISSUER_CAUSE}; (2) {_route_cause('trial-1234567.okta.com')}."
    )


def test_unreachable_issuer_puts_the_pods_route_first() -> None:
    assert connector_refusal_message("okta", OKTA_ISSUER, NO_SUCH_HOST) == (
        "pachd could not open IDP connector 'okta' with issuer 'https://dev-123456.okta.com': "
        f"pachd opens it by OIDC discovery from inside its pod, and the pachd pod could not "
        f"fetch {DISCOVERY}: dial tcp: lookup dev-123456.okta.com on 10.96.0.10:53: no such "
        f"host. The two usual causes: (1) {_route_cause('dev-123456.okta.com')}; "
        f"(2) {ISSUER_CAUSE}."
    )


@pytest.mark.parametrize(
    ("details", "reason"),
    [
        (DIAL_TIMEOUT, "dial tcp 198.51.100.7:443: i/o timeout"),
        (PROXY_REFUSED, "proxyconnect tcp: dial tcp 10.0.0.9:3128: connect: connection refused"),
        (
            TLS_INTERCEPTED,
            "tls: failed to verify certificate: x509: certificate signed by unknown authority",
        ),
    ],
    ids=["egress-dropped", "proxy-down", "tls-intercepted"],
)
def test_every_network_failure_is_a_route_problem(details: str, reason: str) -> None:
    message = connector_refusal_message("okta", OKTA_ISSUER, details)

    assert message is not None
    assert f"the pachd pod could not fetch {DISCOVERY}: {reason}. " in message
    assert f"(1) {_route_cause('dev-123456.okta.com')}; (2) {ISSUER_CAUSE}." in message


def test_an_unknown_server_is_an_issuer_problem() -> None:
    issuer = "https://dev-123456.okta.com/oauth2/ausWRONG"
    message = connector_refusal_message("okta", issuer, UNKNOWN_SERVER)

    assert message is not None
    assert (
        f"Okta answered {issuer}/.well-known/openid-configuration with 404 Not Found. " in message
    )
    assert f"(1) {ISSUER_CAUSE}; (2) {_route_cause('dev-123456.okta.com')}." in message


@pytest.mark.parametrize(
    "details",
    [
        "INTERNAL: ID already exists",
        "UNKNOWN: new config version is 3, expected 2",
        "UNKNOWN: identity.CreateIDPConnector() is disabled when the Identity Connectors are set "
        "via environment.",
        'UNKNOWN: unknown connector type "oidcx"',
        "DEADLINE_EXCEEDED: Deadline Exceeded",
    ],
)
def test_other_failures_get_no_connector_advice(details: str) -> None:
    assert connector_refusal_message("okta", OKTA_ISSUER, details) is None


# --- through the provider and the fake pachd ---------------------------------------------------

OKTA_SECRET = "test-okta-client-secret-refusal-0010"
PROPS = AuthProps(
    root_token="test-root-token-refusal-0011",
    license_key="",
    enterprise_secret="",
    pachd_secret="test-pachd-client-secret-refusal-0012",
    okta_secret=OKTA_SECRET,
    timeout_seconds=2,
)


@pytest.fixture
def pachd() -> Iterator[FakePachd]:
    with FakePachd(version=(2, 12, 2)) as server:
        ActivationProvider().create(PROPS.activation(server.address))
        yield server


def _refused(action: Callable[[], object]) -> str:
    with pytest.raises(PachdError) as raised:
        action()
    message = str(raised.value)
    assert OKTA_SECRET not in message
    assert PROPS.root_token not in message
    return message


def test_create_refused_for_issuer_mismatch_explains_it(pachd: FakePachd) -> None:
    pachd.inject(
        "identity.CreateIDPConnector", grpc.StatusCode.UNKNOWN, MISMATCH.removeprefix("UNKNOWN: ")
    )
    props = PROPS.connector(pachd.address, config=PROPS.okta_config(issuer=TRIED))

    message = _refused(lambda: ConnectorProvider().create(props))

    assert message == (
        f"creating IDP connector 'okta' failed at {pachd.address}: {MISMATCH} - "
        f"{connector_refusal_message('okta', TRIED, MISMATCH)}"
    )
    assert pachd.state.connectors == {}


def test_update_refused_for_unreachable_okta_explains_it(pachd: FakePachd) -> None:
    props = PROPS.connector(pachd.address)
    ConnectorProvider().create(props)
    # The fake's own model of Dex failing discovery for an issuer it cannot reach.
    pachd.state.unreachable_issuers.add(OKTA_ISSUER)
    changed = PROPS.connector(pachd.address, config=PROPS.okta_config(secret="rotated-0013"))

    message = _refused(lambda: ConnectorProvider().update("okta", props, changed))

    assert message.startswith(f"updating IDP connector 'okta' failed at {pachd.address}: {WRAP}")
    assert (
        "pachd could not open IDP connector 'okta' with issuer 'https://dev-123456.okta.com'"
        in (message)
    )
    assert f"(1) {_route_cause('dev-123456.okta.com')}; (2) {ISSUER_CAUSE}." in message
    assert "rotated-0013" not in message
    assert pachd.state.connectors["okta"]["config_version"] == 0
