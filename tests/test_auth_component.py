"""``PachydermAuth`` under recording mocks: exact children, ordering, secrecy, pickled providers.

Regressions guarded: a renamed child or type token moves a URN (Pulumi would delete and re-create
pachd objects); a missing ``depends_on`` lets identity/connector/client/config calls race
``auth.Activate`` (they fail "the auth service is not activated") or lets SetConfiguration run
before Dex knows its issuer and client; a root token, client secret, connector config or license
key registered without a secret marker, or an output missing from ``additional_secret_outputs``,
ends up in plaintext in the state file (the engine encrypts only what is marked secret); an
adopted root token must not also mint one; the pickled ``__provider`` must be present for the
dynamic host to load; and the component must register its outputs with the root token secret.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import dill
import pulumi
import pytest
from pulumi.runtime import mocks as pulumi_mocks

from components import dex, urls
from components.pachyderm_auth import OktaConnectorArgs, PachydermAuth, PachydermAuthArgs
from components.pachyderm_auth import provider as old_path
from components.pachyderm_auth.activation import ActivationProvider
from components.pachyderm_auth.auth_config import AuthConfigProvider
from components.pachyderm_auth.base import PachdProvider
from components.pachyderm_auth.identity_config import IdentityConfigProvider
from components.pachyderm_auth.idp_connector import ConnectorProvider
from components.pachyderm_auth.oidc_client import OidcClientProvider
from components.pachyderm_auth.role_binding import RoleBindingProvider
from components.pachyderm_auth.stack_connection import ConnectionSettings
from components.settings import StackSettings, load_settings
from testkit.mocks import MockRun, Registration, is_secret, unwrap

COMPONENT = "pachyderm-okta:pachyderm:Auth"
PASSWORD = "random:index/randomPassword:RandomPassword"
ACTIVATION = "pulumi-python:dynamic/pachyderm:AuthActivation"
IDENTITY = "pulumi-python:dynamic/pachyderm:IdentityServerConfig"
CONNECTOR = "pulumi-python:dynamic/pachyderm:IdpConnector"
OIDC_CLIENT = "pulumi-python:dynamic/pachyderm:OidcClient"
AUTH_CONFIG = "pulumi-python:dynamic/pachyderm:AuthConfig"
BINDING = "pulumi-python:dynamic/pachyderm:ClusterRoleBinding"
WAIT_FOR = "test:index:HelmRelease"

PUBLIC_URL = "http://192.168.49.2:30080"
PACHD_ADDRESS = "grpc://192.168.49.2:30650"
OKTA_ISSUER = "https://dev-123456.okta.com"
OKTA_SECRET = "test-okta-client-secret-component-0001"
CONSOLE_SECRET = "test-console-secret-component-0002"
LICENSE = "test-license-key-component-0003"
ADOPTED_ROOT = "test-adopted-root-token-component-0004"

BASE_CONFIG: dict[str, tuple[str, bool]] = {
    "okta:orgName": ("dev-123456", False),
    "okta:baseUrl": ("okta.com", False),
    "okta:apiToken": ("test-okta-api-token-SSWS-0001", True),
    "pachyderm-okta:publicUrl": (PUBLIC_URL, False),
}
AUTH = {
    "clusterAdmins": ["group:admins", "user:alice@example.com"],
    "roleBindings": {"group:admins": ["repoReader"], "group:viewers": ["projectViewer"]},
}

PROVIDER_OF: dict[str, type[PachdProvider[Any]]] = {
    ACTIVATION: ActivationProvider,
    IDENTITY: IdentityConfigProvider,
    CONNECTOR: ConnectorProvider,
    OIDC_CLIENT: OidcClientProvider,
    AUTH_CONFIG: AuthConfigProvider,
    BINDING: RoleBindingProvider,
}


def _password_for(name: str) -> str:
    return f"test-generated-{name}-0042"


def _settings(auth: dict[str, Any] | None = None) -> StackSettings:
    return load_settings(
        lambda: {
            **BASE_CONFIG,
            "pachyderm-okta:auth": (json.dumps(AUTH if auth is None else auth), False),
        }
    )


@pytest.fixture
def mocked(mock_run: MockRun) -> MockRun:
    def password(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
        return {"result": _password_for(args.name)}

    mock_run.mocks.outputs[PASSWORD] = password
    mock_run.mocks.outputs[CONNECTOR] = lambda _args: {"config_version": 0}
    return mock_run


class _Release(pulumi.CustomResource):
    def __init__(self, name: str) -> None:
        super().__init__(WAIT_FOR, name, {})


def _deploy(
    mocked: MockRun,
    *,
    auth: dict[str, Any] | None = None,
    license_key: str | None = None,
    adopted_root_token: str | None = None,
) -> PachydermAuth:
    def program() -> PachydermAuth:
        settings = _settings(auth)
        release = _Release("release")
        return PachydermAuth(
            "auth",
            PachydermAuthArgs(
                settings=settings.project.auth,
                public_url=settings.project.public_url,
                connection=ConnectionSettings(
                    pachd_address=PACHD_ADDRESS,
                    pachd_ca_cert="",
                    call_timeout_seconds=settings.project.auth.call_timeout_seconds,
                    ready_timeout_seconds=settings.project.auth.pachd_ready_timeout_seconds,
                    port_forward=None,
                ),
                okta=OktaConnectorArgs(
                    issuer=OKTA_ISSUER,
                    client_id="0oa1client",
                    client_secret=pulumi.Output.secret(OKTA_SECRET),
                    scopes=dex.okta_connector_scopes(groups=True),
                ),
                console_client_secret=pulumi.Output.secret(CONSOLE_SECRET),
                license_key=None if license_key is None else pulumi.Output.secret(license_key),
                adopted_root_token=None
                if adopted_root_token is None
                else pulumi.Output.secret(adopted_root_token),
                wait_for=(release,),
            ),
        )

    return mocked.run(program)


def _children(mocked: MockRun, component: Registration) -> list[Registration]:
    return [r for r in mocked.registrations if r.parent == component.urn]


def _binding_name(principal: str) -> str:
    from components.naming import name_suffix

    return f"auth-binding-{name_suffix(principal)}"


# --- children -----------------------------------------------------------------------------------


def test_exact_children_and_parents(mocked: MockRun) -> None:
    _deploy(mocked)
    component = mocked.one(COMPONENT, "auth")
    children = _children(mocked, component)
    assert sorted((r.type, r.name) for r in children) == sorted(
        [
            (PASSWORD, "auth-root-token"),
            (PASSWORD, "auth-pachd-client-secret"),
            (ACTIVATION, "auth-activation"),
            (IDENTITY, "auth-identity"),
            (CONNECTOR, "auth-connector"),
            (OIDC_CLIENT, "auth-pachd-client"),
            (OIDC_CLIENT, "auth-console-client"),
            (AUTH_CONFIG, "auth-oidc-config"),
            (BINDING, _binding_name("group:admins")),
            (BINDING, _binding_name("group:viewers")),
            (BINDING, _binding_name("user:alice@example.com")),
        ]
    )
    registered = [r for r in mocked.registrations if r.type not in (COMPONENT, WAIT_FOR)]
    assert {r.urn for r in registered} == {r.urn for r in children}
    assert all(r.custom for r in children)


def test_one_binding_per_principal_with_merged_roles(mocked: MockRun) -> None:
    _deploy(mocked)
    settings = _settings()
    expected = settings.project.auth.cluster_role_bindings()
    assert expected == {
        "group:admins": ("clusterAdmin", "repoReader"),
        "group:viewers": ("projectViewer",),
        "user:alice@example.com": ("clusterAdmin",),
    }
    bindings = mocked.of_type(BINDING)
    assert len(bindings) == len(expected)
    for principal, roles in expected.items():
        binding = mocked.one(BINDING, _binding_name(principal))
        assert binding.plain_inputs["principal"] == principal
        assert binding.plain_inputs["roles"] == list(roles)


def test_no_bindings_without_principals(mocked: MockRun) -> None:
    _deploy(mocked, auth={})
    assert mocked.of_type(BINDING) == []


def test_dependencies(mocked: MockRun) -> None:
    _deploy(mocked)
    release = mocked.one(WAIT_FOR)
    activation = mocked.one(ACTIVATION)
    identity = mocked.one(IDENTITY)
    pachd_client = mocked.one(OIDC_CLIENT, "auth-pachd-client")
    assert release.urn in activation.dependencies
    assert mocked.one(PASSWORD, "auth-root-token").urn in activation.dependencies
    for registration in [
        identity,
        pachd_client,
        mocked.one(OIDC_CLIENT, "auth-console-client"),
        *mocked.of_type(BINDING),
    ]:
        assert activation.urn in registration.dependencies, registration.name
    assert identity.urn in mocked.one(CONNECTOR).dependencies
    oidc_config = mocked.one(AUTH_CONFIG)
    assert identity.urn in oidc_config.dependencies
    assert pachd_client.urn in oidc_config.dependencies


# --- inputs -------------------------------------------------------------------------------------


def test_inputs_of_every_child(mocked: MockRun) -> None:
    _deploy(mocked)
    root = _password_for("auth-root-token")
    pachd_secret = _password_for("auth-pachd-client-secret")
    connection = {
        "pachd_address": PACHD_ADDRESS,
        "root_token": root,
        "call_timeout_seconds": 30,
        "ready_timeout_seconds": 600,
        "pachd_ca_cert": "",
    }

    def plain(registration: Registration) -> dict[str, Any]:
        return {k: v for k, v in registration.plain_inputs.items() if k != "__provider"}

    assert plain(mocked.one(ACTIVATION)) == {
        **connection,
        "license_key": "",
        "enterprise_secret": "",
        "deactivate_on_delete": False,
    }
    assert plain(mocked.one(IDENTITY)) == {
        **connection,
        "issuer": f"{PUBLIC_URL}/dex",
        "id_token_expiry": "24h",
        "rotation_token_expiry": "48h",
    }
    assert plain(mocked.one(CONNECTOR)) == {
        **connection,
        "connector_id": "okta",
        "name": "Okta",
        "type": "oidc",
        "config": {
            "issuer": OKTA_ISSUER,
            "clientID": "0oa1client",
            "clientSecret": OKTA_SECRET,
            "redirectURI": f"{PUBLIC_URL}/dex/callback",
            "scopes": ["profile", "email", "groups", "offline_access"],
            "basicAuthUnsupported": True,
            "insecureEnableGroups": True,
            "getUserInfo": True,
            "insecureSkipEmailVerified": True,
            "insecureSkipIssuerCallbackDomainCheck": False,
        },
    }
    public_url = urls.parse_public_url(PUBLIC_URL)
    assert plain(mocked.one(OIDC_CLIENT, "auth-pachd-client")) == {
        **connection,
        "client_id": "pachd",
        "name": "pachd",
        "secret": pachd_secret,
        "redirect_uris": [urls.pachd_redirect_uri(public_url)],
        "trusted_peers": ["console"],
    }
    assert plain(mocked.one(OIDC_CLIENT, "auth-console-client")) == {
        **connection,
        "client_id": "console",
        "name": "console",
        "secret": CONSOLE_SECRET,
        "redirect_uris": [urls.console_redirect_uri(public_url)],
        "trusted_peers": [],
    }
    assert plain(mocked.one(AUTH_CONFIG)) == {
        **connection,
        "issuer": f"{PUBLIC_URL}/dex",
        "client_id": "pachd",
        "client_secret": pachd_secret,
        "redirect_uri": urls.pachd_redirect_uri(public_url),
        "scopes": ["email", "profile", "groups", "openid"],
        "localhost_issuer": True,
        "user_accessible_issuer_host": PUBLIC_URL,
        "require_email_verified": False,
    }


def test_every_child_input_parses_with_its_provider_model(mocked: MockRun) -> None:
    _deploy(mocked, license_key=LICENSE)
    for type_token, provider_class in PROVIDER_OF.items():
        for registration in mocked.of_type(type_token):
            checked = provider_class().check({}, registration.plain_inputs)
            assert checked.failures == [], registration.name


def test_secret_inputs_are_wrapped(mocked: MockRun) -> None:
    _deploy(mocked, license_key=LICENSE)
    for type_token in PROVIDER_OF:
        for registration in mocked.of_type(type_token):
            assert is_secret(registration.inputs["root_token"]), registration.name
    activation = mocked.one(ACTIVATION)
    assert is_secret(activation.inputs["license_key"])
    assert is_secret(activation.inputs["enterprise_secret"])
    assert activation.plain_inputs["license_key"] == LICENSE
    assert activation.plain_inputs["enterprise_secret"] == _password_for("auth-enterprise-secret")
    assert is_secret(mocked.one(CONNECTOR).inputs["config"])
    for client in mocked.of_type(OIDC_CLIENT):
        assert is_secret(client.inputs["secret"]), client.name
    assert is_secret(mocked.one(AUTH_CONFIG).inputs["client_secret"])


def test_no_secret_value_outside_a_secret_wrapper(mocked: MockRun) -> None:
    _deploy(mocked, license_key=LICENSE)
    secrets = {
        OKTA_SECRET,
        CONSOLE_SECRET,
        LICENSE,
        _password_for("auth-root-token"),
        _password_for("auth-pachd-client-secret"),
        _password_for("auth-enterprise-secret"),
    }

    def exposed(value: Any) -> list[str]:
        if is_secret(value):
            return []
        if isinstance(value, dict):
            return [s for item in value.values() for s in exposed(item)]
        if isinstance(value, list):
            return [s for item in value for s in exposed(item)]
        return [s for s in secrets if isinstance(value, str) and s in value]

    for registration in mocked.registrations:
        if registration.type == PASSWORD:
            continue
        assert exposed(registration.inputs) == [], registration.name


@pytest.mark.parametrize("type_token", list(PROVIDER_OF))
def test_additional_secret_outputs_are_the_declared_credentials(
    mocked: MockRun, type_token: str
) -> None:
    _deploy(mocked)
    declared = PROVIDER_OF[type_token].secret_outputs()
    assert declared[0] == "root_token"
    for registration in mocked.of_type(type_token):
        assert list(registration.additional_secret_outputs) == declared
        # Whatever the component hands over as a secret is declared a credential.
        marked = {key for key, value in registration.inputs.items() if is_secret(value)}
        assert marked - {"__provider"} <= set(declared), registration.name


def test_license_mints_an_enterprise_secret(mocked: MockRun) -> None:
    _deploy(mocked, license_key=LICENSE)
    names = {r.name for r in mocked.of_type(PASSWORD)}
    assert names == {"auth-root-token", "auth-pachd-client-secret", "auth-enterprise-secret"}


def test_adopted_root_token_skips_minting(mocked: MockRun) -> None:
    component = _deploy(mocked, adopted_root_token=ADOPTED_ROOT)
    names = {r.name for r in mocked.of_type(PASSWORD)}
    assert names == {"auth-pachd-client-secret"}
    for type_token in PROVIDER_OF:
        for registration in mocked.of_type(type_token):
            assert is_secret(registration.inputs["root_token"])
            assert registration.plain_inputs["root_token"] == ADOPTED_ROOT
    value, known, secret = mocked.resolve(component.root_token)
    assert (value, known, secret) == (ADOPTED_ROOT, True, True)


@pytest.mark.parametrize("type_token", list(PROVIDER_OF))
def test_pickled_provider_is_present_and_loads(mocked: MockRun, type_token: str) -> None:
    _deploy(mocked)
    for registration in mocked.of_type(type_token):
        pickled = registration.inputs["__provider"]
        assert is_secret(pickled)
        text = unwrap(pickled)
        assert isinstance(text, str)
        raw = base64.b64decode(text, validate=True)
        # Pickled by reference (an importable module), so small and free of secrets.
        provider = PROVIDER_OF[type_token]
        assert provider.__module__.startswith("components.pachyderm_auth.")
        assert provider.__module__.encode() in raw
        loaded = dill.loads(raw)  # noqa: S301 - our own pickle
        assert type(loaded) is provider
        assert vars(loaded) == {}
        # Stacks made before the split hold pickles of the old path: it names the same class.
        assert getattr(old_path, provider.__name__) is provider


# --- outputs ------------------------------------------------------------------------------------


def test_registered_outputs(mocked: MockRun) -> None:
    component = _deploy(mocked)
    registration = mocked.one(COMPONENT, "auth")
    outputs = mocked.monitor.component_outputs[registration.urn]
    assert set(outputs) == {"root_token", "issuer", "connector_version", "robot_tokens"}
    assert outputs["robot_tokens"] == {}
    assert is_secret(outputs["root_token"])
    assert unwrap(outputs["root_token"]) == _password_for("auth-root-token")
    assert outputs["issuer"] == f"{PUBLIC_URL}/dex"
    assert outputs["connector_version"] == 0
    assert mocked.resolve(component.root_token) == (_password_for("auth-root-token"), True, True)
    assert mocked.resolve(component.issuer)[0] == f"{PUBLIC_URL}/dex"
