"""The port of the Dex fork's claim selection (``testkit/dex_identity.py``) behaves as the Go does.

Pins the port to pachyderm/dex ``connector/oidc/oidc.go`` ``createIdentity`` at 292f1ae604a3 and
go-oidc v3.5.0's userinfo decode, so the login tests (``test_login_claims.py``) cannot pass on a
port that drifted: which claims userinfo replaces, Dex's exact refusals, what
``insecureSkipEmailVerified``, ``insecureEnableGroups``, ``userNameKey``, ``userIDKey``,
``claimMapping`` and ``overrideClaimMapping`` do, and pachd's ``user:``/``group:`` principals.
"""

from __future__ import annotations

from typing import Any

import pytest

from testkit.dex_identity import (
    DexIdentity,
    DexLoginError,
    PachdLogin,
    PachdLoginError,
    TokenResponse,
    create_identity,
    pachd_login,
    requested_scopes,
)

BASE = {"sub": "00u1", "name": "Ada", "email": "ada@example.com", "email_verified": True}
CONFIG: dict[str, Any] = {"scopes": ["profile", "email", "groups"], "insecureEnableGroups": True}
USERINFO_CONFIG = {**CONFIG, "getUserInfo": True}


def _identity(**changes: Any) -> DexIdentity:
    fields: dict[str, Any] = {
        "user_id": "00u1",
        "username": "Ada",
        "preferred_username": "",
        "email": "ada@example.com",
        "email_verified": True,
        "groups": (),
        **changes,
    }
    return DexIdentity(**fields)


def _without(claims: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in claims.items() if key not in keys}


def test_userinfo_claims_replace_the_id_tokens_and_the_others_stay() -> None:
    id_token = {**BASE, "name": "ID token name", "groups": ["from-id-token"]}
    userinfo = {"sub": "00u1", "name": "Ada", "email_verified": False}

    identity = create_identity(USERINFO_CONFIG, TokenResponse(id_token, userinfo))

    assert identity == _identity(email_verified=False, groups=("from-id-token",))


def test_without_get_user_info_userinfo_is_never_read() -> None:
    userinfo = {**BASE, "groups": ["admins"]}
    response = TokenResponse(_without(BASE, "email_verified"), userinfo)

    assert create_identity({**CONFIG, "insecureSkipEmailVerified": True}, response) == _identity()
    with pytest.raises(DexLoginError, match=r'^missing "email_verified" claim$'):
        create_identity(CONFIG, response)


def test_refresh_without_an_id_token_takes_the_userinfo_claims() -> None:
    response = TokenResponse(None, {**BASE, "groups": ["admins"]})

    assert create_identity(USERINFO_CONFIG, response, refresh=True) == _identity(groups=("admins",))
    with pytest.raises(DexLoginError, match=r'^missing "sub" claim$'):
        create_identity(CONFIG, response, refresh=True)


@pytest.mark.parametrize(
    ("config", "response", "message"),
    [
        (CONFIG, TokenResponse(None), "oidc: no id_token in token response"),
        (
            USERINFO_CONFIG,
            TokenResponse(BASE, None),
            "oidc: error loading userinfo: "
            "oidc: user info endpoint is not supported by this provider",
        ),
        (
            USERINFO_CONFIG,
            TokenResponse(BASE, {"email_verified": None}),
            "oidc: error loading userinfo: oidc: failed to decode userinfo: "
            "invalid value for boolean",
        ),
        (CONFIG, TokenResponse(_without(BASE, "sub")), 'missing "sub" claim'),
        (CONFIG, TokenResponse(_without(BASE, "name")), 'missing "name" claim'),
        (
            {**CONFIG, "userNameKey": "preferred_username"},
            TokenResponse(BASE),
            'missing "preferred_username" claim',
        ),
        (
            CONFIG,
            TokenResponse(_without(BASE, "email")),
            'missing email claim, not found "email" key',
        ),
        (
            {**CONFIG, "claimMapping": {"email": "mail"}},
            TokenResponse(_without(BASE, "email")),
            'missing email claim, not found "mail" key',
        ),
        (CONFIG, TokenResponse(_without(BASE, "email_verified")), 'missing "email_verified" claim'),
        (
            USERINFO_CONFIG,
            # go-oidc accepts "true" for its own field, but the claim Dex reads is then a string.
            TokenResponse(BASE, {"email_verified": "true"}),
            'missing "email_verified" claim',
        ),
        (CONFIG, TokenResponse({**BASE, "groups": ["a", 7]}), 'malformed "groups" claim'),
        ({**CONFIG, "userIDKey": "uid"}, TokenResponse(BASE), "oidc: not found uid claim"),
    ],
)
def test_dex_refuses_with_its_exact_message(
    config: dict[str, Any], response: TokenResponse, message: str
) -> None:
    with pytest.raises(DexLoginError) as raised:
        create_identity(config, response)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("config", "claims", "expected"),
    [
        # insecureSkipEmailVerified fills in a missing claim only.
        (
            {**CONFIG, "insecureSkipEmailVerified": True},
            _without(BASE, "email_verified"),
            _identity(),
        ),
        (
            {**CONFIG, "insecureSkipEmailVerified": True},
            {**BASE, "email_verified": False},
            _identity(email_verified=False),
        ),
        # Without the email scope neither email claim is required.
        (
            {**CONFIG, "scopes": ["profile"]},
            _without(BASE, "email", "email_verified"),
            _identity(email="", email_verified=False),
        ),
        # Groups only with insecureEnableGroups.
        ({"scopes": CONFIG["scopes"]}, {**BASE, "groups": ["admins"]}, _identity()),
        (CONFIG, {**BASE, "groups": "admins"}, _identity(groups=("admins",))),
        (CONFIG, {**BASE, "groups": ["a", "b"]}, _identity(groups=("a", "b"))),
        # A mapped key is read when the standard claim is missing, or always with the override.
        (
            {**CONFIG, "claimMapping": {"groups": "roles"}},
            {**BASE, "groups": ["a"], "roles": ["r"]},
            _identity(groups=("a",)),
        ),
        (
            {**CONFIG, "claimMapping": {"groups": "roles"}},
            {**BASE, "roles": ["r"]},
            _identity(groups=("r",)),
        ),
        (
            {**CONFIG, "claimMapping": {"groups": "roles"}, "overrideClaimMapping": True},
            {**BASE, "groups": ["a"], "roles": ["r"]},
            _identity(groups=("r",)),
        ),
        (
            {**CONFIG, "claimMapping": {"email": "mail"}, "overrideClaimMapping": True},
            {**BASE, "mail": "ada@corp.example"},
            _identity(email="ada@corp.example"),
        ),
        (
            {**CONFIG, "claimMapping": {"preferred_username": "login"}},
            {**BASE, "login": "ada"},
            _identity(preferred_username="ada"),
        ),
        ({**CONFIG, "userNameKey": "login"}, {**BASE, "login": "ada"}, _identity(username="ada")),
        ({**CONFIG, "userIDKey": "uid"}, {**BASE, "uid": "u-7"}, _identity(user_id="u-7")),
    ],
)
def test_claim_selection(
    config: dict[str, Any], claims: dict[str, Any], expected: DexIdentity
) -> None:
    assert create_identity(config, TokenResponse(claims)) == expected


def test_dex_requests_openid_then_the_scopes_or_profile_and_email() -> None:
    assert requested_scopes({"scopes": ["email"]}) == ("openid", "email")
    assert requested_scopes({}) == ("openid", "profile", "email")


def test_pachd_names_the_user_by_email_and_prefixes_each_group() -> None:
    identity = _identity(groups=("admins", "Data Team"))

    assert pachd_login(identity, require_email_verified=True) == PachdLogin(
        "user:ada@example.com", ("group:admins", "group:Data Team")
    )
    # Dex's ID token for pachd carries groups only for the `groups` scope.
    assert pachd_login(
        identity, require_email_verified=False, scopes=("openid", "email")
    ) == PachdLogin("user:ada@example.com", ())


def test_pachd_refuses_an_unverified_email_only_when_configured_to() -> None:
    unverified = _identity(email_verified=False)

    assert pachd_login(unverified, require_email_verified=False).user == "user:ada@example.com"
    with pytest.raises(PachdLoginError) as raised:
        pachd_login(unverified, require_email_verified=True)
    assert str(raised.value) == (
        "could not verify token: email_verified claim was false, and require_email_verified was set"
    )
