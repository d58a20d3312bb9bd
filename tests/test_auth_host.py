"""Every auth provider driven through Pulumi's real dynamic-provider host against a fake pachd.

Regressions guarded: what only shows up across the wire. The pickled provider must load in a
separate ``python -m pulumi.dynamic`` process (dill pickles classes of importable modules by
reference, so the host imports them from its cwd); ints arrive as floats and ``None`` keys vanish
(``rpc.serialize_properties``/``deserialize_properties`` in the ``pulumi`` SDK), so parsing,
diffing and the connector version must survive that; identical inputs must diff to
``DIFF_NONE`` without a pachd call (else every ``pulumi up`` shows changes and touches pachd);
update must return full outputs; read must report "gone"; provider exceptions become gRPC
errors carrying the traceback text, which must hold no secret, and nothing the host writes to
stderr may hold one either; and every output that carries a secret must be listed in the
resource's ``additional_secret_outputs`` - exactly those, no more (the engine re-marks an output
secret only when a same-named input was secret: ``annotateSecrets``, pulumi/pulumi
sdk/go/common/resource/plugin/provider_plugin.go).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pulumi
import pytest

from components.pachyderm_auth.activation import (
    ActivationArgs,
    ActivationProvider,
    AuthActivation,
    foreign_token_message,
)
from components.pachyderm_auth.auth_config import AuthConfig, AuthConfigArgs, AuthConfigProvider
from components.pachyderm_auth.base import PachdArgs, PachdProvider, PachdResource
from components.pachyderm_auth.identity_config import (
    IdentityConfigArgs,
    IdentityConfigProvider,
    IdentityServerConfig,
)
from components.pachyderm_auth.idp_connector import ConnectorArgs, ConnectorProvider, IdpConnector
from components.pachyderm_auth.oidc_client import OidcClient, OidcClientArgs, OidcClientProvider
from components.pachyderm_auth.role_binding import (
    ClusterRoleBinding,
    RoleBindingArgs,
    RoleBindingProvider,
)
from testkit.auth_props import ISSUER, AuthProps
from testkit.dynamic_host import (
    PROVIDER_KEY,
    DiffKind,
    DynamicProviderHost,
    HostError,
    HostResult,
    provider_props,
    unknown,
    urn,
)
from testkit.fake_pachd import BAD_TOKEN, FakePachd
from testkit.mocks import MockRun
from testkit.stacks import ROOT as PROJECT_ROOT

ROOT = "test-root-token-host-0001"
NEW_ROOT = "test-root-token-host-rotated-0002"
FOREIGN_ROOT = "test-foreign-root-host-0003"
LICENSE = "test-license-key-host-0004"
NEW_LICENSE = "test-license-key-host-renewed-0009"
ENTERPRISE_SECRET = "test-enterprise-secret-host-0005"
PACHD_SECRET = "test-pachd-client-secret-host-0006"
OKTA_SECRET = "test-okta-client-secret-host-0007"
OKTA_SECRET_2 = "test-okta-client-secret-host-rotated-0008"
SECRETS = (
    ROOT,
    NEW_ROOT,
    FOREIGN_ROOT,
    LICENSE,
    ENTERPRISE_SECRET,
    PACHD_SECRET,
    OKTA_SECRET,
    OKTA_SECRET_2,
    NEW_LICENSE,
)


@pytest.fixture(scope="module")
def host() -> Iterator[DynamicProviderHost]:
    with DynamicProviderHost(cwd=PROJECT_ROOT, timeout=20.0) as running:
        running.configure({})
        yield running
        _assert_no_secret(running.stderr_text())


def _assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"secret leaked: {text[-2000:]}"


# --- props per provider ---------------------------------------------------------------------------


PROPS = AuthProps(
    root_token=ROOT,
    license_key=LICENSE,
    enterprise_secret=ENTERPRISE_SECRET,
    pachd_secret=PACHD_SECRET,
    okta_secret=OKTA_SECRET,
    timeout_seconds=5,
)


def _conn(fake: FakePachd, token: str = ROOT) -> dict[str, Any]:
    return PROPS.connection(fake.address, token)


def _activation(fake: FakePachd, **extra: Any) -> dict[str, Any]:
    return PROPS.activation(fake.address, legacy=True, **extra)


def _identity(fake: FakePachd, **extra: Any) -> dict[str, Any]:
    return PROPS.identity(fake.address, **extra)


def _okta(secret: str = OKTA_SECRET) -> dict[str, Any]:
    return PROPS.okta_config(secret)


def _connector(fake: FakePachd, **extra: Any) -> dict[str, Any]:
    return PROPS.connector(fake.address, **extra)


def _client(fake: FakePachd, **extra: Any) -> dict[str, Any]:
    return PROPS.client(fake.address, **extra)


def _auth_config(fake: FakePachd, **extra: Any) -> dict[str, Any]:
    return PROPS.auth_config(fake.address, **extra)


def _binding(fake: FakePachd, **extra: Any) -> dict[str, Any]:
    return PROPS.binding(fake.address, **extra)


def _prepare(fake: FakePachd, *, identity: bool = True) -> None:
    """Auth active with our root token (and Dex's issuer set), calls forgotten."""
    client = fake.client(ROOT)
    client.auth.activate(root_token=ROOT)
    if identity:
        from pachyderm_sdk.api import identity as identity_api

        client.identity.set_identity_server_config(
            config=identity_api.IdentityServerConfig(issuer=ISSUER)
        )
    client._channel.close()
    fake.reset_calls()


@dataclass(frozen=True)
class Case:
    """One provider's lifecycle: props, a change, and the pachd state to expect at each step."""

    provider: type[PachdProvider[Any]]
    resource: type[Any]
    props: Callable[[FakePachd], dict[str, Any]]
    change: dict[str, Any]
    created: Callable[[FakePachd], None]
    updated: Callable[[FakePachd], None]
    deleted: Callable[[FakePachd], None]
    prepared: bool = True
    version: tuple[int, int, int] = (2, 12, 2)

    @property
    def type_token(self) -> str:
        return f"pulumi-python:dynamic/pachyderm:{self.resource.__name__}"


def _auth_on(fake: FakePachd, token: str) -> None:
    assert fake.state.auth_active
    assert fake.state.tokens == {token: "pach:root"}
    assert fake.state.pfs_auth_active
    assert fake.state.pps_auth_active


CASES: dict[str, Case] = {
    "activation": Case(
        provider=ActivationProvider,
        resource=AuthActivation,
        props=_activation,
        change={"root_token": NEW_ROOT},
        created=lambda f: _auth_on(f, ROOT),
        updated=lambda f: _auth_on(f, NEW_ROOT),
        deleted=lambda f: _auth_on(f, NEW_ROOT),
        prepared=False,
        version=(2, 11, 6),
    ),
    "identity": Case(
        provider=IdentityConfigProvider,
        resource=IdentityServerConfig,
        props=_identity,
        change={"id_token_expiry": "12h"},
        created=lambda f: _expect(f.state.identity_config["id_token_expiry"], "24h"),
        updated=lambda f: _expect(f.state.identity_config["id_token_expiry"], "12h"),
        deleted=lambda f: _expect(f.state.identity_config["issuer"], ISSUER),
        prepared=True,
    ),
    "connector": Case(
        provider=ConnectorProvider,
        resource=IdpConnector,
        props=_connector,
        change={"config": _okta(OKTA_SECRET_2)},
        created=lambda f: _expect(
            (f.state.connectors["okta"]["config_version"], f.state.connectors["okta"]["config"]),
            (0, _okta()),
        ),
        updated=lambda f: _expect(
            (f.state.connectors["okta"]["config_version"], f.state.connectors["okta"]["config"]),
            (1, _okta(OKTA_SECRET_2)),
        ),
        deleted=lambda f: _expect(f.state.connectors, {}),
    ),
    "oidc-client": Case(
        provider=OidcClientProvider,
        resource=OidcClient,
        props=_client,
        change={"redirect_uris": ["https://new.example/authorization-code/callback"]},
        created=lambda f: _expect(f.state.oidc_clients["pachd"]["secret"], PACHD_SECRET),
        updated=lambda f: _expect(
            f.state.oidc_clients["pachd"]["redirect_uris"],
            ["https://new.example/authorization-code/callback"],
        ),
        deleted=lambda f: _expect(f.state.oidc_clients, {}),
    ),
    "auth-config": Case(
        provider=AuthConfigProvider,
        resource=AuthConfig,
        props=_auth_config,
        change={"scopes": ["openid", "email"]},
        created=lambda f: _expect((f.state.auth_config or {})["client_secret"], PACHD_SECRET),
        updated=lambda f: _expect((f.state.auth_config or {})["scopes"], ["openid", "email"]),
        deleted=lambda f: _expect((f.state.auth_config or {})["scopes"], ["openid", "email"]),
    ),
    "role-binding": Case(
        provider=RoleBindingProvider,
        resource=ClusterRoleBinding,
        props=_binding,
        change={"roles": ["clusterAdmin", "repoReader"]},
        created=lambda f: _expect(
            f.state.cluster_role_bindings.get("group:admins"), {"clusterAdmin"}
        ),
        updated=lambda f: _expect(
            f.state.cluster_role_bindings.get("group:admins"), {"clusterAdmin", "repoReader"}
        ),
        deleted=lambda f: _expect("group:admins" in f.state.cluster_role_bindings, False),
    ),
}


def _expect(actual: Any, expected: Any) -> None:
    assert actual == expected


def _plain(outputs: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in outputs.items() if key != PROVIDER_KEY}


def _floats(value: Any) -> Any:
    """What the wire does to a value: every int becomes a float."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {key: _floats(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_floats(item) for item in value]
    return value


def _check(host: DynamicProviderHost, case: Case, name: str, props: dict[str, Any]) -> Any:
    inputs, failures = host.check(
        urn(case.type_token, name), {}, provider_props(case.provider(), props)
    )
    assert failures == []
    return inputs


# --- the lifecycle of every provider ------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_lifecycle_through_the_host(host: DynamicProviderHost, name: str) -> None:
    case = CASES[name]
    resource_urn = urn(case.type_token, name)
    with FakePachd(version=case.version) as fake:
        if case.prepared:
            _prepare(fake)
        props = case.props(fake)

        inputs = _check(host, case, name, props)
        assert _plain(inputs) == _floats(props)
        assert fake.calls == []

        created = host.create(resource_urn, inputs)
        case.created(fake)
        assert created.outputs[PROVIDER_KEY] == inputs[PROVIDER_KEY]
        assert set(_plain(created.outputs)) >= set(props)

        # `pulumi up` again with nothing changed: no diff and not a single pachd call.
        fake.reset_calls()
        again = _check(host, case, name, props)
        diff = host.diff(resource_urn, created.id, created.outputs, again)
        assert diff.kind is DiffKind.NONE
        assert diff.replaces == []
        assert fake.calls == []

        news_props = {**props, **case.change}
        news = _check(host, case, name, news_props)
        diff = host.diff(resource_urn, created.id, created.outputs, news)
        assert diff.kind is DiffKind.SOME
        assert diff.replaces == []
        updated = host.update(resource_urn, created.id, created.outputs, news)
        case.updated(fake)
        # Full outputs, not just `__provider` (the host's default update wipes them).
        assert set(_plain(updated.outputs)) == set(_plain(created.outputs))
        for key, value in case.change.items():
            assert updated.outputs[key] == _floats(value)

        read = host.read(resource_urn, created.id, updated.outputs)
        assert read is not None
        assert read.id == created.id
        for key in props:
            assert read.outputs[key] == updated.outputs[key], key

        fake.reset_calls()
        host.delete(resource_urn, created.id, updated.outputs)
        case.deleted(fake)
    _assert_no_secret(host.stderr_text())


def test_activation_calls_through_the_host(host: DynamicProviderHost, fake: FakePachd) -> None:
    case = CASES["activation"]
    inputs = _check(host, case, "a", _activation(fake))
    created = host.create(urn(case.type_token, "a"), inputs)
    assert fake.calls == [
        "version.GetVersion",
        "auth.Activate",
        "pfs.ActivateAuth",
        "pps.ActivateAuth",
    ]
    assert created.id == "pachyderm-auth"
    assert created.outputs["pachd_version"] == "2.12.2"
    fake.reset_calls()
    host.delete(urn(case.type_token, "a"), created.id, created.outputs)
    assert fake.calls == []
    assert fake.state.auth_active


def test_activation_deactivates_on_delete_when_asked(
    host: DynamicProviderHost, fake: FakePachd
) -> None:
    case = CASES["activation"]
    inputs = _check(host, case, "a", _activation(fake, deactivate_on_delete=True))
    created = host.create(urn(case.type_token, "a"), inputs)
    fake.reset_calls()
    host.delete(urn(case.type_token, "a"), created.id, created.outputs)
    assert fake.calls == ["identity.DeleteAll", "auth.Deactivate"]
    assert not fake.state.auth_active


@pytest.mark.parametrize(
    ("principal", "after_delete"), [("allClusterUsers", {"projectCreator"}), ("group:new", None)]
)
def test_a_deleted_binding_gives_back_what_the_principal_held(
    host: DynamicProviderHost, fake: FakePachd, principal: str, after_delete: set[str] | None
) -> None:
    # Activation seeded allClusterUsers: projectCreator; group:new held nothing.
    case = CASES["role-binding"]
    _prepare(fake)
    resource_urn = urn(case.type_token, "b")
    props = _binding(fake, principal=principal, roles=["clusterAdmin"])
    created = host.create(resource_urn, _check(host, case, "b", props))
    assert fake.state.cluster_role_bindings[principal] == {"clusterAdmin"}

    fake.reset_calls()
    host.delete(resource_urn, created.id, created.outputs)
    assert fake.calls == ["auth.ModifyRoleBinding"]
    assert fake.state.cluster_role_bindings.get(principal) == after_delete


@pytest.mark.parametrize("name", ["identity", "connector", "oidc-client", "role-binding"])
def test_read_of_a_vanished_object_is_gone(
    host: DynamicProviderHost, fake: FakePachd, name: str
) -> None:
    case = CASES[name]
    _prepare(fake)
    resource_urn = urn(case.type_token, name)
    created = host.create(resource_urn, _check(host, case, name, case.props(fake)))
    fake.state.connectors.clear()
    fake.state.oidc_clients.clear()
    fake.state.cluster_role_bindings.pop("group:admins", None)
    if name == "identity":
        # Nothing to delete in pachd; a deactivated cluster reads as gone.
        fake.state.auth_active = False
    assert host.read(resource_urn, created.id, created.outputs) is None


def test_connector_versions_arrive_as_floats_and_still_count(
    host: DynamicProviderHost, fake: FakePachd
) -> None:
    case = CASES["connector"]
    _prepare(fake)
    resource_urn = urn(case.type_token, "c")
    created = host.create(resource_urn, _check(host, case, "c", _connector(fake)))
    version = created.outputs["config_version"]
    assert isinstance(version, float)
    assert version == 0.0
    assert isinstance(created.outputs["call_timeout_seconds"], float)
    outputs = created.outputs
    for expected, connector_name in enumerate(["Okta 1", "Okta 2", "Okta 3"], start=1):
        news = _check(host, case, "c", _connector(fake, name=connector_name))
        outputs = host.update(resource_urn, created.id, outputs, news).outputs
        assert outputs["config_version"] == float(expected)
        assert fake.state.connectors["okta"]["config_version"] == expected
    # Someone else bumped it: our float record is stale, pachd's stored version wins.
    fake.state.connectors["okta"]["config_version"] = 10
    news = _check(host, case, "c", _connector(fake, name="Okta 4"))
    outputs = host.update(resource_urn, created.id, outputs, news).outputs
    assert outputs["config_version"] == 11.0


@pytest.mark.parametrize("name", list(CASES))
def test_unknowns_in_check_and_diff(host: DynamicProviderHost, fake: FakePachd, name: str) -> None:
    case = CASES[name]
    resource_urn = urn(case.type_token, name)
    props = case.props(fake)
    previews = {**props, "root_token": unknown(), "pachd_address": unknown()}
    inputs, failures = host.check(resource_urn, {}, provider_props(case.provider(), previews))
    assert failures == []
    olds = {**props, PROVIDER_KEY: inputs[PROVIDER_KEY]}
    diff = host.diff(resource_urn, "id", olds, inputs)
    assert diff.kind is DiffKind.SOME
    assert fake.calls == []


@pytest.mark.parametrize("name", list(CASES))
def test_check_failures_cross_the_wire(host: DynamicProviderHost, name: str) -> None:
    case = CASES[name]
    with FakePachd() as fake:
        props = {**case.props(fake), "call_timeout_seconds": "soon"}
    del props["pachd_address"]
    _, failures = host.check(urn(case.type_token, name), {}, provider_props(case.provider(), props))
    assert {prop for prop, _ in failures} == {"pachd_address", "call_timeout_seconds"}
    _assert_no_secret(json.dumps(failures))


def test_oidc_secret_change_is_a_delete_before_replace(
    host: DynamicProviderHost, fake: FakePachd
) -> None:
    case = CASES["oidc-client"]
    olds = {**_client(fake), PROVIDER_KEY: "stored"}
    news = _check(host, case, "p", _client(fake, secret=OKTA_SECRET_2))
    diff = host.diff(urn(case.type_token, "p"), "pachd", olds, news)
    assert diff.kind is DiffKind.SOME
    assert diff.replaces == ["secret"]
    assert diff.delete_before_replace


# --- secrets ------------------------------------------------------------------------------------


def _host_error(fn: Callable[[], Any]) -> HostError:
    with pytest.raises(HostError) as raised:
        fn()
    _assert_no_secret(raised.value.details)
    _assert_no_secret(str(raised.value))
    return raised.value


@pytest.mark.parametrize("version", [(2, 12, 2), (2, 11, 6)], ids=["2.12", "2.11"])
def test_foreign_root_token_error_through_the_host(
    host: DynamicProviderHost, version: tuple[int, int, int]
) -> None:
    # pachd answers "already activated" whatever the token: the foreign auth shows at WhoAmI,
    # and the user must read how to adopt the cluster, not that WhoAmI failed.
    with FakePachd(version=version) as fake:
        fake.state.enterprise_state = "ACTIVE"
        client = fake.client(FOREIGN_ROOT)
        client.auth.activate(root_token=FOREIGN_ROOT)
        client._channel.close()
        case = CASES["activation"]
        inputs = _check(host, case, "a", _activation(fake))
        error = _host_error(lambda: host.create(urn(case.type_token, "a"), inputs))
        expected = foreign_token_message(fake.address, f"UNAUTHENTICATED: {BAD_TOKEN}")
    assert f"PachdError: {expected}\n" in error.details
    _assert_no_secret(host.stderr_text())


def test_a_changed_2_11_licence_is_applied_through_the_host(host: DynamicProviderHost) -> None:
    case = CASES["activation"]
    resource_urn = urn(case.type_token, "a")
    with FakePachd(version=(2, 11, 6)) as fake:
        created = host.create(resource_urn, _check(host, case, "a", _activation(fake)))
        fake.reset_calls()
        news = _check(host, case, "a", _activation(fake, license_key=NEW_LICENSE))
        diff = host.diff(resource_urn, created.id, created.outputs, news)
        assert (diff.kind, diff.replaces) == (DiffKind.SOME, [])
        updated = host.update(resource_urn, created.id, created.outputs, news)
        # Only the licence calls: no auth call, nothing re-registered.
        assert fake.calls == ["version.GetVersion", "license.Activate", "enterprise.Activate"]
        state = fake.state
        assert (state.license_code, state.enterprise_license_code) == (NEW_LICENSE, NEW_LICENSE)
        assert state.enterprise_state == "ACTIVE"
        _auth_on(fake, ROOT)
        root = fake.client(ROOT)
        assert root.auth.who_am_i().username == "pach:root"
        root._channel.close()
    assert updated.outputs["license_key"] == NEW_LICENSE
    assert updated.outputs["pachd_version"] == "2.11.6"
    _assert_no_secret(host.stderr_text())


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("identity", "identity.SetIdentityServerConfig"),
        ("connector", "identity.CreateIDPConnector"),
        ("oidc-client", "identity.CreateOIDCClient"),
        ("auth-config", "auth.SetConfiguration"),
        ("role-binding", "auth.ModifyRoleBinding"),
    ],
)
def test_pachd_errors_echoing_secrets_are_redacted_through_the_host(
    host: DynamicProviderHost, fake: FakePachd, name: str, method: str
) -> None:
    import grpc

    case = CASES[name]
    _prepare(fake)
    fake.inject(method, grpc.StatusCode.UNKNOWN, f"echo {ROOT} {PACHD_SECRET} {OKTA_SECRET}")
    inputs = _check(host, case, name, case.props(fake))
    # Only the secrets this provider holds can be redacted; pachd echoes what it was sent: the
    # test secrets in the fields the provider declares as credentials.
    props = case.props(fake)
    declared = json.dumps([props[f] for f in case.provider.secret_outputs() if f in props])
    held = [secret for secret in SECRETS if secret in declared]
    assert ROOT in held
    with pytest.raises(HostError) as raised:
        host.create(urn(case.type_token, name), inputs)
    for secret in held:
        assert secret not in raised.value.details
    assert "[secret]" in raised.value.details


def test_stale_stored_outputs_do_not_leak_through_the_host(
    host: DynamicProviderHost, fake: FakePachd
) -> None:
    # A schema change makes stored outputs unparseable in read/delete: no secret in the error.
    case = CASES["connector"]
    stored = {
        "root_token": ROOT,
        **provider_props(ConnectorProvider(), _connector(fake)),
        "config": _okta(),
    }
    del stored["pachd_address"]
    error = _host_error(lambda: host.delete(urn(case.type_token, "c"), "okta", stored))
    assert "pachd_address" in error.details


# Some inputs per resource class: what is registered as secret outputs does not depend on them.
ARGS: dict[type[PachdResource[Any]], PachdArgs] = {
    AuthActivation: ActivationArgs(
        license_key="", enterprise_secret="", deactivate_on_delete=False
    ),
    IdentityServerConfig: IdentityConfigArgs(
        issuer="", id_token_expiry="", rotation_token_expiry=""
    ),
    IdpConnector: ConnectorArgs(connector_id="okta", name="", type="oidc", config={}),
    OidcClient: OidcClientArgs(
        client_id="", name="", secret="", redirect_uris=[], trusted_peers=[]
    ),
    AuthConfig: AuthConfigArgs(
        issuer="",
        client_id="",
        client_secret="",
        redirect_uri="",
        scopes=[],
        localhost_issuer=True,
        user_accessible_issuer_host="",
        require_email_verified=False,
    ),
    ClusterRoleBinding: RoleBindingArgs(principal="", roles=[]),
}


def _additional_secret_outputs(mock_run: MockRun) -> dict[str, set[str]]:
    """What each resource class registers as ``additional_secret_outputs``."""

    def program() -> None:
        for case in CASES.values():
            case.resource(
                f"aso-{case.resource.__name__}",
                {"root_token": "x"},
                ARGS[case.resource],
                pulumi.ResourceOptions(),
            )

    mock_run.run(program)
    return {
        case.type_token: set(mock_run.one(case.type_token).additional_secret_outputs)
        for case in CASES.values()
    }


def _secret_keys(outputs: dict[str, Any]) -> set[str]:
    return {
        key
        for key, value in _plain(outputs).items()
        if any(secret in json.dumps(value) for secret in SECRETS)
    }


def test_secret_outputs_are_exactly_the_additional_secret_outputs(
    host: DynamicProviderHost, mock_run: MockRun
) -> None:
    declared = _additional_secret_outputs(mock_run)
    # What each resource registers is what its provider declares as credentials...
    assert declared == {
        case.type_token: set(case.provider.secret_outputs()) for case in CASES.values()
    }
    for name, case in CASES.items():
        with FakePachd(version=case.version) as fake:
            if case.prepared:
                _prepare(fake)
            resource_urn = urn(case.type_token, name)
            created: HostResult = host.create(
                resource_urn, _check(host, case, name, case.props(fake))
            )
            read = host.read(resource_urn, created.id, created.outputs)
        assert read is not None
        # ...and exactly the outputs that carry a secret, after create and after refresh.
        for outputs in (created.outputs, read.outputs):
            assert _secret_keys(outputs) == declared[case.type_token], name
            _assert_no_secret(str(outputs[PROVIDER_KEY]))
    _assert_no_secret(host.stderr_text())
