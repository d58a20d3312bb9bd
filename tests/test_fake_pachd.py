"""Tests of the fake pachd (testkit/fake_pachd.py), driven through the real pachyderm_sdk Client.

Regression guarded: the provider tests are only as good as the fake they run against. If the fake
drifts from pachd's behaviour (as the pachyderm/pachyderm sources named in
``testkit/fake_pachd.py`` implement it) -
a wrong gRPC code, a changed detail string, a missing check or the wrong check order - provider
tests would pass against a server that does not exist. These tests pin each modelled rule: the
activation sequence (no token check on Activate), the <= 2.11 enterprise gate and license path
(a new licence reaches the enterprise state only at its next Activate), the 2.12
removal of license/enterprise, the connector version rule, duplicate ids, env-managed refusals,
the SetConfiguration issuer check, role-binding validation, the readiness delay, injected faults,
and the call log with its read/write classification that "second pass is a no-op" tests rely on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from pachyderm_sdk import Client
from pachyderm_sdk.api import auth, enterprise, identity
from pachyderm_sdk.errors import AuthServiceNotActivated

from testkit.fake_pachd import (
    ALREADY_ACTIVATED,
    BAD_TOKEN,
    ENTERPRISE_NOT_ACTIVE,
    NO_TOKEN,
    FakePachd,
    dict_to_struct,
    full_name,
    is_read,
    short_name,
    value_to_py,
)

ROOT = "root-token-from-pulumi"
ISSUER = "http://192.168.49.2:30080/dex"
CLUSTER = auth.Resource(type=auth.ResourceType.CLUSTER)
OKTA_CONFIG: dict[str, Any] = {
    "issuer": "https://dev-123456.okta.com",
    "clientID": "0oa-client",
    "clientSecret": "okta-secret",
    "redirectURI": ISSUER + "/callback",
    "insecureEnableGroups": True,
    "insecureSkipEmailVerified": True,
    "scopes": ["groups", "email", "profile"],
    "port": 443,
}

Factory = Callable[..., FakePachd]


@pytest.fixture(autouse=True)
def _no_sdk_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep ambient SDK credentials out of the clients under test."""
    monkeypatch.delenv("PACH_PYTHON_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("PACH_PYTHON_OIDC_TOKEN", raising=False)


@pytest.fixture
def make_fake() -> Iterator[Factory]:
    """Start fakes with the given options; stop them all at teardown."""
    started: list[FakePachd] = []

    def factory(**kwargs: Any) -> FakePachd:
        fake = FakePachd(**kwargs).start()
        started.append(fake)
        return fake

    yield factory
    for fake in started:
        fake.stop()


@pytest.fixture
def fake(make_fake: Factory) -> FakePachd:
    """Start a fresh 2.12.2 pachd with auth off."""
    return make_fake()


@pytest.fixture
def active(fake: FakePachd) -> FakePachd:
    """Activate auth on the fresh pachd with ROOT and set the identity issuer."""
    root = client(fake, ROOT)
    root.auth.activate(root_token=ROOT)
    root.identity.set_identity_server_config(
        config=identity.IdentityServerConfig(issuer=ISSUER, id_token_expiry="24h")
    )
    fake.reset_calls()
    return fake


def client(fake: FakePachd, token: str | None = None) -> Any:
    """Build a real SDK client exactly as the provider does."""
    return Client(host="127.0.0.1", port=fake.port, auth_token=token)


def rpc_error(call: Callable[[], object]) -> grpc.RpcError:
    """Run ``call`` and return the raw gRPC error it raises."""
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value


def okta_connector(version: int = 0, **overrides: Any) -> Any:
    """Build an Okta connector message carrying its config as json_config."""
    fields: dict[str, Any] = {
        "id": "okta",
        "name": "Okta",
        "type": "oidc",
        "config_version": version,
        "json_config": json.dumps(OKTA_CONFIG),
    }
    fields.update(overrides)
    return identity.IdpConnector(**fields)


# --- server basics --------------------------------------------------------------------------------


def test_address_and_port(fake: FakePachd) -> None:
    assert fake.port > 0
    assert fake.address == f"grpc://127.0.0.1:{fake.port}"
    assert Client.from_pachd_address(fake.address).get_version().minor == 12


def test_version_and_inspect_cluster_need_no_token(active: FakePachd) -> None:
    anonymous = client(active)
    v = anonymous.get_version()
    assert (v.major, v.minor, v.micro) == (2, 12, 2)
    assert anonymous.admin.inspect_cluster().deployment_id == "fake-deployment"
    assert client(active, "garbage").get_version().micro == 2


def test_configured_version_is_reported(make_fake: Factory) -> None:
    v = client(make_fake(version=(2, 11, 6))).get_version()
    assert (v.major, v.minor, v.micro) == (2, 11, 6)


def test_unmodelled_method_is_unimplemented(active: FakePachd) -> None:
    err = rpc_error(lambda: client(active, ROOT).auth.extract_auth_tokens())
    assert err.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "unknown method" in err.details()


# --- activation -----------------------------------------------------------------------------------


def test_activate_fresh_cluster_generates_root_token(fake: FakePachd) -> None:
    token = client(fake).auth.activate().pach_token
    assert len(token) == 32
    int(token, 16)  # uuid4 hex, no dashes
    st = fake.state
    assert st.auth_active
    assert st.root_token == token
    assert st.tokens == {token: "pach:root"}
    assert st.cluster_role_bindings == {
        "pach:root": {"clusterAdmin"},
        "internal:auth-server": {"clusterAdmin"},
        "allClusterUsers": {"projectCreator"},
    }
    assert client(fake, token).auth.who_am_i().username == "pach:root"


def test_activate_uses_supplied_root_token(fake: FakePachd) -> None:
    assert client(fake).auth.activate(root_token=ROOT).pach_token == ROOT
    assert fake.state.root_token == ROOT


def test_activate_again_with_root_token_is_already_activated(active: FakePachd) -> None:
    err = rpc_error(lambda: client(active, ROOT).auth.activate(root_token=ROOT))
    assert err.code() == grpc.StatusCode.UNIMPLEMENTED
    assert ALREADY_ACTIVATED in err.details()


@pytest.mark.parametrize(
    ("token", "code", "details"),
    [
        (ROOT, grpc.StatusCode.UNIMPLEMENTED, ALREADY_ACTIVATED),
        (None, grpc.StatusCode.UNAUTHENTICATED, NO_TOKEN),
        ("someone-elses-token", grpc.StatusCode.UNAUTHENTICATED, BAD_TOKEN),
    ],
)
def test_activate_again_checks_the_callers_token_first(
    active: FakePachd, token: str | None, code: grpc.StatusCode, details: str
) -> None:
    # The interceptor lets Activate through, but the write transaction asks WhoAmI first
    # (the real pachd answers the same: tests/test_real_pachd.py).
    err = rpc_error(lambda: client(active, token).auth.activate(root_token=ROOT))
    assert (err.code(), err.details()) == (code, details)


def test_token_sent_while_auth_is_off_is_ignored(fake: FakePachd) -> None:
    assert client(fake, ROOT).auth.activate(root_token=ROOT).pach_token == ROOT


def test_pfs_and_pps_activate_auth_are_idempotent(active: FakePachd) -> None:
    root = client(active, ROOT)
    for _ in range(2):
        root.pfs.activate_auth()
        root.pps.activate_auth()
    assert active.state.pfs_auth_active
    assert active.state.pps_auth_active


_NEEDS_AUTH: dict[str, Callable[[Any], object]] = {
    "identity.ListIDPConnectors": lambda c: c.identity.list_idp_connectors(),
    "identity.GetIdentityServerConfig": lambda c: c.identity.get_identity_server_config(),
    "identity.SetIdentityServerConfig": lambda c: c.identity.set_identity_server_config(
        config=identity.IdentityServerConfig(issuer=ISSUER)
    ),
    "identity.CreateIDPConnector": lambda c: c.identity.create_idp_connector(
        connector=okta_connector()
    ),
    "identity.CreateOIDCClient": lambda c: c.identity.create_oidc_client(
        client=identity.OidcClient(id="pachd", name="pachd")
    ),
    "auth.GetConfiguration": lambda c: c.auth.get_configuration(),
    "auth.SetConfiguration": lambda c: c.auth.set_configuration(
        configuration=auth.OidcConfig(issuer=ISSUER, client_id="pachd")
    ),
    "auth.WhoAmI": lambda c: c.auth.who_am_i(),
    "auth.GetRoleBinding": lambda c: c.auth.get_role_binding(resource=CLUSTER),
    "auth.ModifyRoleBinding": lambda c: c.auth.modify_role_binding(
        resource=CLUSTER, principal="group:admins", roles=["clusterAdmin"]
    ),
    "auth.Deactivate": lambda c: c.auth.deactivate(),
    "auth.RotateRootToken": lambda c: c.auth.rotate_root_token(),
    "pfs.ActivateAuth": lambda c: c.pfs.activate_auth(),
    "pps.ActivateAuth": lambda c: c.pps.activate_auth(),
}


@pytest.mark.parametrize("method", sorted(_NEEDS_AUTH))
def test_rpcs_before_activation_raise_auth_service_not_activated(
    fake: FakePachd, method: str
) -> None:
    with pytest.raises(AuthServiceNotActivated, match="the auth service is not activated"):
        _NEEDS_AUTH[method](client(fake, ROOT))
    assert fake.calls == [method]
    assert not fake.state.auth_active


@pytest.mark.parametrize("method", sorted(_NEEDS_AUTH))
def test_rpcs_after_activation_need_a_token(active: FakePachd, method: str) -> None:
    err = rpc_error(lambda: _NEEDS_AUTH[method](client(active)))
    assert (err.code(), err.details()) == (grpc.StatusCode.UNAUTHENTICATED, NO_TOKEN)
    err = rpc_error(lambda: _NEEDS_AUTH[method](client(active, "expired")))
    assert (err.code(), err.details()) == (grpc.StatusCode.UNAUTHENTICATED, BAD_TOKEN)


def test_non_admin_is_denied_admin_rpcs_but_may_ask_who_it_is(active: FakePachd) -> None:
    active.state.tokens["alice-token"] = "user:alice@example.com"
    alice = client(active, "alice-token")
    assert alice.auth.who_am_i().username == "user:alice@example.com"
    err = rpc_error(lambda: alice.identity.list_idp_connectors())
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "not authorized to perform this operation" in err.details()
    # a group binding makes a member an admin
    active.state.cluster_role_bindings["group:admins"] = {"clusterAdmin"}
    active.state.user_groups["user:alice@example.com"] = {"group:admins"}
    assert alice.identity.list_idp_connectors().connectors == []


def test_rotate_root_token_invalidates_the_old_one(active: FakePachd) -> None:
    new = client(active, ROOT).auth.rotate_root_token(root_token="rotated").root_token
    assert new == "rotated"
    assert active.state.root_token == "rotated"
    err = rpc_error(lambda: client(active, ROOT).auth.who_am_i())
    assert err.details() == BAD_TOKEN
    assert client(active, "rotated").auth.who_am_i().username == "pach:root"


def test_rotate_root_token_refused_when_root_token_comes_from_env(active: FakePachd) -> None:
    active.state.root_token_from_env = True
    err = rpc_error(lambda: client(active, ROOT).auth.rotate_root_token())
    assert err.code() == grpc.StatusCode.UNKNOWN
    assert "RotateRootToken() is disabled" in err.details()


def test_deactivate_wipes_auth_and_identity_state(active: FakePachd) -> None:
    root = client(active, ROOT)
    root.identity.create_idp_connector(connector=okta_connector())
    root.identity.create_oidc_client(client=identity.OidcClient(id="pachd", name="pachd"))
    root.identity.delete_all()
    assert active.state.connectors == {}
    assert active.state.oidc_clients == {}
    root.identity.create_oidc_client(client=identity.OidcClient(id="pachd", name="pachd"))
    root.auth.deactivate()
    st = active.state
    assert not st.auth_active
    assert st.root_token is None
    assert st.tokens == {}
    assert st.cluster_role_bindings == {}
    assert st.auth_config is None
    assert st.oidc_clients == {}
    with pytest.raises(AuthServiceNotActivated):
        root.auth.who_am_i()


# --- 2.11 enterprise gate and license path; 2.12 has neither --------------------------------------


def test_211_activate_needs_enterprise_then_license_path_works(make_fake: Factory) -> None:
    fake = make_fake(version=(2, 11, 6))
    c = client(fake)
    err = rpc_error(lambda: c.auth.activate(root_token=ROOT))
    assert err.code() == grpc.StatusCode.UNKNOWN
    assert ENTERPRISE_NOT_ACTIVE in err.details()
    assert not fake.state.auth_active

    err = rpc_error(lambda: c.license.activate(activation_code=""))
    assert "error validating activation code" in err.details()
    c.license.activate(activation_code="LICENSE")
    assert c.license.get_activation_code().activation_code == "LICENSE"
    secret = c.license.add_cluster(
        id="localhost",
        address="grpc://localhost:1653",
        user_address="grpc://localhost:1653",
        cluster_deployment_id=c.admin.inspect_cluster().deployment_id,
        enterprise_server=True,
    ).secret
    assert len(secret) == 30
    err = rpc_error(lambda: c.license.add_cluster(id="localhost", address="grpc://x:1653"))
    assert err.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "cluster ID is not unique" in err.details()

    err = rpc_error(
        lambda: c.enterprise.activate(
            license_server="grpc://localhost:1653", id="localhost", secret="wrong"
        )
    )
    assert err.code() == grpc.StatusCode.UNKNOWN
    assert "rpc error: code = Unimplemented desc = cluster ID or secret is not valid" in (
        err.details()
    )
    assert c.enterprise.get_state().state == enterprise.State.NONE

    c.enterprise.activate(license_server="grpc://localhost:1653", id="localhost", secret=secret)
    assert c.enterprise.get_state().state == enterprise.State.ACTIVE
    assert fake.state.enterprise_state == "ACTIVE"
    assert c.auth.activate(root_token=ROOT).pach_token == ROOT

    # with auth on, license RPCs need the admin token; GetState stays open
    assert rpc_error(lambda: c.license.get_activation_code()).details() == NO_TOKEN
    assert client(fake, ROOT).license.get_activation_code().activation_code == "LICENSE"
    assert c.enterprise.get_state().state == enterprise.State.ACTIVE


def test_211_a_new_licence_reaches_enterprise_state_at_its_next_activate(
    make_fake: Factory,
) -> None:
    fake = make_fake(version=(2, 11, 6))
    c = client(fake)
    c.license.activate(activation_code="LICENSE")
    c.license.add_cluster(id="localhost", address="grpc://localhost:1653", secret="s1")
    c.enterprise.activate(license_server="grpc://localhost:1653", id="localhost", secret="s1")
    c.auth.activate(root_token=ROOT)
    root = client(fake, ROOT)
    # Activate again with another code while active: the stored licence is replaced...
    root.license.activate(activation_code="RENEWED")
    assert root.license.get_activation_code().activation_code == "RENEWED"
    # ...but the enterprise service reports the one it copied at its last heartbeat.
    assert (c.enterprise.get_state().state, c.enterprise.get_state().activation_code) == (
        enterprise.State.ACTIVE,
        "LICENSE",
    )
    # A new secret: the registration first, then the heartbeat that authenticates with it.
    err = rpc_error(
        lambda: root.enterprise.activate(
            license_server="grpc://localhost:1653", id="localhost", secret="s2"
        )
    )
    assert "cluster ID or secret is not valid" in err.details()
    root.license.update_cluster(id="localhost", secret="s2")
    root.enterprise.activate(license_server="grpc://localhost:1653", id="localhost", secret="s2")
    assert c.enterprise.get_state().activation_code == "RENEWED"
    assert fake.state.enterprise_config == {
        "license_server": "grpc://localhost:1653",
        "id": "localhost",
        "secret": "s2",
    }


def test_211_update_cluster_has_no_licence_check_and_ignores_an_unknown_id(
    make_fake: Factory,
) -> None:
    fake = make_fake(version=(2, 11, 6))
    c = client(fake)
    c.license.update_cluster(id="nowhere", secret="s")
    assert fake.state.license_clusters == {}
    err = rpc_error(lambda: c.license.update_cluster(id="nowhere"))
    assert err.details() == "No cluster fields were provided to the UpdateCluster RPC"


def test_211_add_cluster_needs_a_license_and_update_cluster_works(make_fake: Factory) -> None:
    c = client(make_fake(version=(2, 11, 6)))
    err = rpc_error(lambda: c.license.add_cluster(id="localhost", address="grpc://x:1653"))
    assert "enterprise license is not valid" in err.details()
    c.license.activate(activation_code="LICENSE")
    c.license.add_cluster(id="localhost", address="grpc://x:1653", secret="s1")
    c.license.update_cluster(id="localhost", address="grpc://x:1653", secret="s2")
    c.enterprise.activate(license_server="grpc://x:1653", id="localhost", secret="s2")
    c.license.delete_cluster(id="localhost")
    assert c.license.list_clusters().clusters == []


def test_211_enterprise_gate_runs_before_already_activated(make_fake: Factory) -> None:
    fake = make_fake(version=(2, 11, 6))
    fake.state.enterprise_state = "ACTIVE"
    client(fake).auth.activate(root_token=ROOT)
    fake.state.enterprise_state = "EXPIRED"
    err = rpc_error(lambda: client(fake, ROOT).auth.activate(root_token=ROOT))
    assert ENTERPRISE_NOT_ACTIVE in err.details()
    # The write transaction's WhoAmI runs before the handler's gate.
    err = rpc_error(lambda: client(fake).auth.activate(root_token=ROOT))
    assert (err.code(), err.details()) == (grpc.StatusCode.UNAUTHENTICATED, NO_TOKEN)


def test_212_has_no_enterprise_gate(fake: FakePachd) -> None:
    assert fake.state.enterprise_state == "NONE"
    assert client(fake).auth.activate(root_token=ROOT).pach_token == ROOT


@pytest.mark.parametrize(
    ("call", "service"),
    [
        (lambda c: c.license.activate(activation_code="LICENSE"), "license_v2.API"),
        (lambda c: c.license.add_cluster(id="localhost", address="a"), "license_v2.API"),
        (lambda c: c.license.get_activation_code(), "license_v2.API"),
        (lambda c: c.enterprise.get_state(), "enterprise_v2.API"),
        (lambda c: c.enterprise.activate(id="localhost", secret="s"), "enterprise_v2.API"),
    ],
)
def test_212_license_and_enterprise_services_do_not_exist(
    fake: FakePachd, call: Callable[[Any], object], service: str
) -> None:
    err = rpc_error(lambda: call(client(fake)))
    assert err.code() == grpc.StatusCode.UNIMPLEMENTED
    assert err.details() == f"unknown service {service}"


# --- identity server config and the auth OIDC config ----------------------------------------------


def test_set_identity_server_config_overwrites_all_fields(active: FakePachd) -> None:
    root = client(active, ROOT)
    root.identity.set_identity_server_config(
        config=identity.IdentityServerConfig(
            issuer=ISSUER, id_token_expiry="24h", rotation_token_expiry="48h"
        )
    )
    root.identity.set_identity_server_config(config=identity.IdentityServerConfig(issuer=ISSUER))
    cfg = root.identity.get_identity_server_config().config
    assert (cfg.issuer, cfg.id_token_expiry, cfg.rotation_token_expiry) == (ISSUER, "", "")
    assert active.state.identity_config == {
        "issuer": ISSUER,
        "id_token_expiry": "",
        "rotation_token_expiry": "",
    }


def test_set_configuration_rules(active: FakePachd) -> None:
    root = client(active, ROOT)
    err = rpc_error(
        lambda: root.auth.set_configuration(configuration=auth.OidcConfig(issuer=ISSUER))
    )
    assert err.code() == grpc.StatusCode.UNKNOWN
    assert "OIDC configuration must have a non-empty client_id" in err.details()

    err = rpc_error(
        lambda: root.auth.set_configuration(
            configuration=auth.OidcConfig(issuer=ISSUER + "/", client_id="pachd")
        )
    )
    assert err.code() == grpc.StatusCode.UNKNOWN
    assert "provided OIDC issuer does not implement OIDC protocol" in err.details()
    assert "oidc: issuer did not match the issuer returned by provider" in err.details()
    assert active.state.auth_config is None

    wanted = auth.OidcConfig(
        issuer=ISSUER,
        client_id="pachd",
        client_secret="s3cret",
        redirect_uri="http://192.168.49.2:30080/authorization-code/callback",
        scopes=["email", "profile", "groups", "openid"],
        localhost_issuer=True,
        user_accessible_issuer_host="http://192.168.49.2:30080",
    )
    root.auth.set_configuration(configuration=wanted)
    assert root.auth.get_configuration().configuration == wanted
    assert active.state.auth_config is not None
    assert active.state.auth_config["client_secret"] == "s3cret"
    assert active.state.auth_config["require_email_verified"] is False


# --- IdP connectors -------------------------------------------------------------------------------


def test_connector_create_get_list_returns_struct_with_secret(active: FakePachd) -> None:
    root = client(active, ROOT)
    root.identity.create_idp_connector(connector=okta_connector(version=1))
    got = root.identity.get_idp_connector(id="okta").connector
    assert (got.id, got.name, got.type, got.config_version) == ("okta", "Okta", "oidc", 1)
    assert got.json_config == ""
    config = {k: value_to_py(v) for k, v in got.config.fields.items()}
    assert config["clientSecret"] == "okta-secret"
    assert config["port"] == 443.0
    assert isinstance(config["port"], float)
    assert config["scopes"] == ["groups", "email", "profile"]
    assert [c.id for c in root.identity.list_idp_connectors().connectors] == ["okta"]
    assert active.state.connectors["okta"]["config_version"] == 1


def test_connector_create_from_struct_config(active: FakePachd) -> None:
    root = client(active, ROOT)
    conn = identity.IdpConnector(
        id="okta", name="Okta", type="oidc", config=dict_to_struct(OKTA_CONFIG)
    )
    root.identity.create_idp_connector(connector=conn)
    assert active.state.connectors["okta"]["config"]["clientID"] == "0oa-client"


@pytest.mark.parametrize(
    ("overrides", "details"),
    [
        ({"id": ""}, "no id specified"),
        ({"type": ""}, "no type specified"),
        ({"name": ""}, "no name specified"),
        ({"json_config": ""}, "no configs are defined"),
        ({"json_config": "null"}, "no configs are defined"),
        ({"json_config": "{not json"}, "unable to deserialize JSON"),
        ({"type": "okta"}, 'unknown connector type "okta"'),
        ({"json_config": json.dumps({"clientID": "x"})}, "unable to open connector"),
    ],
)
def test_connector_create_validation(
    active: FakePachd, overrides: dict[str, Any], details: str
) -> None:
    err = rpc_error(
        lambda: client(active, ROOT).identity.create_idp_connector(
            connector=okta_connector(**overrides)
        )
    )
    assert err.code() == grpc.StatusCode.UNKNOWN
    assert details in err.details()
    assert active.state.connectors == {}


def test_connector_missing_issuer_fails_like_dex_open(active: FakePachd) -> None:
    bad = okta_connector(json_config=json.dumps({"clientID": "x"}))
    err = rpc_error(lambda: client(active, ROOT).identity.create_idp_connector(connector=bad))
    assert "unable to open connector: failed to get provider: " in err.details()


def test_connector_unreachable_issuer_fails(active: FakePachd) -> None:
    active.state.unreachable_issuers.add(OKTA_CONFIG["issuer"])
    err = rpc_error(
        lambda: client(active, ROOT).identity.create_idp_connector(connector=okta_connector())
    )
    assert "unable to open connector: failed to get provider" in err.details()


def test_connector_duplicate_and_unknown_ids(active: FakePachd) -> None:
    root = client(active, ROOT)
    root.identity.create_idp_connector(connector=okta_connector())
    err = rpc_error(lambda: root.identity.create_idp_connector(connector=okta_connector()))
    assert (err.code(), err.details()) == (grpc.StatusCode.INTERNAL, "ID already exists")
    err = rpc_error(lambda: root.identity.get_idp_connector(id="nope"))
    assert (err.code(), err.details()) == (grpc.StatusCode.INTERNAL, "ID does not exist")
    err = rpc_error(
        lambda: root.identity.update_idp_connector(connector=okta_connector(1, id="nope"))
    )
    assert (err.code(), err.details()) == (grpc.StatusCode.UNKNOWN, "not found")
    err = rpc_error(lambda: root.identity.delete_idp_connector(id="nope"))
    assert (err.code(), err.details()) == (grpc.StatusCode.UNKNOWN, "not found")
    root.identity.delete_idp_connector(id="okta")
    assert active.state.connectors == {}


def test_connector_update_requires_stored_version_plus_one(active: FakePachd) -> None:
    root = client(active, ROOT)
    root.identity.create_idp_connector(connector=okta_connector(version=1))
    for wrong in (0, 1, 3):
        with pytest.raises(grpc.RpcError) as info:
            root.identity.update_idp_connector(connector=okta_connector(wrong))
        err = info.value
        assert err.code() == grpc.StatusCode.UNKNOWN
        assert f"new config version is {wrong}, expected 2" in err.details()
    assert active.state.connectors["okta"]["config_version"] == 1

    rotated = dict(OKTA_CONFIG, clientSecret="rotated")
    root.identity.update_idp_connector(
        connector=identity.IdpConnector(
            id="okta", config_version=2, json_config=json.dumps(rotated)
        )
    )
    stored = active.state.connectors["okta"]
    assert (stored["name"], stored["type"], stored["config_version"]) == ("Okta", "oidc", 2)
    assert stored["config"]["clientSecret"] == "rotated"

    # no config: the old one is kept, but the version still moves (the Struct gotcha)
    root.identity.update_idp_connector(
        connector=identity.IdpConnector(id="okta", name="Okta SSO", config_version=3)
    )
    stored = active.state.connectors["okta"]
    assert (stored["name"], stored["config_version"]) == ("Okta SSO", 3)
    assert stored["config"]["clientSecret"] == "rotated"


def test_env_managed_identity_refuses_writes(make_fake: Factory) -> None:
    fake = make_fake(env_managed_identity=True)
    root = client(fake, ROOT)
    root.auth.activate(root_token=ROOT)
    err = rpc_error(
        lambda: root.identity.set_identity_server_config(
            config=identity.IdentityServerConfig(issuer=ISSUER)
        )
    )
    assert err.code() == grpc.StatusCode.UNKNOWN
    assert (
        "identity.SetIdentityServerConfig() is disabled when the Identity Config is set via "
        "environment." in err.details()
    )
    calls: dict[str, Callable[[], object]] = {
        "CreateIDPConnector": lambda: root.identity.create_idp_connector(
            connector=okta_connector()
        ),
        "UpdateIDPConnector": lambda: root.identity.update_idp_connector(
            connector=okta_connector(1)
        ),
        "DeleteIDPConnector": lambda: root.identity.delete_idp_connector(id="okta"),
    }
    fake.state.connectors["okta"] = {
        "id": "okta",
        "name": "Okta",
        "type": "oidc",
        "config_version": 0,
        "config": dict(OKTA_CONFIG),
    }
    for rpc, call in calls.items():
        err = rpc_error(call)
        assert err.code() == grpc.StatusCode.UNKNOWN
        assert (
            f"identity.{rpc}() is disabled when the Identity Connectors are set via environment."
            in err.details()
        )
    assert fake.state.connectors["okta"]["config_version"] == 0
    assert root.identity.get_idp_connector(id="okta").connector.name == "Okta"


def test_211_env_managed_identity_config_refusal_has_its_own_wording(
    make_fake: Factory,
) -> None:
    fake = make_fake(version=(2, 11, 6), env_managed_identity=True)
    fake.state.enterprise_state = "ACTIVE"
    root = client(fake, ROOT)
    root.auth.activate(root_token=ROOT)
    err = rpc_error(
        lambda: root.identity.set_identity_server_config(
            config=identity.IdentityServerConfig(issuer=ISSUER)
        )
    )
    assert (err.code(), err.details()) == (
        grpc.StatusCode.UNKNOWN,
        "identity.SetIdentityServerConfig() is disable when the Identity Config is set via "
        "environment.",
    )


# --- OIDC clients ---------------------------------------------------------------------------------


def test_oidc_client_lifecycle(active: FakePachd) -> None:
    root = client(active, ROOT)
    created = root.identity.create_oidc_client(
        client=identity.OidcClient(
            id="pachd", name="pachd", redirect_uris=["http://a/cb"], trusted_peers=["console"]
        )
    ).client
    assert len(created.secret) >= 20
    assert active.state.oidc_clients["pachd"]["secret"] == created.secret

    given = root.identity.create_oidc_client(
        client=identity.OidcClient(id="console", name="console", secret="pinned")
    ).client
    assert given.secret == "pinned"

    root.identity.update_oidc_client(
        client=identity.OidcClient(
            id="pachd", name="pachd", redirect_uris=["http://b/cb"], secret="ignored"
        )
    )
    got = root.identity.get_oidc_client(id="pachd").client
    assert got.redirect_uris == ["http://b/cb"]
    assert got.trusted_peers == ["console"]
    assert got.secret == created.secret
    assert sorted(c.id for c in root.identity.list_oidc_clients().clients) == ["console", "pachd"]
    root.identity.delete_oidc_client(id="console")
    assert set(active.state.oidc_clients) == {"pachd"}


def test_oidc_client_errors(active: FakePachd) -> None:
    root = client(active, ROOT)
    err = rpc_error(
        lambda: root.identity.create_oidc_client(client=identity.OidcClient(name="pachd"))
    )
    assert (err.code(), err.details()) == (grpc.StatusCode.UNKNOWN, "no client id specified")
    err = rpc_error(
        lambda: root.identity.create_oidc_client(client=identity.OidcClient(id="pachd"))
    )
    assert (err.code(), err.details()) == (grpc.StatusCode.UNKNOWN, "no client name specified")
    root.identity.create_oidc_client(client=identity.OidcClient(id="pachd", name="pachd"))
    err = rpc_error(
        lambda: root.identity.create_oidc_client(
            client=identity.OidcClient(id="pachd", name="pachd")
        )
    )
    assert "ID already exists" in err.details()
    missing = 'unable to find OIDC client with id "x"'
    err = rpc_error(
        lambda: root.identity.update_oidc_client(client=identity.OidcClient(id="x", name="x"))
    )
    assert (err.code(), err.details()) == (grpc.StatusCode.UNKNOWN, missing)
    err = rpc_error(lambda: root.identity.delete_oidc_client(id="x"))
    assert (err.code(), err.details()) == (grpc.StatusCode.UNKNOWN, missing)
    err = rpc_error(lambda: root.identity.get_oidc_client(id="x"))
    assert (err.code(), err.details()) == (grpc.StatusCode.INTERNAL, "ID does not exist")


# --- role bindings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("principal", "roles", "details"),
    [
        ("admins", ["clusterAdmin"], "subject has no prefix, must be of the form <type>:<name>"),
        ("team:admins", ["clusterAdmin"], "subject has unrecognized prefix: team:"),
        ("group:admins", ["clusterAdmin", "superuser"], 'unknown role "superuser"'),
        ("pach:root", [], "cannot modify cluster role bindings for pach: users"),
    ],
)
def test_modify_role_binding_validation(
    active: FakePachd, principal: str, roles: list[str], details: str
) -> None:
    before = {p: set(r) for p, r in active.state.cluster_role_bindings.items()}
    err = rpc_error(
        lambda: client(active, ROOT).auth.modify_role_binding(
            resource=CLUSTER, principal=principal, roles=roles
        )
    )
    assert err.code() == grpc.StatusCode.UNKNOWN
    assert details in err.details()
    assert active.state.cluster_role_bindings == before


@pytest.mark.parametrize(("version", "accepted"), [((2, 11, 6), False), ((2, 12, 2), True)])
def test_job_admin_is_a_role_only_from_2_12(
    make_fake: Factory, version: tuple[int, int, int], accepted: bool
) -> None:
    fake = make_fake(version=version)
    if fake.legacy:
        fake.state.enterprise_state = "ACTIVE"  # 2.11 activates auth only under enterprise
    root = client(fake, ROOT)
    root.auth.activate(root_token=ROOT)

    def bind_job_admin() -> None:
        root.auth.modify_role_binding(resource=CLUSTER, principal="group:jobs", roles=["jobAdmin"])

    if accepted:
        bind_job_admin()
        assert fake.state.cluster_role_bindings["group:jobs"] == {"jobAdmin"}
        return
    err = rpc_error(bind_job_admin)
    assert (err.code(), err.details()) == (grpc.StatusCode.UNKNOWN, 'unknown role "jobAdmin"')
    assert "group:jobs" not in fake.state.cluster_role_bindings


def test_modify_and_get_role_bindings(active: FakePachd) -> None:
    root = client(active, ROOT)
    root.auth.modify_role_binding(
        resource=CLUSTER, principal="group:pachyderm-admins", roles=["clusterAdmin"]
    )
    root.auth.modify_role_binding(
        resource=CLUSTER, principal="allClusterUsers", roles=["projectViewer", "projectCreator"]
    )
    entries = root.auth.get_role_binding(resource=CLUSTER).binding.entries
    assert entries["group:pachyderm-admins"].roles == {"clusterAdmin": True}
    assert entries["allClusterUsers"].roles == {"projectCreator": True, "projectViewer": True}
    assert entries["pach:root"].roles == {"clusterAdmin": True}
    root.auth.modify_role_binding(resource=CLUSTER, principal="group:pachyderm-admins", roles=[])
    assert "group:pachyderm-admins" not in active.state.cluster_role_bindings
    assert "group:pachyderm-admins" not in (
        root.auth.get_role_binding(resource=CLUSTER).binding.entries
    )


def test_non_admin_cannot_modify_role_bindings(active: FakePachd) -> None:
    active.state.tokens["bob"] = "user:bob"
    err = rpc_error(
        lambda: client(active, "bob").auth.modify_role_binding(
            resource=CLUSTER, principal="user:bob", roles=["clusterAdmin"]
        )
    )
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED


# --- readiness, faults, call log ------------------------------------------------------------------


def test_not_ready_until_ready_after(make_fake: Factory) -> None:
    fake = make_fake(ready_after=0.3)
    c = client(fake)
    err = rpc_error(lambda: c.get_version())
    assert err.code() == grpc.StatusCode.UNAVAILABLE
    assert "pachd is starting" in err.details()
    deadline = time.monotonic() + 2.0
    while True:
        try:
            c.get_version()
            break
        except grpc.RpcError:
            assert time.monotonic() < deadline, "fake never became ready"
            time.sleep(0.05)
    assert fake.call_counts()["version.GetVersion"] >= 2


def test_not_ready_can_look_like_connection_refused(make_fake: Factory) -> None:
    fake = make_fake(ready_after=5.0)
    fake.unready_details = "failed to connect to all addresses; pachd is restarting"
    with pytest.raises(ConnectionError, match="Could not connect to pachyderm instance"):
        client(fake).auth.activate(root_token=ROOT)
    assert not fake.state.auth_active


def test_delay_readiness_keeps_state(active: FakePachd) -> None:
    active.delay_readiness(5.0)
    err = rpc_error(lambda: client(active, ROOT).auth.who_am_i())
    assert err.code() == grpc.StatusCode.UNAVAILABLE
    active.delay_readiness(0.0)
    assert client(active, ROOT).auth.who_am_i().username == "pach:root"


def test_injected_fault_before_effect(active: FakePachd) -> None:
    root = client(active, ROOT)
    active.inject("identity.CreateIDPConnector", grpc.StatusCode.UNAVAILABLE, times=2)
    for _ in range(2):
        err = rpc_error(lambda: root.identity.create_idp_connector(connector=okta_connector()))
        assert (err.code(), err.details()) == (grpc.StatusCode.UNAVAILABLE, "injected fault")
        assert active.state.connectors == {}
    root.identity.create_idp_connector(connector=okta_connector())
    assert "okta" in active.state.connectors
    assert active.call_counts()["identity.CreateIDPConnector"] == 3
    assert active.pending_faults() == {}


def test_injected_fault_by_full_path(active: FakePachd) -> None:
    active.inject("/auth_v2.API/WhoAmI", grpc.StatusCode.INTERNAL, "boom")
    err = rpc_error(lambda: client(active, ROOT).auth.who_am_i())
    assert (err.code(), err.details()) == (grpc.StatusCode.INTERNAL, "boom")
    assert client(active, ROOT).auth.who_am_i().username == "pach:root"


def test_injected_fault_can_quote_the_request_it_refuses(active: FakePachd) -> None:
    active.inject(
        "identity.CreateIDPConnector", grpc.StatusCode.INTERNAL, "bad request", echo_request=True
    )
    connector = okta_connector()
    err = rpc_error(lambda: client(active, ROOT).identity.create_idp_connector(connector=connector))
    assert err.code() == grpc.StatusCode.INTERNAL
    assert (
        err.details() == f"bad request: {identity.CreateIdpConnectorRequest(connector).to_json()}"
    )
    assert json.loads(connector.json_config)["clientSecret"] in err.details()
    assert active.state.connectors == {}


def test_injected_fault_after_effect_loses_the_response(fake: FakePachd) -> None:
    fake.inject("auth.Activate", grpc.StatusCode.UNAVAILABLE, "pachd restarted", after=True)
    err = rpc_error(lambda: client(fake).auth.activate(root_token=ROOT))
    assert (err.code(), err.details()) == (grpc.StatusCode.UNAVAILABLE, "pachd restarted")
    assert fake.state.auth_active
    assert fake.state.root_token == ROOT
    err = rpc_error(lambda: client(fake, ROOT).auth.activate(root_token=ROOT))
    assert ALREADY_ACTIVATED in err.details()


def test_after_fault_waits_for_a_successful_call(active: FakePachd) -> None:
    root = client(active, ROOT)
    active.inject("identity.DeleteIDPConnector", grpc.StatusCode.UNAVAILABLE, after=True)
    assert rpc_error(lambda: root.identity.delete_idp_connector(id="okta")).details() == (
        "not found"
    )
    assert active.pending_faults() == {"identity.DeleteIDPConnector": 1}


def test_call_log_counts_and_classification(active: FakePachd) -> None:
    root = client(active, ROOT)
    root.get_version()
    root.auth.who_am_i()
    root.identity.create_idp_connector(connector=okta_connector())
    root.identity.get_idp_connector(id="okta")
    root.identity.list_oidc_clients()
    root.auth.get_role_binding(resource=CLUSTER)
    root.auth.get_configuration()
    root.identity.update_idp_connector(connector=okta_connector(1))
    rpc_error(lambda: root.identity.update_idp_connector(connector=okta_connector(1)))
    assert active.calls == [
        "version.GetVersion",
        "auth.WhoAmI",
        "identity.CreateIDPConnector",
        "identity.GetIDPConnector",
        "identity.ListOIDCClients",
        "auth.GetRoleBinding",
        "auth.GetConfiguration",
        "identity.UpdateIDPConnector",
        "identity.UpdateIDPConnector",
    ]
    assert active.call_counts()["identity.UpdateIDPConnector"] == 2
    assert active.reads() == [
        "version.GetVersion",
        "auth.WhoAmI",
        "identity.GetIDPConnector",
        "identity.ListOIDCClients",
        "auth.GetRoleBinding",
        "auth.GetConfiguration",
    ]
    assert active.writes() == [
        "identity.CreateIDPConnector",
        "identity.UpdateIDPConnector",
        "identity.UpdateIDPConnector",
    ]
    active.reset_calls()
    assert active.calls == []
    assert active.writes() == []


def test_name_helpers() -> None:
    assert short_name("/identity_v2.API/CreateIDPConnector") == "identity.CreateIDPConnector"
    assert short_name("/versionpb_v2.API/GetVersion") == "version.GetVersion"
    assert short_name("auth.Activate") == "auth.Activate"
    assert full_name("version.GetVersion") == "/versionpb_v2.API/GetVersion"
    assert full_name("license.Activate") == "/license_v2.API/Activate"
    reads = ["enterprise.GetState", "license.GetActivationCode", "admin.InspectCluster"]
    assert all(is_read(m) for m in [*reads, "auth.WhoAmI", "identity.ListIDPConnectors"])
    assert not any(is_read(m) for m in ["auth.Activate", "pfs.ActivateAuth", "identity.DeleteAll"])
