"""The pure Dex connector builder (``components.dex``): exact document, issuer rule.

Regressions guarded: a changed key or value in the Okta ``oidc`` connector document silently
breaks logins only at runtime (Dex reads ``insecureEnableGroups``/``insecureSkipEmailVerified``,
merges Okta's userinfo claims only with ``getUserInfo``, and the callback-domain check must stay
on because ``redirectURI`` is Dex's own callback); Dex
sending the client secret another way than the Okta app expects (``basicAuthUnsupported``); a
scope requested twice (Dex adds ``openid`` itself, pachyderm/dex connector/oidc/oidc.go); and an
Okta org issuer with a trailing slash makes pachd refuse the connector ("issuer did not match the
issuer returned by provider", Pachyderm's Okta troubleshooting page), so the builder refuses it.
"""

from __future__ import annotations

import pytest

from components import dex

ISSUER = "https://dev-123456.okta.com"
REDIRECT = "http://192.168.49.2:30080/dex/callback"


def _build(issuer: str = ISSUER, *, skip: bool = True, groups: bool = True) -> dict[str, object]:
    return dex.okta_connector_config(
        issuer=issuer,
        client_id="0oa1client",
        client_secret="test-okta-client-secret-0001",
        redirect_uri=REDIRECT,
        skip_email_verified=skip,
        scopes=dex.okta_connector_scopes(groups=groups),
    )


def test_exact_document() -> None:
    assert _build() == {
        "issuer": ISSUER,
        "clientID": "0oa1client",
        "clientSecret": "test-okta-client-secret-0001",
        "redirectURI": REDIRECT,
        "scopes": ["profile", "email", "groups", "offline_access"],
        "basicAuthUnsupported": True,
        "insecureEnableGroups": True,
        "getUserInfo": True,
        "insecureSkipEmailVerified": True,
        "insecureSkipIssuerCallbackDomainCheck": False,
    }


def test_skip_email_verified_is_passed_through() -> None:
    assert _build(skip=False)["insecureSkipEmailVerified"] is False


def test_custom_authorization_server_issuer_is_kept_byte_for_byte() -> None:
    issuer = "https://dev-123456.okta.com/oauth2/default"
    assert _build(issuer)["issuer"] == issuer


def test_scopes_include_groups_and_are_a_fresh_list() -> None:
    first = _build()
    scopes = first["scopes"]
    assert isinstance(scopes, list)
    assert "groups" in scopes
    scopes.append("mutated")
    assert "mutated" not in dex.OKTA_CONNECTOR_SCOPES
    assert "mutated" not in _build()["scopes"]  # type: ignore[operator]


@pytest.mark.parametrize(
    "issuer", ["https://dev-123456.okta.com/", "https://dev-123456.okta.com/oauth2/default/"]
)
def test_trailing_slash_issuer_is_refused(issuer: str) -> None:
    with pytest.raises(ValueError, match="must not end in '/'") as raised:
        _build(issuer)
    assert "test-okta-client-secret-0001" not in str(raised.value)


def test_dex_requests_each_scope_once_and_everything_pachd_needs() -> None:
    # Dex sends `openid` followed by the connector's scopes (oidc.go `Config.Open`).
    requested = ["openid", *dex.OKTA_CONNECTOR_SCOPES]
    assert requested == list(dex.OKTA_REQUESTED_SCOPES)
    assert len(set(requested)) == len(requested)
    # Every scope pachd asks Dex for is asked of Okta, plus offline_access for the refresh token.
    assert set(requested) == {*dex.PACHD_OIDC_SCOPES, "offline_access"}


def test_pachd_constants() -> None:
    assert dex.PACHD_OIDC_SCOPES == ("email", "profile", "groups", "openid")
    assert (dex.PACHD_CLIENT_ID, dex.CONSOLE_CLIENT_ID) == ("pachd", "console")


@pytest.mark.parametrize(
    ("groups", "connector_scopes", "requested"),
    [
        (
            True,
            ["profile", "email", "groups", "offline_access"],
            ("openid", "profile", "email", "groups", "offline_access"),
        ),
        (
            False,
            ["profile", "email", "offline_access"],
            ("openid", "profile", "email", "offline_access"),
        ),
    ],
)
def test_groups_is_requested_only_where_the_server_defines_it(
    groups: bool, connector_scopes: list[str], requested: tuple[str, ...]
) -> None:
    # Okta answers invalid_scope for the whole request when one scope is undefined on the server.
    assert _build(groups=groups)["scopes"] == connector_scopes
    assert dex.okta_requested_scopes(groups=groups) == requested
