"""The auth dynamic providers, called directly against a fake pachd (no Pulumi host).

Regressions guarded (one test or more per rule listed in ``components/pachyderm_auth/base.py``):
activation must be idempotent and resumable after a failure at *any* step of the
2.12 and the 2.11 sequence (a Python dynamic provider cannot report partial state); 2.12 must
never touch the removed license/enterprise services; "already activated" with our token is
success only for ``pach:root``, and a foreign token (seen at WhoAmI: pachd says "already
activated" to anyone) is an error that says how to recover; the root token rotates on update; a
changed 2.11 licence is applied on update with licence calls only, and resumes after a
failure; delete never deactivates auth unless asked; connector updates send the *stored* version
+ 1 and adopt leftovers; a Dex client with another secret is replaced; read
reports live state so drift shows on refresh and a vanished object reads as gone; check/diff are
pure (no pachd call) and tolerate unknowns; ints arriving as floats compare equal; and no
exception message ever carries the root token, a client secret, a connector secret or the
license key.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from pachyderm_sdk.api import identity
from pulumi.output import Unknown

from components.pachyderm_auth.activation import ActivationProvider, foreign_token_message
from components.pachyderm_auth.auth_config import AuthConfigProvider
from components.pachyderm_auth.base import PachdProvider
from components.pachyderm_auth.identity_config import IdentityConfigProvider
from components.pachyderm_auth.idp_connector import (
    ConnectorProvider,
    ConnectorState,
    connector_config,
)
from components.pachyderm_auth.oidc_client import OidcClientProvider
from components.pachyderm_auth.pachd import PachdError
from components.pachyderm_auth.pachd_project import ProjectProvider
from components.pachyderm_auth.resource_binding import (
    ProjectRoleBindingProvider,
    RepoRoleBindingProvider,
)
from components.pachyderm_auth.role_binding import RoleBindingProvider
from testkit.auth_props import ISSUER, OKTA_ISSUER, AuthProps
from testkit.fake_pachd import BAD_TOKEN, FakePachd, dict_to_struct

ROOT = "test-root-token-provider-0001"
NEW_ROOT = "test-root-token-provider-rotated-0002"
NEW_LICENSE = "test-license-key-provider-renewed-0010"
NEW_ENTERPRISE_SECRET = "test-enterprise-secret-renewed-0011"
FOREIGN_ROOT = "test-foreign-root-token-0003"
LICENSE = "test-license-key-provider-0004"
ENTERPRISE_SECRET = "test-enterprise-secret-0005"
PACHD_SECRET = "test-pachd-client-secret-0006"
CONSOLE_SECRET = "test-console-client-secret-0007"
OKTA_SECRET = "test-okta-client-secret-0008"
STALE_SECRET = "test-stale-client-secret-0009"
ALL_SECRETS = (
    ROOT,
    NEW_ROOT,
    FOREIGN_ROOT,
    LICENSE,
    ENTERPRISE_SECRET,
    PACHD_SECRET,
    CONSOLE_SECRET,
    OKTA_SECRET,
    STALE_SECRET,
    NEW_LICENSE,
    NEW_ENTERPRISE_SECRET,
)
UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

SEQUENCE_2_12 = ["version.GetVersion", "auth.Activate", "pfs.ActivateAuth", "pps.ActivateAuth"]
SEQUENCE_2_11 = [
    "version.GetVersion",
    "enterprise.GetState",
    "license.Activate",
    "admin.InspectCluster",
    "license.AddCluster",
    "enterprise.Activate",
    "auth.Activate",
    "pfs.ActivateAuth",
    "pps.ActivateAuth",
]


# --- fixtures and helpers -----------------------------------------------------------------------


@pytest.fixture
def legacy() -> Iterator[FakePachd]:
    with FakePachd(version=(2, 11, 6)) as server:
        yield server


PROPS = AuthProps(
    root_token=ROOT,
    license_key=LICENSE,
    enterprise_secret=ENTERPRISE_SECRET,
    pachd_secret=PACHD_SECRET,
    okta_secret=OKTA_SECRET,
    timeout_seconds=2,
)


def _conn(fake: FakePachd, token: str = ROOT) -> dict[str, Any]:
    return PROPS.connection(fake.address, token)


def _activation(fake: FakePachd, **extra: Any) -> dict[str, Any]:
    return PROPS.activation(fake.address, **extra)


def _legacy_activation(fake: FakePachd, **extra: Any) -> dict[str, Any]:
    return PROPS.activation(fake.address, legacy=True, **extra)


def _activate(fake: FakePachd, token: str = ROOT) -> None:
    """Auth active with ``token`` as root, then forget the calls it took."""
    ActivationProvider().create(
        {**PROPS.activation(fake.address, legacy=fake.legacy), "root_token": token}
    )
    fake.reset_calls()


def _identity(fake: FakePachd, **extra: Any) -> dict[str, Any]:
    return PROPS.identity(fake.address, **extra)


def _okta_config(**extra: Any) -> dict[str, Any]:
    return PROPS.okta_config(**extra)


def _connector(fake: FakePachd, **extra: Any) -> dict[str, Any]:
    return PROPS.connector(fake.address, **extra)


def _client(fake: FakePachd, **extra: Any) -> dict[str, Any]:
    return PROPS.client(fake.address, **extra)


def _auth_config(fake: FakePachd, **extra: Any) -> dict[str, Any]:
    return PROPS.auth_config(fake.address, **extra)


def _binding(fake: FakePachd, principal: str = "group:admins", **extra: Any) -> dict[str, Any]:
    return PROPS.binding(fake.address, principal, **extra)


def _repo_binding(fake: FakePachd) -> dict[str, Any]:
    """A binding on ``default/raw``, a repo the fake has (with pachd's empty binding for it)."""
    fake.state.repos.add("default/raw")
    fake.state.resource_role_bindings.setdefault("REPO:default/raw", {})
    return {**_binding(fake, roles=["repoReader"]), "repo": "default/raw"}


def _no_secret(text: str) -> None:
    for secret in ALL_SECRETS:
        assert secret not in text, f"secret leaked: {text}"


def _raises(fn: Callable[[], Any]) -> PachdError:
    with pytest.raises(PachdError) as raised:
        fn()
    _no_secret(str(raised.value))
    _no_secret(repr(raised.value))
    return raised.value


def _assert_auth_active_with(fake: FakePachd, token: str) -> None:
    state = fake.state
    assert state.auth_active
    assert state.root_token == token
    assert state.tokens == {token: "pach:root"}
    assert state.pfs_auth_active
    assert state.pps_auth_active


# Every provider with props builders, for the generic rules.
PROVIDERS: dict[str, tuple[type[PachdProvider[Any]], Callable[[FakePachd], dict[str, Any]]]] = {
    "activation": (ActivationProvider, _activation),
    "identity": (IdentityConfigProvider, _identity),
    "connector": (ConnectorProvider, _connector),
    "oidc-client": (OidcClientProvider, _client),
    "auth-config": (AuthConfigProvider, _auth_config),
    "role-binding": (RoleBindingProvider, _binding),
    "project": (ProjectProvider, lambda fake: {**_conn(fake), "name": "team-a"}),
    "project-binding": (
        ProjectRoleBindingProvider,
        lambda fake: {**_binding(fake, roles=["projectOwner"]), "project": "default"},
    ),
    "repo-binding": (RepoRoleBindingProvider, _repo_binding),
}


# --- activation: 2.12 ---------------------------------------------------------------------------


def test_activation_2_12_calls_and_end_state(fake: FakePachd) -> None:
    result = ActivationProvider().create(_activation(fake))
    assert fake.calls == SEQUENCE_2_12
    assert not any(c.startswith(("license.", "enterprise.")) for c in fake.calls)
    _assert_auth_active_with(fake, ROOT)
    assert result.id == "pachyderm-auth"
    assert result.outs == {**_activation(fake), "pachd_version": "2.12.2"}
    assert fake.state.license_code is None
    assert fake.state.enterprise_state == "NONE"


def test_activation_2_12_ignores_a_license_key(fake: FakePachd) -> None:
    ActivationProvider().create(_legacy_activation(fake))
    assert fake.calls == SEQUENCE_2_12
    _assert_auth_active_with(fake, ROOT)


def test_activation_2_11_licenses_registers_and_activates_enterprise_first(
    legacy: FakePachd,
) -> None:
    result = ActivationProvider().create(_legacy_activation(legacy))
    assert legacy.calls == SEQUENCE_2_11
    _assert_auth_active_with(legacy, ROOT)
    state = legacy.state
    assert state.license_code == LICENSE
    assert state.enterprise_state == "ACTIVE"
    assert state.license_clusters == {
        "localhost": {
            "id": "localhost",
            "address": "grpc://localhost:1653",
            "user_address": "grpc://localhost:1653",
            "cluster_deployment_id": "fake-deployment",
            "secret": ENTERPRISE_SECRET,
            "enterprise_server": True,
        }
    }
    assert state.enterprise_config == {
        "license_server": "grpc://localhost:1653",
        "id": "localhost",
        "secret": ENTERPRISE_SECRET,
    }
    assert result.outs is not None
    assert result.outs["pachd_version"] == "2.11.6"


def test_activation_2_11_registers_the_stacks_secret_when_enterprise_is_already_active(
    legacy: FakePachd,
) -> None:
    # A create resumed after a failure, or a cluster adopted with its enterprise active: the
    # stack's licence and secret are registered, so a later licence change can authenticate.
    _activate(legacy)
    legacy.state.license_clusters["localhost"]["secret"] = "someone-elses-secret"
    ActivationProvider().create(_legacy_activation(legacy))
    assert legacy.calls == [
        "version.GetVersion",
        "enterprise.GetState",
        "license.GetActivationCode",
        "license.Activate",
        "admin.InspectCluster",
        "license.AddCluster",
        "license.UpdateCluster",
        "enterprise.Activate",
        "auth.Activate",
        "auth.WhoAmI",
        "pfs.ActivateAuth",
        "pps.ActivateAuth",
    ]
    assert legacy.state.license_clusters["localhost"]["secret"] == ENTERPRISE_SECRET
    assert legacy.state.enterprise_config == _enterprise_config(ENTERPRISE_SECRET)


def test_an_adopted_2_11_cluster_takes_a_later_licence_change(legacy: FakePachd) -> None:
    # Licensed and activated by hand, with a registration secret the stack never saw.
    legacy.client().license.activate(activation_code=LICENSE)
    legacy.client().license.add_cluster(
        id="localhost", address="grpc://localhost:1653", secret="by-hand", enterprise_server=True
    )
    legacy.client().enterprise.activate(
        license_server="grpc://localhost:1653", id="localhost", secret="by-hand"
    )
    _activate(legacy)
    created = ActivationProvider().create(_legacy_activation(legacy))
    assert created.outs is not None
    legacy.reset_calls()

    news = _legacy_activation(legacy, license_key=NEW_LICENSE)
    ActivationProvider().update("pachyderm-auth", created.outs, news)

    assert legacy.state.enterprise_state == "ACTIVE"
    assert legacy.state.enterprise_license_code == NEW_LICENSE
    assert "enterprise.Activate" in legacy.calls


def test_an_enterprise_member_is_refused_with_what_to_do(legacy: FakePachd) -> None:
    # Enterprise active, but licensed by an enterprise server: its own license service is empty.
    legacy.state.enterprise_state = "ACTIVE"
    error = _raises(lambda: ActivationProvider().create(_legacy_activation(legacy)))
    assert str(error) == (
        f"pachd at {legacy.address} has enterprise active, but its own license service holds no "
        "licence: it is an enterprise member, licensed by an enterprise server. This program "
        "licenses a standalone 2.11 cluster itself; deploy the cluster standalone, or upgrade to "
        "2.12, which needs no licence"
    )
    assert legacy.writes() == []


def test_a_foreign_root_token_on_2_11_without_enterprise_gets_the_adoption_message(
    legacy: FakePachd,
) -> None:
    _activate(legacy, FOREIGN_ROOT)
    legacy.state.enterprise_state = "EXPIRED"
    error = _raises(lambda: ActivationProvider().create(_legacy_activation(legacy)))
    assert str(error) == foreign_token_message(legacy.address, f"UNAUTHENTICATED: {BAD_TOKEN}")
    assert legacy.calls[-1] == "license.Activate"


def test_activation_2_11_without_a_license_says_how_to_set_one(legacy: FakePachd) -> None:
    error = _raises(lambda: ActivationProvider().create(_activation(legacy)))
    assert "pachyderm-okta:licenseKey" in str(error)
    assert legacy.writes() == []
    assert not legacy.state.auth_active


def _resume_cases() -> list[Any]:
    cases = []
    for version, sequence in (((2, 12, 2), SEQUENCE_2_12), ((2, 11, 6), SEQUENCE_2_11)):
        for method in sequence:
            for after in (False, True):
                label = f"{version[0]}.{version[1]}-{method}-{'after' if after else 'before'}"
                cases.append(pytest.param(version, method, after, id=label))
    return cases


@pytest.mark.parametrize(("version", "method", "after"), _resume_cases())
def test_activation_resumes_after_a_failure_at_every_step(
    version: tuple[int, int, int], method: str, after: bool
) -> None:
    with FakePachd(version=version) as server:
        server.inject(method, grpc.StatusCode.INTERNAL, f"injected {ROOT} {LICENSE}", after=after)
        props = _legacy_activation(server)
        provider = ActivationProvider()
        error = _raises(lambda: provider.create(props))
        assert server.address in str(error)
        assert server.pending_faults() == {}
        result = provider.create(props)
        assert result.outs is not None
        assert result.outs["pachd_version"] == ".".join(map(str, version))
        _assert_auth_active_with(server, ROOT)
        if server.legacy:
            assert server.state.enterprise_state == "ACTIVE"
            assert server.state.license_clusters["localhost"]["secret"] == ENTERPRISE_SECRET
        else:
            assert not any(c.startswith(("license.", "enterprise.")) for c in server.calls)
        # A third run (e.g. `pulumi up` after an import) is a no-op success too.
        provider.create(props)
        _assert_auth_active_with(server, ROOT)


def test_already_active_with_our_token_is_success_after_whoami(fake: FakePachd) -> None:
    _activate(fake)
    result = ActivationProvider().create(_activation(fake))
    assert fake.calls == [
        "version.GetVersion",
        "auth.Activate",
        "auth.WhoAmI",
        "pfs.ActivateAuth",
        "pps.ActivateAuth",
    ]
    assert result.outs is not None
    _assert_auth_active_with(fake, ROOT)


@pytest.mark.parametrize("version", [(2, 12, 2), (2, 11, 6)])
def test_foreign_root_token_is_a_clear_error(version: tuple[int, int, int]) -> None:
    # On an active cluster pachd checks the caller's token before "already activated"
    # (docs/decisions.md, decision 30): the foreign auth shows at Activate itself.
    with FakePachd(version=version) as server:
        _activate(server, FOREIGN_ROOT)
        error = _raises(lambda: ActivationProvider().create(_legacy_activation(server)))
        assert str(error) == foreign_token_message(server.address, f"UNAUTHENTICATED: {BAD_TOKEN}")
        assert error.code == grpc.StatusCode.UNAUTHENTICATED
        # 2.11: its enterprise is active, and the licence check is the first admin call.
        first_admin_call = "auth.Activate" if version >= (2, 12, 0) else "license.GetActivationCode"
        assert server.calls[-1] == first_admin_call
        assert server.state.root_token == FOREIGN_ROOT


def test_our_token_as_a_non_root_user_is_refused(fake: FakePachd) -> None:
    _activate(fake, FOREIGN_ROOT)
    fake.state.tokens[ROOT] = "user:alice@example.com"
    error = _raises(lambda: ActivationProvider().create(_activation(fake)))
    assert "'user:alice@example.com'" in str(error)
    assert "pachyderm-okta:rootToken" in str(error)
    assert "pfs.ActivateAuth" not in fake.calls


def _licence_state(server: FakePachd) -> tuple[Any, ...]:
    """The licence, the enterprise record and registration, and whether root still works."""
    state = server.state
    root = server.client(ROOT)
    try:
        username = root.auth.who_am_i().username
    finally:
        root._channel.close()
    return (
        state.license_code,
        state.enterprise_state,
        state.enterprise_license_code,
        state.license_clusters["localhost"]["secret"],
        state.enterprise_config,
        username,
    )


def _enterprise_config(secret: str) -> dict[str, str]:
    return {"license_server": "grpc://localhost:1653", "id": "localhost", "secret": secret}


@pytest.mark.parametrize(
    ("change", "calls", "licence", "secret"),
    [
        pytest.param(
            {"license_key": NEW_LICENSE},
            ["license.Activate", "enterprise.Activate"],
            NEW_LICENSE,
            ENTERPRISE_SECRET,
            id="key",
        ),
        pytest.param(
            {"enterprise_secret": NEW_ENTERPRISE_SECRET},
            ["license.UpdateCluster", "enterprise.Activate"],
            LICENSE,
            NEW_ENTERPRISE_SECRET,
            id="secret",
        ),
        pytest.param(
            {"license_key": NEW_LICENSE, "enterprise_secret": NEW_ENTERPRISE_SECRET},
            ["license.Activate", "license.UpdateCluster", "enterprise.Activate"],
            NEW_LICENSE,
            NEW_ENTERPRISE_SECRET,
            id="both",
        ),
    ],
)
def test_a_changed_2_11_licence_is_applied_while_enterprise_is_active(
    legacy: FakePachd, change: dict[str, str], calls: list[str], licence: str, secret: str
) -> None:
    _activate(legacy)
    olds = {**_legacy_activation(legacy), "pachd_version": "2.11.6"}
    news = _legacy_activation(legacy, **change)
    result = ActivationProvider().update("pachyderm-auth", olds, news)
    assert legacy.calls == ["version.GetVersion", *calls]
    assert _licence_state(legacy) == (
        licence,
        "ACTIVE",
        licence,
        secret,
        _enterprise_config(secret),
        "pach:root",
    )
    _assert_auth_active_with(legacy, ROOT)
    assert result.outs == {**news, "pachd_version": "2.11.6"}


@pytest.mark.parametrize(
    ("method", "after"),
    [
        (method, after)
        for method in ("license.Activate", "license.UpdateCluster", "enterprise.Activate")
        for after in (False, True)
    ],
)
def test_a_licence_change_resumes_after_a_failure(
    legacy: FakePachd, method: str, after: bool
) -> None:
    # On failure the engine keeps the old outputs: the re-run sends the whole change again.
    _activate(legacy)
    olds = _legacy_activation(legacy)
    news = _legacy_activation(
        legacy, license_key=NEW_LICENSE, enterprise_secret=NEW_ENTERPRISE_SECRET
    )
    echo = f"injected {LICENSE} {NEW_LICENSE} {ENTERPRISE_SECRET} {NEW_ENTERPRISE_SECRET}"
    legacy.inject(method, grpc.StatusCode.INTERNAL, echo, after=after)
    error = _raises(lambda: ActivationProvider().update("pachyderm-auth", olds, news))
    assert error.code == grpc.StatusCode.INTERNAL
    assert legacy.pending_faults() == {}
    ActivationProvider().update("pachyderm-auth", olds, news)
    assert _licence_state(legacy) == (
        NEW_LICENSE,
        "ACTIVE",
        NEW_LICENSE,
        NEW_ENTERPRISE_SECRET,
        _enterprise_config(NEW_ENTERPRISE_SECRET),
        "pach:root",
    )


def test_a_changed_licence_costs_pachd_nothing_on_2_12(fake: FakePachd) -> None:
    _activate(fake)
    olds = {**_legacy_activation(fake), "pachd_version": "2.12.2"}
    ActivationProvider().update("x", olds, _legacy_activation(fake, license_key=NEW_LICENSE))
    assert fake.calls == ["version.GetVersion"]


def test_a_changed_licence_and_root_token_rotate_then_apply_the_licence(
    legacy: FakePachd,
) -> None:
    _activate(legacy)
    olds = _legacy_activation(legacy)
    news = _legacy_activation(legacy, root_token=NEW_ROOT, license_key=NEW_LICENSE)
    ActivationProvider().update("pachyderm-auth", olds, news)
    assert legacy.calls == [
        "version.GetVersion",
        "auth.RotateRootToken",
        "license.Activate",
        "enterprise.Activate",
    ]
    _assert_auth_active_with(legacy, NEW_ROOT)
    assert (legacy.state.license_code, legacy.state.enterprise_license_code) == (
        NEW_LICENSE,
        NEW_LICENSE,
    )


def test_a_changed_licence_is_applied_when_auth_was_deactivated_meanwhile(
    legacy: FakePachd,
) -> None:
    _activate(legacy)
    root = legacy.client(ROOT)
    root.auth.deactivate()
    root._channel.close()
    legacy.reset_calls()
    olds = _legacy_activation(legacy)
    news = _legacy_activation(legacy, root_token=NEW_ROOT, license_key=NEW_LICENSE)
    ActivationProvider().update("pachyderm-auth", olds, news)
    _assert_auth_active_with(legacy, NEW_ROOT)
    assert (legacy.state.license_code, legacy.state.enterprise_license_code) == (
        NEW_LICENSE,
        NEW_LICENSE,
    )


def test_root_token_rotation_on_update(fake: FakePachd) -> None:
    _activate(fake)
    olds = {**_activation(fake), "pachd_version": "2.12.2"}
    news = _activation(fake, root_token=NEW_ROOT)
    result = ActivationProvider().update("pachyderm-auth", olds, news)
    # A new root token is one write: auth stays active, nothing else is re-sent.
    assert fake.calls == ["version.GetVersion", "auth.RotateRootToken"]
    _assert_auth_active_with(fake, NEW_ROOT)
    assert result.outs == {**news, "pachd_version": "2.12.2"}


@pytest.mark.parametrize(
    ("method", "after"),
    [
        ("version.GetVersion", False),
        ("auth.RotateRootToken", False),
        ("auth.RotateRootToken", True),
    ],
)
def test_root_token_rotation_resumes_after_a_failure(
    fake: FakePachd, method: str, after: bool
) -> None:
    # On failure the engine keeps the old outputs, so the re-run rotates from the old token again.
    _activate(fake)
    olds = {**_activation(fake), "pachd_version": "2.12.2"}
    news = _activation(fake, root_token=NEW_ROOT)
    # Only RotateRootToken carries both tokens; the later calls are sent with the new one.
    echo = f"injected {ROOT} {NEW_ROOT}" if method == "auth.RotateRootToken" else NEW_ROOT
    fake.inject(method, grpc.StatusCode.INTERNAL, echo, after=after)
    _raises(lambda: ActivationProvider().update("pachyderm-auth", olds, news))
    assert fake.pending_faults() == {}
    result = ActivationProvider().update("pachyderm-auth", olds, news)
    assert result.outs == {**news, "pachd_version": "2.12.2"}
    _assert_auth_active_with(fake, NEW_ROOT)


def test_rotation_with_neither_token_valid_says_how_to_recover(fake: FakePachd) -> None:
    _activate(fake, FOREIGN_ROOT)
    olds = _activation(fake)
    error = _raises(
        lambda: ActivationProvider().update("x", olds, _activation(fake, root_token=NEW_ROOT))
    )
    assert "pachyderm-okta:rootToken" in str(error)
    assert fake.state.root_token == FOREIGN_ROOT


def test_rotation_refused_when_helm_supplies_the_root_token(fake: FakePachd) -> None:
    _activate(fake)
    fake.state.root_token_from_env = True
    olds = _activation(fake)
    error = _raises(
        lambda: ActivationProvider().update("x", olds, _activation(fake, root_token=NEW_ROOT))
    )
    assert "RotateRootToken() is disabled" in str(error)
    _assert_auth_active_with(fake, ROOT)


def test_activation_read_reports_root_and_gone(fake: FakePachd) -> None:
    provider = ActivationProvider()
    props = {**_activation(fake), "pachd_version": "2.12.2"}
    assert provider.read("pachyderm-auth", props).id is None
    _activate(fake)
    read = provider.read("pachyderm-auth", props)
    assert read.id == "pachyderm-auth"
    # pachd_version is what pachd reported at activation: refresh keeps it.
    assert read.outs == {**props, "root_principal": "pach:root"}
    assert fake.calls == ["auth.WhoAmI"]


def test_activation_read_with_a_foreign_token_says_how_to_recover(fake: FakePachd) -> None:
    _activate(fake, FOREIGN_ROOT)
    error = _raises(lambda: ActivationProvider().read("pachyderm-auth", _activation(fake)))
    assert "pachyderm-okta:rootToken" in str(error)


def test_activation_delete_leaves_auth_active_without_a_pachd_call(fake: FakePachd) -> None:
    _activate(fake)
    fake.stop()  # not even reachable: delete must not try
    ActivationProvider().delete("pachyderm-auth", _activation(fake))
    assert fake.calls == []
    assert fake.state.auth_active


def test_activation_delete_deactivates_when_asked(fake: FakePachd) -> None:
    _activate(fake)
    fake.state.connectors["okta"] = {
        "id": "okta",
        "name": "Okta",
        "type": "oidc",
        "config_version": 0,
        "config": {},
    }
    ActivationProvider().delete("pachyderm-auth", _activation(fake, deactivate_on_delete=True))
    assert fake.calls == ["identity.DeleteAll", "auth.Deactivate"]
    assert not fake.state.auth_active
    assert fake.state.connectors == {}
    assert fake.state.tokens == {}


def test_activation_delete_with_deactivate_tolerates_inactive_auth(fake: FakePachd) -> None:
    ActivationProvider().delete("pachyderm-auth", _activation(fake, deactivate_on_delete=True))
    assert fake.calls == ["identity.DeleteAll"]


# --- identity server config ---------------------------------------------------------------------


def test_identity_config_lifecycle(fake: FakePachd) -> None:
    _activate(fake)
    provider = IdentityConfigProvider()
    created = provider.create(_identity(fake))
    assert fake.calls == ["identity.SetIdentityServerConfig"]
    assert created.id == "identity-server-config"
    assert created.outs == _identity(fake)
    assert fake.state.identity_config == {
        "issuer": ISSUER,
        "id_token_expiry": "24h",
        "rotation_token_expiry": "48h",
    }

    fake.reset_calls()
    news = _identity(fake, id_token_expiry="12h")
    updated = provider.update(created.id, _identity(fake), news)
    assert updated.outs == news
    assert fake.calls == ["identity.SetIdentityServerConfig"]
    assert fake.state.identity_config["id_token_expiry"] == "12h"

    fake.state.identity_config["issuer"] = "http://drifted/dex"
    fake.reset_calls()
    read = provider.read(created.id, news)
    assert fake.calls == ["identity.GetIdentityServerConfig"]
    assert read.outs == {**news, "issuer": "http://drifted/dex"}

    fake.reset_calls()
    provider.delete(created.id, news)
    assert fake.calls == []
    assert fake.state.identity_config["issuer"] == "http://drifted/dex"


def test_identity_config_read_when_auth_is_off_is_gone(fake: FakePachd) -> None:
    assert IdentityConfigProvider().read("identity-server-config", _identity(fake)).id is None


@pytest.mark.parametrize(
    ("version", "verb"), [((2, 12, 2), "disabled"), ((2, 11, 6), "disable")], ids=["2.12", "2.11"]
)
def test_identity_config_refused_when_env_managed(version: tuple[int, int, int], verb: str) -> None:
    with FakePachd(version=version, env_managed_identity=True) as server:
        _activate(server)
        error = _raises(lambda: IdentityConfigProvider().create(_identity(server)))
        assert str(error) == (
            f"setting the identity server config failed at {server.address}: UNKNOWN: "
            f"identity.SetIdentityServerConfig() is {verb} when the Identity Config is set via "
            "environment. - the Helm release manages identity (oidc.mockIDP or "
            "oidc.upstreamIDPs is set); this program owns identity through pachd's API, so the "
            "release must set neither"
        )


# --- IDP connector ------------------------------------------------------------------------------


def _stored_connector(version: int, config: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": "okta",
        "name": "Okta",
        "type": "oidc",
        "config_version": version,
        "config": config if config is not None else _okta_config(),
    }


def test_connector_create_sends_json_config(fake: FakePachd) -> None:
    _activate(fake)
    created = ConnectorProvider().create(_connector(fake))
    assert fake.calls == ["identity.CreateIDPConnector"]
    assert fake.state.connectors == {"okta": _stored_connector(0)}
    assert created.id == "okta"
    assert created.outs == {**_connector(fake), "config_version": 0}


def test_connector_create_builds_the_message_from_json() -> None:
    message = ConnectorProvider()._connector(
        ConnectorState.model_validate(_connector_props_offline()), 3
    )
    assert message.config_version == 3
    assert json.loads(message.json_config) == _okta_config()
    assert not message.config.fields


def _connector_props_offline() -> dict[str, Any]:
    return {
        "pachd_address": "grpc://h:1",
        "root_token": ROOT,
        "connector_id": "okta",
        "name": "Okta",
        "config": _okta_config(),
    }


def test_connector_update_reads_the_stored_version_and_sends_plus_one(fake: FakePachd) -> None:
    _activate(fake)
    provider = ConnectorProvider()
    created = provider.create(_connector(fake))
    assert created.outs is not None
    fake.reset_calls()
    news = _connector(fake, config=_okta_config(clientID="0oa2client"))
    updated = provider.update("okta", created.outs, news)
    assert fake.calls == ["identity.GetIDPConnector", "identity.UpdateIDPConnector"]
    assert updated.outs == {**news, "config_version": 1}
    assert fake.state.connectors["okta"] == _stored_connector(
        1, _okta_config(clientID="0oa2client")
    )


def test_connector_update_respects_a_version_bumped_elsewhere(fake: FakePachd) -> None:
    _activate(fake)
    fake.state.connectors["okta"] = _stored_connector(7)
    olds = {**_connector(fake), "config_version": 0.0}  # our stale record, a float off the wire
    news = _connector(fake, name="Okta SSO")
    updated = ConnectorProvider().update("okta", olds, news)
    assert updated.outs is not None
    assert updated.outs["config_version"] == 8
    assert fake.state.connectors["okta"]["config_version"] == 8
    assert fake.state.connectors["okta"]["name"] == "Okta SSO"


def test_connector_create_adopts_an_existing_connector(fake: FakePachd) -> None:
    _activate(fake)
    fake.state.connectors["okta"] = _stored_connector(3, {"issuer": OKTA_ISSUER, "old": True})
    created = ConnectorProvider().create(_connector(fake))
    assert fake.calls == [
        "identity.CreateIDPConnector",
        "identity.GetIDPConnector",
        "identity.UpdateIDPConnector",
    ]
    assert created.outs is not None
    assert created.outs["config_version"] == 4
    assert fake.state.connectors["okta"] == _stored_connector(4)


def test_connector_create_resumes_after_a_lost_response(fake: FakePachd) -> None:
    _activate(fake)
    fake.inject("identity.CreateIDPConnector", grpc.StatusCode.UNAVAILABLE, "reset", after=True)
    _raises(lambda: ConnectorProvider().create(_connector(fake)))
    created = ConnectorProvider().create(_connector(fake))
    assert created.outs is not None
    assert created.outs["config_version"] == 1
    assert fake.state.connectors["okta"] == _stored_connector(1)


def test_connector_read_reports_drift_and_gone(fake: FakePachd) -> None:
    _activate(fake)
    provider = ConnectorProvider()
    created = provider.create(_connector(fake))
    assert created.outs is not None
    outs = created.outs

    read = provider.read("okta", outs)
    assert read.id == "okta"
    assert read.outs == outs

    stored = fake.state.connectors["okta"]
    stored["config"]["insecureEnableGroups"] = False
    stored["name"] = "Renamed"
    stored["config_version"] = 5
    read = provider.read("okta", outs)
    assert read.outs == {
        **outs,
        "name": "Renamed",
        "config": _okta_config(insecureEnableGroups=False),
        "config_version": 5,
    }
    diff = provider.diff("okta", read.outs, _connector(fake))
    assert diff.changes

    del fake.state.connectors["okta"]
    fake.reset_calls()
    gone = provider.read("okta", outs)
    assert gone.id is None
    assert fake.calls == ["identity.GetIDPConnector"]


def test_connector_delete_and_delete_when_gone(fake: FakePachd) -> None:
    _activate(fake)
    provider = ConnectorProvider()
    provider.create(_connector(fake))
    fake.state.connectors["other"] = {**_stored_connector(0), "id": "other"}
    provider.delete("okta", _connector(fake))
    assert list(fake.state.connectors) == ["other"]
    provider.delete("okta", _connector(fake))
    assert fake.calls.count("identity.DeleteIDPConnector") == 2


def test_connector_delete_when_auth_is_off(fake: FakePachd) -> None:
    ConnectorProvider().delete("okta", _connector(fake))


def test_connector_unreachable_issuer_explains_egress(fake: FakePachd) -> None:
    _activate(fake)
    fake.state.unreachable_issuers.add(OKTA_ISSUER)
    error = _raises(lambda: ConnectorProvider().create(_connector(fake)))
    assert "unable to open connector" in str(error)
    assert "the pachd pods have no route to Okta" in str(error)


def test_connector_refused_when_env_managed() -> None:
    with FakePachd(env_managed_identity=True) as server:
        _activate(server)
        error = _raises(lambda: ConnectorProvider().create(_connector(server)))
    assert "oidc.mockIDP or oidc.upstreamIDPs is set" in str(error)


def test_connector_config_as_returned_by_pachd() -> None:
    connector = identity.IdpConnector(
        id="okta",
        config=dict_to_struct({"a": 1, "b": [True, "x"], "c": {"d": None}}),
    )
    assert connector_config(connector) == {"a": 1.0, "b": [True, "x"], "c": {"d": None}}
    assert connector_config(identity.IdpConnector(json_config='{"k": "v"}')) == {"k": "v"}


# --- OIDC clients -------------------------------------------------------------------------------


def test_oidc_client_create_with_our_secret(fake: FakePachd) -> None:
    _activate(fake)
    created = OidcClientProvider().create(_client(fake))
    assert fake.calls == ["identity.CreateOIDCClient"]
    assert created.id == "pachd"
    assert created.outs == _client(fake)
    assert fake.state.oidc_clients == {
        "pachd": {
            "id": "pachd",
            "name": "pachd",
            "secret": PACHD_SECRET,
            "redirect_uris": ["http://192.168.49.2:30080/authorization-code/callback"],
            "trusted_peers": ["console"],
        }
    }


def test_oidc_client_secret_change_is_a_delete_before_replace(fake: FakePachd) -> None:
    provider = OidcClientProvider()
    diff = provider.diff("pachd", _client(fake), _client(fake, secret=CONSOLE_SECRET))
    assert diff.changes
    assert diff.replaces == ["secret"]
    assert diff.delete_before_replace
    assert fake.calls == []


def test_oidc_client_redirect_change_is_an_in_place_update(fake: FakePachd) -> None:
    _activate(fake)
    provider = OidcClientProvider()
    provider.create(_client(fake))
    news = _client(fake, redirect_uris=["https://new.example/authorization-code/callback"])
    diff = provider.diff("pachd", _client(fake), news)
    assert diff.changes
    assert diff.replaces == []
    fake.reset_calls()
    updated = provider.update("pachd", _client(fake), news)
    assert fake.calls == ["identity.UpdateOIDCClient"]
    assert updated.outs == news
    stored = fake.state.oidc_clients["pachd"]
    assert stored["redirect_uris"] == ["https://new.example/authorization-code/callback"]
    assert stored["secret"] == PACHD_SECRET


def test_oidc_client_create_replaces_a_client_with_another_secret(fake: FakePachd) -> None:
    _activate(fake)
    fake.state.oidc_clients["pachd"] = {
        "id": "pachd",
        "name": "pachd",
        "secret": STALE_SECRET,
        "redirect_uris": ["http://localhost:30657/authorization-code/callback"],
        "trusted_peers": [],
    }
    OidcClientProvider().create(_client(fake))
    assert fake.calls == [
        "identity.CreateOIDCClient",
        "identity.GetOIDCClient",
        "identity.DeleteOIDCClient",
        "identity.CreateOIDCClient",
    ]
    assert fake.state.oidc_clients["pachd"]["secret"] == PACHD_SECRET
    assert fake.state.oidc_clients["pachd"]["trusted_peers"] == ["console"]


def test_oidc_client_create_adopts_a_client_with_our_secret(fake: FakePachd) -> None:
    _activate(fake)
    fake.state.oidc_clients["pachd"] = {
        "id": "pachd",
        "name": "old",
        "secret": PACHD_SECRET,
        "redirect_uris": ["http://old/cb"],
        "trusted_peers": ["console"],
    }
    OidcClientProvider().create(_client(fake))
    assert fake.calls == [
        "identity.CreateOIDCClient",
        "identity.GetOIDCClient",
        "identity.UpdateOIDCClient",
    ]
    assert fake.state.oidc_clients["pachd"]["name"] == "pachd"
    assert fake.state.oidc_clients["pachd"]["redirect_uris"] == [
        "http://192.168.49.2:30080/authorization-code/callback"
    ]


def test_oidc_client_read_drift_gone_and_recreate(fake: FakePachd) -> None:
    _activate(fake)
    provider = OidcClientProvider()
    created = provider.create(_client(fake))
    assert created.outs is not None
    assert provider.read("pachd", created.outs).outs == created.outs

    fake.state.oidc_clients["pachd"]["secret"] = STALE_SECRET
    fake.state.oidc_clients["pachd"]["trusted_peers"] = []
    read = provider.read("pachd", created.outs)
    assert read.outs == {**created.outs, "secret": STALE_SECRET, "trusted_peers": []}
    diff = provider.diff("pachd", read.outs, _client(fake))
    assert diff.replaces == ["secret"]

    del fake.state.oidc_clients["pachd"]
    assert provider.read("pachd", created.outs).id is None
    provider.create(_client(fake))
    assert fake.state.oidc_clients["pachd"]["secret"] == PACHD_SECRET


def test_oidc_client_delete_and_delete_when_gone(fake: FakePachd) -> None:
    _activate(fake)
    provider = OidcClientProvider()
    provider.create(_client(fake))
    provider.create(_client(fake, client_id="console", name="console", secret=CONSOLE_SECRET))
    provider.delete("pachd", _client(fake))
    assert list(fake.state.oidc_clients) == ["console"]
    provider.delete("pachd", _client(fake))
    assert list(fake.state.oidc_clients) == ["console"]


# --- auth configuration -------------------------------------------------------------------------


def test_auth_config_set_read_update_delete(fake: FakePachd) -> None:
    _activate(fake)
    IdentityConfigProvider().create(_identity(fake))
    fake.reset_calls()
    provider = AuthConfigProvider()
    created = provider.create(_auth_config(fake))
    assert fake.calls == ["auth.SetConfiguration"]
    assert created.id == "auth-oidc-config"
    assert created.outs == _auth_config(fake)
    expected = {key: value for key, value in _auth_config(fake).items() if key not in _conn(fake)}
    assert fake.state.auth_config == expected

    news = _auth_config(fake, require_email_verified=True, scopes=["openid", "email"])
    provider.update(created.id, _auth_config(fake), news)
    assert fake.state.auth_config is not None
    assert fake.state.auth_config["require_email_verified"] is True

    fake.state.auth_config["client_secret"] = STALE_SECRET
    read = provider.read(created.id, news)
    assert read.outs == {**news, "client_secret": STALE_SECRET}

    fake.reset_calls()
    provider.delete(created.id, news)
    assert fake.calls == []
    assert fake.state.auth_config is not None


def test_auth_config_issuer_mismatch_names_no_secret(fake: FakePachd) -> None:
    _activate(fake)
    # Dex serves discovery at the same path under another host: its issuer does not match.
    fake.state.identity_config["issuer"] = "http://elsewhere.example.com/dex"
    error = _raises(lambda: AuthConfigProvider().create(_auth_config(fake)))
    assert "issuer did not match" in str(error)
    _no_secret(str(error))


# --- role bindings ------------------------------------------------------------------------------


def test_role_binding_create_read_update_delete(fake: FakePachd) -> None:
    _activate(fake)
    provider = RoleBindingProvider()
    provider.create(_binding(fake, "group:others", roles=["repoReader"]))
    fake.reset_calls()
    created = provider.create(_binding(fake))
    # One read of what the principal held before, one write.
    assert fake.calls == ["auth.GetRoleBinding", "auth.ModifyRoleBinding"]
    assert created.id == "cluster/group:admins"
    assert created.outs == {**_binding(fake), "roles_before": []}
    assert fake.state.cluster_role_bindings["group:admins"] == {"clusterAdmin"}

    read = provider.read(created.id, created.outs)
    assert read.outs == created.outs

    news = _binding(fake, roles=["repoReader", "clusterAdmin"])
    fake.reset_calls()
    updated = provider.update(created.id, created.outs, news)
    assert fake.calls == ["auth.ModifyRoleBinding"]
    assert updated.outs == {**news, "roles_before": []}
    news = updated.outs
    assert fake.state.cluster_role_bindings["group:admins"] == {"clusterAdmin", "repoReader"}
    assert provider.read(created.id, news).outs == {
        **news,
        "roles": ["clusterAdmin", "repoReader"],
    }

    before = copy.deepcopy(fake.state.cluster_role_bindings)
    fake.reset_calls()
    provider.delete(created.id, news)
    assert fake.calls == ["auth.ModifyRoleBinding"]
    del before["group:admins"]
    assert fake.state.cluster_role_bindings == before
    assert "group:others" in fake.state.cluster_role_bindings
    assert provider.read(created.id, news).id is None


def test_deleting_a_binding_gives_back_the_roles_activation_seeded(fake: FakePachd) -> None:
    # Activate binds allClusterUsers to projectCreator (``activateInTransaction``, pachyderm
    # src/server/auth/server/api_server.go, 2.11.x and 2.12.x).
    _activate(fake)
    assert fake.state.cluster_role_bindings["allClusterUsers"] == {"projectCreator"}
    provider = RoleBindingProvider()
    props = _binding(fake, "allClusterUsers", roles=["clusterAdmin"])
    created = provider.create(props)
    assert created.outs is not None
    assert created.outs["roles_before"] == ["projectCreator"]
    assert fake.state.cluster_role_bindings["allClusterUsers"] == {"clusterAdmin"}

    # An update keeps what was held before the stack took the principal over.
    news = _binding(fake, "allClusterUsers", roles=["projectViewer"])
    updated = provider.update(created.id, created.outs, news)
    assert updated.outs is not None
    assert updated.outs["roles_before"] == ["projectCreator"]
    read = provider.read(created.id, updated.outs)
    assert read.outs is not None
    assert read.outs["roles_before"] == ["projectCreator"]

    fake.reset_calls()
    provider.delete(created.id, updated.outs)
    assert fake.calls == ["auth.ModifyRoleBinding"]
    assert fake.state.cluster_role_bindings["allClusterUsers"] == {"projectCreator"}


def test_an_adopted_binding_comes_back_whole(fake: FakePachd) -> None:
    _activate(fake)
    fake.state.cluster_role_bindings["group:ops"] = {"debugger", "repoReader"}
    provider = RoleBindingProvider()
    created = provider.create(_binding(fake, "group:ops", roles=["clusterAdmin"]))
    assert created.outs is not None
    assert created.outs["roles_before"] == ["debugger", "repoReader"]
    provider.delete(created.id, created.outs)
    assert fake.state.cluster_role_bindings["group:ops"] == {"debugger", "repoReader"}


def test_replacing_the_principal_gives_the_old_one_its_roles_back(fake: FakePachd) -> None:
    _activate(fake)
    provider = RoleBindingProvider()
    old = provider.create(_binding(fake, "allClusterUsers", roles=["projectViewer"])).outs
    # A replacement creates the new binding first, then deletes the old one.
    new = provider.create(_binding(fake, "group:viewers", roles=["projectViewer"])).outs
    assert old is not None
    assert new is not None
    provider.delete("cluster/allClusterUsers", old)
    bindings = fake.state.cluster_role_bindings
    assert bindings["allClusterUsers"] == {"projectCreator"}
    assert bindings["group:viewers"] == {"projectViewer"}
    provider.delete("cluster/group:viewers", new)
    assert "group:viewers" not in fake.state.cluster_role_bindings


@pytest.mark.parametrize("after", [False, True], ids=["refused", "answer-lost"])
def test_a_failed_create_leaves_the_held_roles_for_its_re_run(fake: FakePachd, after: bool) -> None:
    # after=True: pachd applied the binding and the answer was lost; the re-run must still read
    # what allClusterUsers held before the stack, not the stack's own roles.
    _activate(fake)
    provider = RoleBindingProvider()
    props = _binding(fake, "allClusterUsers", roles=["projectViewer"])
    fake.inject("auth.ModifyRoleBinding", grpc.StatusCode.UNAVAILABLE, after=after)
    _raises(lambda: provider.create(props))
    assert fake.state.cluster_role_bindings["allClusterUsers"] == {"projectCreator"}

    created = provider.create(props)
    assert created.outs is not None
    assert created.outs["roles_before"] == ["projectCreator"]
    provider.delete(created.id, created.outs)
    assert fake.state.cluster_role_bindings["allClusterUsers"] == {"projectCreator"}


def test_state_without_roles_before_deletes_the_binding(fake: FakePachd) -> None:
    # Outputs stored before roles_before existed: the binding is deleted, as it was then.
    _activate(fake)
    fake.state.cluster_role_bindings["allClusterUsers"] = {"projectViewer"}
    RoleBindingProvider().delete(
        "cluster/allClusterUsers", _binding(fake, "allClusterUsers", roles=["projectViewer"])
    )
    assert "allClusterUsers" not in fake.state.cluster_role_bindings


def test_role_binding_principal_change_replaces(fake: FakePachd) -> None:
    diff = RoleBindingProvider().diff("x", _binding(fake), _binding(fake, "group:ops"))
    assert diff.replaces == ["principal"]
    assert fake.calls == []


def test_role_binding_bad_role_fails_without_secrets(fake: FakePachd) -> None:
    _activate(fake)
    error = _raises(lambda: RoleBindingProvider().create(_binding(fake, roles=["superuser"])))
    assert 'unknown role "superuser"' in str(error)
    assert "cluster/group:admins" in str(error)


def test_role_binding_delete_when_auth_is_off(fake: FakePachd) -> None:
    RoleBindingProvider().delete("cluster/group:admins", _binding(fake))


# --- generic rules: diff and check are pure, tolerate unknowns, floats == ints -----------------


@pytest.mark.parametrize("name", list(PROVIDERS))
def test_identical_inputs_diff_to_no_change_without_a_pachd_call(
    fake: FakePachd, name: str
) -> None:
    cls, build = PROVIDERS[name]
    props = build(fake)
    olds = {**props, "__provider": "old-pickle", "config_version": 3, "pachd_version": "2.12.2"}
    news = {**props, "__provider": "new-pickle"}
    diff = cls().diff("id", olds, news)
    assert diff.changes is False
    assert diff.replaces == []
    assert fake.calls == []


@pytest.mark.parametrize("name", list(PROVIDERS))
def test_floats_from_the_wire_equal_ints(fake: FakePachd, name: str) -> None:
    cls, build = PROVIDERS[name]
    props = build(fake)
    floated = {
        **props,
        "call_timeout_seconds": 2.0,
        "ready_timeout_seconds": 2.0,
        "config_version": 4.0,
    }
    assert cls().diff("id", floated, props).changes is False
    assert cls().diff("id", props, floated).changes is False
    assert cls().check({}, floated).failures == []
    assert fake.calls == []


@pytest.mark.parametrize("name", list(PROVIDERS))
@pytest.mark.parametrize("unknown", [Unknown(), UNKNOWN_SENTINEL], ids=["Unknown", "sentinel"])
def test_unknowns_in_check_and_diff(fake: FakePachd, name: str, unknown: object) -> None:
    cls, build = PROVIDERS[name]
    props = build(fake)
    news = {**props, "root_token": unknown, "pachd_address": unknown}
    checked = cls().check({}, news)
    assert checked.failures == []
    assert checked.inputs == news
    diff = cls().diff("id", props, news)
    assert diff.changes is True
    assert fake.calls == []


def test_unknown_nested_in_connector_config(fake: FakePachd) -> None:
    news = _connector(fake, config={**_okta_config(), "clientSecret": Unknown()})
    assert ConnectorProvider().check({}, news).failures == []
    diff = ConnectorProvider().diff("okta", _connector(fake), news)
    assert diff.changes is True
    assert diff.replaces == []


def test_unknown_client_secret_replaces(fake: FakePachd) -> None:
    diff = OidcClientProvider().diff("pachd", _client(fake), _client(fake, secret=Unknown()))
    assert diff.changes
    assert diff.replaces == ["secret"]
    assert diff.delete_before_replace


@pytest.mark.parametrize("name", list(PROVIDERS))
def test_check_reports_failures_for_bad_props(fake: FakePachd, name: str) -> None:
    cls, build = PROVIDERS[name]
    props = build(fake)
    bad = {**props, "call_timeout_seconds": "soon"}
    del bad["pachd_address"]
    result = cls().check({}, bad)
    properties = {failure.property for failure in result.failures}
    assert properties == {"pachd_address", "call_timeout_seconds"}
    for failure in result.failures:
        _no_secret(failure.reason)
    assert fake.calls == []


def test_check_reports_nested_failures(fake: FakePachd) -> None:
    result = OidcClientProvider().check({}, _client(fake, redirect_uris=["ok", 5]))
    assert [failure.property for failure in result.failures] == ["redirect_uris.1"]


def _no_secret_fragment(text: str) -> None:
    """Not even a truncated repr: pydantic shortens ``input_value`` to its head and tail."""
    for secret in ALL_SECRETS:
        for fragment in (secret[:10], secret[-10:]):
            assert fragment not in text, f"secret fragment {fragment!r} leaked: {text}"


@pytest.mark.parametrize("name", list(PROVIDERS))
@pytest.mark.parametrize("method", ["create", "read", "update", "delete"])
def test_unparseable_props_raise_no_secret(fake: FakePachd, name: str, method: str) -> None:
    # read/delete get the *stored* outputs: a schema change must not print them with a secret.
    cls, build = PROVIDERS[name]
    full = {**build(fake), "license_key": LICENSE, "deactivate_on_delete": True}
    del full["pachd_address"]
    # The provider's last declared credential that holds a value.
    tail = [field for field in cls.secret_outputs() if full.get(field)][-1]
    # The secrets first and last, where a truncated repr would still show them.
    props = {"root_token": ROOT, **full, tail: full[tail]}
    del props[tail]
    props[tail] = full[tail]
    provider = cls()
    calls: dict[str, Callable[[], Any]] = {
        "create": lambda: provider.create(props),
        "read": lambda: provider.read("id", props),
        "update": lambda: provider.update("id", props, props),
        "delete": lambda: provider.delete("id", props),
    }
    with pytest.raises(Exception) as raised:  # any type, but no secret in it
        calls[method]()
    _no_secret_fragment(str(raised.value))
    _no_secret_fragment(repr(raised.value))
    assert "pachd_address" in str(raised.value)
    assert raised.value.__cause__ is None
    assert fake.calls == []


# --- generic rule: pachd failures never carry secrets -------------------------------------------


WRITE_METHOD = {
    "identity": "identity.SetIdentityServerConfig",
    "connector": "identity.CreateIDPConnector",
    "oidc-client": "identity.CreateOIDCClient",
    "auth-config": "auth.SetConfiguration",
    "role-binding": "auth.ModifyRoleBinding",
}


def held_secrets(provider: type[PachdProvider[Any]], props: dict[str, Any]) -> list[str]:
    """The test secrets in the fields ``provider`` declares as credentials."""
    declared = json.dumps([props[field] for field in provider.secret_outputs() if field in props])
    return [secret for secret in ALL_SECRETS if secret in declared]


@pytest.mark.parametrize("name", list(WRITE_METHOD))
def test_pachd_errors_echoing_secrets_are_redacted(fake: FakePachd, name: str) -> None:
    # pachd puts wrapped request text in details; each provider redacts what it sent.
    _activate(fake)
    IdentityConfigProvider().create(_identity(fake))
    cls, build = PROVIDERS[name]
    held = held_secrets(cls, build(fake))
    assert ROOT in held
    fake.inject(WRITE_METHOD[name], grpc.StatusCode.UNKNOWN, "pachd echoed " + " ".join(held))
    error = _raises(lambda: cls().create(build(fake)))
    assert str(error).count("[secret]") == len(held)
    assert error.__cause__ is None


@pytest.mark.parametrize(
    "method", ["license.Activate", "license.AddCluster", "enterprise.Activate", "auth.Activate"]
)
def test_activation_errors_echoing_the_license_are_redacted(legacy: FakePachd, method: str) -> None:
    echo = f"echo {ROOT} {LICENSE} {ENTERPRISE_SECRET}"
    legacy.inject(method, grpc.StatusCode.UNKNOWN, echo)
    error = _raises(lambda: ActivationProvider().create(_legacy_activation(legacy)))
    assert "[secret]" in str(error)


@pytest.mark.parametrize("name", ["identity", "connector", "oidc-client", "auth-config"])
def test_reads_with_a_bad_token_raise_no_secret(fake: FakePachd, name: str) -> None:
    _activate(fake, FOREIGN_ROOT)
    cls, build = PROVIDERS[name]
    error = _raises(lambda: cls().read("id", build(fake)))
    assert "UNAUTHENTICATED" in str(error)


def test_unreachable_pachd_error_names_the_address_without_secrets() -> None:
    with FakePachd(ready_after=3600) as server:
        props = _activation(server, ready_timeout_seconds=0.2)
        error = _raises(lambda: ActivationProvider().create(props))
    assert server.address in str(error)
    assert "did not become ready" in str(error)


# --- providers hold no state --------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PROVIDERS))
def test_providers_are_stateless(fake: FakePachd, name: str) -> None:
    cls, _ = PROVIDERS[name]
    provider = cls()
    assert vars(provider) == {}
    _activate(fake)
    IdentityConfigProvider().create(_identity(fake))
    provider.create(PROVIDERS[name][1](fake))
    assert vars(provider) == {}


def test_emptying_trusted_peers_replaces_the_client_because_dex_keeps_old_lists() -> None:
    provider = OidcClientProvider()
    olds = PROPS.client("grpc://127.0.0.1:1")
    news = {**olds, "trusted_peers": []}

    diff = provider.diff("pachd", olds, news)

    assert diff.changes is True
    assert diff.replaces == ["trusted_peers"]
    assert diff.delete_before_replace is True
    assert provider.diff("pachd", olds, {**olds, "trusted_peers": ["other"]}).replaces == []


def test_rotation_after_an_out_of_band_deactivation_activates_with_the_new_token(
    fake: FakePachd,
) -> None:
    provider = ActivationProvider()
    olds = provider.create(_activation(fake)).outs
    assert olds is not None
    client = fake.client(ROOT)
    client.identity.delete_all()
    client.auth.deactivate()
    fake.reset_calls()

    outs = provider.update("pachyderm-auth", olds, {**olds, "root_token": NEW_ROOT}).outs

    assert outs is not None
    assert outs["root_token"] == NEW_ROOT
    _assert_auth_active_with(fake, NEW_ROOT)
    assert fake.calls[:2] == ["version.GetVersion", "auth.RotateRootToken"]
    assert "auth.Activate" in fake.calls
