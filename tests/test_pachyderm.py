"""The Pachyderm component under recording mocks: exact children, exact Release inputs, no leaks.

Guards against a generated credential reaching Helm values or any other non-Secret input (it
would sit in plaintext in the Helm release history and rendered objects), against caller options
leaking into children, against unpinned chart versions or auto-named releases, and against the
auth component losing the console client secret it must register in Dex.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_kubernetes as kubernetes
import pytest
from pulumi.runtime import mocks as pulumi_mocks

from components import urls
from components.helm_values import ChartSecretNames, pachyderm_values
from components.pachyderm import PachydermDeployment, PachydermDeploymentArgs
from components.settings import StackSettings, load_settings
from testkit.mocks import MockRun, Registration, is_secret, unwrap

COMPONENT = "pachyderm-okta:pachyderm:Deployment"
NAMESPACE = "kubernetes:core/v1:Namespace"
SECRET = "kubernetes:core/v1:Secret"
RELEASE = "kubernetes:helm.sh/v3:Release"
PASSWORD = "random:index/randomPassword:RandomPassword"
RANDOM_ID = "random:index/randomId:RandomId"
DEPLOYMENT_ID = "fedcba9876543210fedcba9876543210"

BASE_CONFIG: dict[str, tuple[str, bool]] = {
    "okta:orgName": ("dev-123456", False),
    "okta:baseUrl": ("okta.com", False),
    "okta:apiToken": ("test-okta-api-token-SSWS-0001", True),
    "pachyderm-okta:publicUrl": ("http://192.168.49.2:30080", False),
}


def _password_for(name: str) -> str:
    return f"test-generated-{name}-0042"


def _settings(extra: dict[str, tuple[str, bool]] | None = None) -> StackSettings:
    return load_settings(lambda: {**BASE_CONFIG, **(extra or {})})


@pytest.fixture
def mocked(mock_run: MockRun) -> MockRun:
    """The mocks with the random provider's computed outputs modelled."""

    def password(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
        return {"result": _password_for(args.name)}

    mock_run.mocks.outputs[PASSWORD] = password
    mock_run.mocks.outputs[RANDOM_ID] = lambda _args: {"hex": DEPLOYMENT_ID}
    return mock_run


def _deploy(
    mocked: MockRun,
    extra: dict[str, tuple[str, bool]] | None = None,
    name: str = "pachyderm",
) -> tuple[PachydermDeployment, StackSettings]:
    def program() -> tuple[PachydermDeployment, StackSettings]:
        settings = _settings(extra)
        k8s = kubernetes.Provider("k8s", context="minikube")
        deployment = PachydermDeployment(
            name,
            PachydermDeploymentArgs(
                settings=settings.project.pachyderm, public_url=settings.project.public_url
            ),
            opts=pulumi.ResourceOptions(providers=[k8s], protect=False),
        )
        return deployment, settings

    return mocked.run(program)


def _children(mocked: MockRun) -> list[Registration]:
    component = mocked.one(COMPONENT)
    return [r for r in mocked.registrations if r.parent == component.urn]


def test_children_are_exactly_these_named_from_the_component(mocked: MockRun) -> None:
    _deploy(mocked, name="prod-pachyderm")
    assert sorted((r.type, r.name) for r in _children(mocked)) == sorted(
        [
            (NAMESPACE, "prod-pachyderm-namespace"),
            (PASSWORD, "prod-pachyderm-postgres-password"),
            (PASSWORD, "prod-pachyderm-postgres-admin-password"),
            (PASSWORD, "prod-pachyderm-console-client-secret"),
            (RANDOM_ID, "prod-pachyderm-deployment-id"),
            (SECRET, "prod-pachyderm-postgres-secret"),
            (SECRET, "prod-pachyderm-console-secret"),
            (RELEASE, "prod-pachyderm-release"),
        ]
    )
    # Everything but the stack, the provider and the component itself is a child.
    others = {r.type for r in mocked.registrations} - {COMPONENT, "pulumi:providers:kubernetes"}
    assert others <= {r.type for r in _children(mocked)}
    assert len(mocked.registrations) == len(_children(mocked)) + 2


def test_kubernetes_children_use_the_callers_provider(mocked: MockRun) -> None:
    _deploy(mocked)
    provider = mocked.one("pulumi:providers:kubernetes", "k8s")
    for registration in _children(mocked):
        if registration.type.startswith("kubernetes:"):
            assert registration.provider.startswith(provider.urn + "::"), registration.name


def test_release_inputs_are_exact(mocked: MockRun) -> None:
    _, settings = _deploy(mocked)
    release = mocked.one(RELEASE, "pachyderm-release")
    inputs = release.plain_inputs
    expected_values = pachyderm_values(
        settings.project.pachyderm,
        public_url=urls.parse_public_url("http://192.168.49.2:30080"),
        secret_names=ChartSecretNames(
            postgres="pachyderm-postgres-credentials", console_client="pachyderm-console-oauth"
        ),
        cluster_deployment_id=DEPLOYMENT_ID,
    )
    assert {key: inputs.get(key) for key in EXPECTED_RELEASE} == {
        **EXPECTED_RELEASE,
        "values": expected_values,
    }
    # Spot-check the parts that matter most, so that a builder bug cannot hide in both sides.
    assert inputs["values"]["pachd"]["activateAuth"] is False
    assert inputs["values"]["pachd"]["clusterDeploymentID"] == DEPLOYMENT_ID
    assert inputs["values"]["oidc"]["mockIDP"] is False
    assert inputs["values"]["proxy"]["host"] == "192.168.49.2:30080"


EXPECTED_RELEASE: dict[str, Any] = {
    "chart": "pachyderm",
    "version": "2.12.2",
    "repositoryOpts": {"repo": "https://helm.pachyderm.com"},
    "name": "pachyderm",
    "namespace": "pachyderm",
    "atomic": True,
    "cleanupOnFail": True,
    "timeout": 900,
    "values": None,
}


def test_release_follows_settings(mocked: MockRun) -> None:
    pachyderm = {
        "namespace": "data",
        "releaseName": "pach",
        "chartVersion": "2.11.6",
        "helmTimeoutSeconds": 1200,
        "values": {"etcd": {"storageSize": "1Gi"}},
    }
    _deploy(
        mocked,
        {
            "pachyderm-okta:pachyderm": (json.dumps(pachyderm), False),
            "pachyderm-okta:licenseKey": ("test-license-key-0002", True),
        },
    )
    inputs = mocked.one(RELEASE).plain_inputs
    assert (inputs["name"], inputs["namespace"], inputs["version"], inputs["timeout"]) == (
        "pach",
        "data",
        "2.11.6",
        1200,
    )
    assert inputs["values"]["etcd"] == {"storageSize": "1Gi"}
    assert inputs["values"]["global"]["postgresql"]["postgresqlExistingSecretName"] == (
        "pach-postgres-credentials"
    )
    assert mocked.one(NAMESPACE).plain_inputs["metadata"] == {"name": "data"}
    for secret in mocked.of_type(SECRET):
        assert secret.plain_inputs["metadata"]["namespace"] == "data"


def test_release_waits_for_its_namespace_and_secrets(mocked: MockRun) -> None:
    _deploy(mocked)
    release = mocked.one(RELEASE)
    needed = {mocked.one(NAMESPACE).urn} | {s.urn for s in mocked.of_type(SECRET)}
    assert needed <= set(release.dependencies)
    for secret in mocked.of_type(SECRET):
        assert mocked.one(NAMESPACE).urn in secret.dependencies


def test_secrets_hold_the_generated_credentials_under_the_charts_keys(mocked: MockRun) -> None:
    _deploy(mocked)
    postgres = mocked.one(SECRET, "pachyderm-postgres-secret")
    console = mocked.one(SECRET, "pachyderm-console-secret")
    assert postgres.plain_inputs["metadata"] == {
        "name": "pachyderm-postgres-credentials",
        "namespace": "pachyderm",
    }
    assert postgres.plain_inputs["stringData"] == {
        "postgresql-password": _password_for("pachyderm-postgres-password"),
        "postgresql-postgres-password": _password_for("pachyderm-postgres-admin-password"),
    }
    assert console.plain_inputs["metadata"] == {
        "name": "pachyderm-console-oauth",
        "namespace": "pachyderm",
    }
    assert console.plain_inputs["stringData"] == {
        "OAUTH_CLIENT_SECRET": _password_for("pachyderm-console-client-secret")
    }
    for secret in (postgres, console):
        string_data = secret.inputs["stringData"]
        assert is_secret(string_data) or all(is_secret(v) for v in string_data.values())
        assert "data" not in secret.inputs


def test_passwords_are_long_and_plain(mocked: MockRun) -> None:
    _deploy(mocked)
    passwords = mocked.of_type(PASSWORD)
    assert len(passwords) == 3
    for password in passwords:
        assert password.plain_inputs["length"] >= 32
        assert password.plain_inputs["special"] is False
    assert mocked.one(RANDOM_ID).plain_inputs["byteLength"] == 16


def test_no_generated_secret_outside_kubernetes_secrets(mocked: MockRun) -> None:
    _deploy(mocked)
    secrets = [_password_for(r.name) for r in mocked.of_type(PASSWORD)]
    assert len(set(secrets)) == 3
    checked = [r for r in mocked.registrations if r.type != SECRET]
    assert mocked.one(RELEASE) in checked
    for registration in checked:
        text = json.dumps(unwrap(registration.inputs), default=str)
        for value in secrets:
            assert value not in text, f"{registration.type} {registration.name} holds a secret"
    # The Okta token never reaches this component either.
    release_text = json.dumps(mocked.one(RELEASE).plain_inputs)
    assert "test-okta-api-token" not in release_text


def test_outputs_are_registered_and_the_client_secret_is_secret(mocked: MockRun) -> None:
    deployment, _ = _deploy(mocked)
    component = mocked.one(COMPONENT, "pachyderm")
    outputs = mocked.monitor.component_outputs[component.urn]
    assert set(outputs) == {
        "namespace",
        "release_name",
        "console_client_secret",
        "release",
    }
    assert is_secret(outputs["console_client_secret"])
    assert unwrap(outputs["console_client_secret"]) == _password_for(
        "pachyderm-console-client-secret"
    )

    assert mocked.resolve(deployment.console_client_secret) == (
        _password_for("pachyderm-console-client-secret"),
        True,
        True,
    )
    assert mocked.resolve(deployment.namespace) == ("pachyderm", True, False)
    assert mocked.resolve(deployment.release_name) == ("pachyderm", True, False)
    assert isinstance(deployment.release, kubernetes.helm.v3.Release)
    assert mocked.resolve(deployment.release.urn)[0] == mocked.one(RELEASE).urn


def test_children_carry_no_caller_options(mocked: MockRun) -> None:
    def program() -> None:
        settings = _settings()
        PachydermDeployment(
            "pachyderm",
            PachydermDeploymentArgs(
                settings=settings.project.pachyderm, public_url=settings.project.public_url
            ),
            opts=pulumi.ResourceOptions(protect=True, ignore_changes=["foo"]),
        )

    mocked.run(program)
    assert mocked.one(COMPONENT).protect is True
    for registration in _children(mocked):
        assert registration.ignore_changes == (), registration.name
