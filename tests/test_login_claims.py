"""Who a user is in pachd after signing in through Okta, on the org and on a custom server.

Regression guarded: Okta's authorization-code ID token is thin - no groups from the app's groups
claim, no ``email_verified`` - and the pinned Dex fork reads the userinfo claims only when the
connector sets ``getUserInfo`` (docs/decisions.md, decision 28). Without it, on the org server
(the default) every ``group:`` binding silently never matches: people log in and hold no role;
and with ``skipEmailVerified: false`` every login fails on every server.

The connector document and pachd's OIDC configuration are the ones the whole program registers
(``__main__.py`` under mocks with the dev stack); Okta-shaped answers go through the port of the
fork's ``createIdentity`` and pachd's mapping to principals (``testkit/dex_identity.py``), and
the roles a user holds are read from the cluster role bindings the program registers.
"""

from __future__ import annotations

import json
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
)
from testkit.offline_up import OKTA_CLIENT_ID, OfflineEngine, Plan, World, dev_stack, plan_program
from testkit.stacks import stack_config

# plan_program never dials pachd.
PACHD_ADDRESS = "grpc://127.0.0.1:1"
CUSTOM_SERVER = "aus1custom"
ADA = {
    "sub": "00u1adalovelace",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "preferred_username": "ada@example.com",
}
OKTA_GROUPS = ["Everyone", "pachyderm-admins"]
ADMIN_ROLES = {"clusterAdmin", "projectViewer"}
EVERY_USERS_ROLES = {"projectViewer"}


def _plan(server: str, *, verify_email: bool, groups_claim: bool = True) -> Plan:
    """The dev stack on the org server or a custom one, with email verification on or off."""
    config, _ = stack_config("dev")
    auth = {**json.loads(config["pachyderm-okta:auth"]), "skipEmailVerified": not verify_email}
    okta = {**json.loads(config["pachyderm-okta:okta"]), "groupsClaim": groups_claim}
    if server == "custom":
        okta["authorizationServer"] = CUSTOM_SERVER
    stack = dev_stack(
        PACHD_ADDRESS, pachyderm_okta__auth=json.dumps(auth), pachyderm_okta__okta=json.dumps(okta)
    )
    return plan_program(stack, world=World())


def _okta_answer(
    plan: Plan, *, groups: list[str] | None = OKTA_GROUPS, email_verified: bool | None = True
) -> TokenResponse:
    """What Okta answers Dex's authorization-code exchange, then its userinfo request.

    The ID token is thin (Okta support, "Okta Groups or Attribute Missing from Id Token"): base
    claims, ``name``, ``preferred_username`` and ``email`` only. Groups come from the app's
    groups claim through userinfo on the org server, and in the ID token on a custom server,
    whose claim this program makes ``alwaysIncludeInToken``. ``None`` leaves a claim out.
    """
    connector = OfflineEngine.inputs(plan.one("IdpConnector"))["config"]
    issuer = connector["issuer"]
    id_token: dict[str, Any] = {
        **ADA,
        "ver": 1,
        "iss": issuer,
        "aud": OKTA_CLIENT_ID,
        "iat": 1764806400,
        "exp": 1764810000,
        "jti": "ID.thin-token",
        "amr": ["pwd"],
        "idp": "00o-test-org",
        "nonce": "dex-nonce",
        "auth_time": 1764806390,
        "at_hash": "access-token-hash",
    }
    userinfo: dict[str, Any] = {
        **ADA,
        "given_name": "Ada",
        "family_name": "Lovelace",
        "locale": "en_US",
        "zoneinfo": "America/Los_Angeles",
        "updated_at": 1764800000,
    }
    if email_verified is not None:
        userinfo["email_verified"] = email_verified
    if groups is not None:
        custom_server = issuer.endswith(f"/oauth2/{CUSTOM_SERVER}")
        (id_token if custom_server else userinfo)["groups"] = groups
    return TokenResponse(id_token=id_token, userinfo=userinfo)


def _login(plan: Plan, answer: TokenResponse) -> tuple[DexIdentity, PachdLogin]:
    """Dex's identity from the registered connector, then the principals pachd records."""
    connector = OfflineEngine.inputs(plan.one("IdpConnector"))["config"]
    auth_config = OfflineEngine.inputs(plan.one("AuthConfig"))
    identity = create_identity(connector, answer)
    login = pachd_login(
        identity,
        require_email_verified=auth_config["require_email_verified"],
        scopes=auth_config["scopes"],
    )
    return identity, login


def _cluster_roles(plan: Plan, login: PachdLogin) -> set[str]:
    """The cluster roles the registered bindings give the user, its groups and every user."""
    principals = {login.user, *login.groups, "allClusterUsers"}
    roles: set[str] = set()
    for binding in plan.dynamic:
        inputs = OfflineEngine.inputs(binding)
        if binding.type.endswith(":ClusterRoleBinding") and inputs["principal"] in principals:
            roles.update(inputs["roles"])
    return roles


def _ada(*, email_verified: bool = True, groups: tuple[str, ...] = ()) -> DexIdentity:
    return DexIdentity(
        user_id=ADA["sub"],
        username=ADA["name"],
        preferred_username=ADA["preferred_username"],
        email=ADA["email"],
        email_verified=email_verified,
        groups=groups,
    )


@pytest.mark.parametrize(
    ("server", "verify_email"),
    [("org", True), ("org", False), ("custom", True)],
    ids=["org-verification-on", "org-verification-off", "custom-verification-on"],
)
def test_a_member_of_a_bound_group_holds_its_role(server: str, verify_email: bool) -> None:
    plan = _plan(server, verify_email=verify_email)

    identity, login = _login(plan, _okta_answer(plan))

    assert identity == _ada(groups=("Everyone", "pachyderm-admins"))
    assert login == PachdLogin("user:ada@example.com", ("group:Everyone", "group:pachyderm-admins"))
    assert _cluster_roles(plan, login) == ADMIN_ROLES


@pytest.mark.parametrize("server", ["org", "custom"])
def test_okta_saying_the_email_is_unverified_wins_over_skip_email_verified(server: str) -> None:
    # skipEmailVerified only fills in a claim Okta did not send. pachd's configuration does not
    # require a verified email, so the user still logs in with their groups.
    plan = _plan(server, verify_email=False)

    identity, login = _login(plan, _okta_answer(plan, email_verified=False))

    assert identity == _ada(email_verified=False, groups=("Everyone", "pachyderm-admins"))
    assert _cluster_roles(plan, login) == ADMIN_ROLES


@pytest.mark.parametrize("server", ["org", "custom"])
def test_no_groups_claim_logs_in_silently_with_no_group(server: str) -> None:
    # The stack turned the groups claim off: nothing fails, and only allClusterUsers applies.
    plan = _plan(server, verify_email=True, groups_claim=False)

    identity, login = _login(plan, _okta_answer(plan, groups=None))

    assert identity == _ada()
    assert login == PachdLogin("user:ada@example.com", ())
    assert _cluster_roles(plan, login) == EVERY_USERS_ROLES


@pytest.mark.parametrize("server", ["org", "custom"])
def test_with_verification_on_only_a_missing_email_verified_fails_the_login(server: str) -> None:
    plan = _plan(server, verify_email=True)
    _identity, login = _login(plan, _okta_answer(plan))
    assert login.user == "user:ada@example.com"

    with pytest.raises(DexLoginError) as raised:
        _login(plan, _okta_answer(plan, email_verified=None))

    assert str(raised.value) == 'missing "email_verified" claim'


@pytest.mark.parametrize("server", ["org", "custom"])
def test_with_verification_on_an_unverified_email_is_refused_by_pachd(server: str) -> None:
    # Dex passes Okta's `email_verified: false` on; pachd's OIDC config refuses it
    # (docs/decisions.md, decision 46; the real login shows it in tests/test_real_pachd.py).
    plan = _plan(server, verify_email=True)

    with pytest.raises(PachdLoginError) as raised:
        _login(plan, _okta_answer(plan, email_verified=False))

    assert str(raised.value) == (
        "could not verify token: email_verified claim was false, and require_email_verified was set"
    )
