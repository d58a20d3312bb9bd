"""The CrossGuard pack's four policies, each against passing and failing resources.

Guards these regressions: an Okta app that drifts to an implicit, SPA or client-credentials flow
or to a plain-http redirect on a public host; a Helm release that floats to a chart range or
carries a credential in its values (Helm keeps values in plaintext in the release Secret); a
Pachyderm auth resource whose root token could land in the state unencrypted; and a policy
silently demoted from mandatory or renamed (the names are what stack owners configure).

The validate functions get the real ``ResourceValidationArgs`` and ``PolicyResourceOptions``
(their constructors are public), with props built the way ``_PolicyAnalyzerServicer.Analyze``
builds them: wire-form properties through ``deserialize_properties`` and
``unknown_checking_proxy``. Two tests drive the servicer itself, which the CLI would talk to,
so the engine-visible names, enforcement levels and message format are checked too.
"""

# The repository's per-file-ignores cover tests/** only, not policy/tests/**: the same two
# exemptions, asserts and docstring-less test functions, declared here.

from __future__ import annotations

import runpy
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi_policy
import pytest
from pulumi.runtime import proto
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResourceOptions,
    ResourceValidation,
    ResourceValidationArgs,
)
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY, deserialize_properties
from pulumi_policy.policy import _PolicyAnalyzerServicer
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from components import urls
from components.helm_values import (
    POSTGRES_PASSWORD_PLACEHOLDER,
    ChartSecretNames,
    pachyderm_values,
)
from components.settings import PachydermSettings
from policy import policies

POLICY_DIR = Path(policies.__file__).resolve().parent
ACTIVATION = "pulumi-python:dynamic/pachyderm:AuthActivation"
CONNECTOR = "pulumi-python:dynamic/pachyderm:IdpConnector"
DEV_URL = "http://192.168.49.2:30080"
PROD_URL = "https://pachyderm.example.com"

HTTPS_HINT = (
    "must use https (http is allowed only for localhost, loopback or private addresses and "
    ".local/.internal names)"
)
HELM_HINT = (
    "Helm stores values in plaintext in the release Secret; create a Kubernetes Secret with "
    "Pulumi and set the chart's matching *SecretName value instead"
)
GRANTS_HINT = "no implicit, client_credentials, password or device grants"


def secret(value: Any) -> dict[str, Any]:
    """A value as the engine sends a secret on the wire (pulumi_policy/deserialize.py)."""
    return {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": value}


def resource(
    resource_type: str,
    props: Mapping[str, Any],
    *,
    secret_outputs: tuple[str, ...] = (),
    keep_secret_markers: bool = False,
) -> ResourceValidationArgs:
    """Args as the servicer builds them; ``keep_secret_markers`` as for a remediation."""
    deserialized = deserialize_properties(dict(props), keep_secret_markers)
    options = PolicyResourceOptions(
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=list(secret_outputs),
    )
    name = "test"
    urn = f"urn:pulumi:dev::pachyderm-okta::{resource_type}::{name}"
    return ResourceValidationArgs(
        resource_type, unknown_checking_proxy(deserialized), urn, name, options, None
    )


def violations(validate: ResourceValidation, args: ResourceValidationArgs) -> list[str]:
    found: list[str] = []

    def report(message: str, urn: str | None) -> None:
        found.append(message)

    assert validate(args, report) is None
    return found


def okta_app(**overrides: Any) -> ResourceValidationArgs:
    """The app as components/okta_app.py builds it (wire names), with overrides."""
    props: dict[str, Any] = {
        "label": "Pachyderm",
        "type": "web",
        "grantTypes": ["authorization_code", "refresh_token"],
        "responseTypes": ["code"],
        "redirectUris": [f"{PROD_URL}/dex/callback"],
        "postLogoutRedirectUris": [PROD_URL],
    }
    props.update(overrides)
    return resource(policies.OKTA_OAUTH_APP, {k: v for k, v in props.items() if v is not None})


def release(values: Any, version: str | None = "2.12.2") -> ResourceValidationArgs:
    props: dict[str, Any] = {"name": "pachyderm", "chart": "pachyderm", "values": values}
    if version is not None:
        props["version"] = version
    return resource(policies.HELM_RELEASE, props)


def builder_values(public_url: str) -> dict[str, Any]:
    """The program's real Helm values (components/helm_values.py), for the stack's URL."""
    return pachyderm_values(
        PachydermSettings.model_validate({}),
        public_url=urls.parse_public_url(public_url),
        secret_names=ChartSecretNames.for_release("pachyderm"),
        cluster_deployment_id="0123456789abcdef0123456789abcdef",
    )


# 1. okta-app-web-code-flow-only ---------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        okta_app(),
        okta_app(grantTypes=["refresh_token", "authorization_code"]),
        # Not an Okta OAuth app: the policy does not apply.
        resource("okta:group/group:Group", {"name": "pachyderm-admins", "type": "browser"}),
    ],
)
def test_code_flow_web_apps_pass(args: ResourceValidationArgs) -> None:
    assert violations(policies.validate_okta_app_code_flow, args) == []


def test_implicit_grant_is_refused() -> None:
    args = okta_app(grantTypes=["authorization_code", "implicit", "refresh_token"])
    assert violations(policies.validate_okta_app_code_flow, args) == [
        'grantTypes must be exactly ["authorization_code", "refresh_token"] (got '
        f'["authorization_code", "implicit", "refresh_token"]): {GRANTS_HINT}'
    ]


def test_spa_app_with_token_response_is_refused() -> None:
    args = okta_app(type="browser", responseTypes=["code", "token"])
    assert violations(policies.validate_okta_app_code_flow, args) == [
        'type must be "web" (got "browser")',
        'responseTypes must be exactly ["code"] (got ["code", "token"])',
    ]


def test_provider_default_grants_are_refused() -> None:
    # Unset, the provider sends only authorization_code and Dex never gets a refresh token.
    args = okta_app(grantTypes=None, responseTypes=None)
    assert violations(policies.validate_okta_app_code_flow, args) == [
        f'grantTypes must be exactly ["authorization_code", "refresh_token"] (got none): '
        f"{GRANTS_HINT}",
        'responseTypes must be exactly ["code"] (got none)',
    ]


# 2. redirect-uris-https -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        okta_app(),
        okta_app(
            redirectUris=[f"{DEV_URL}/dex/callback", "http://localhost:8080/dex/callback"],
            postLogoutRedirectUris=["http://pachyderm.local", "http://[::1]:30080"],
        ),
    ],
)
def test_https_and_local_redirects_pass(args: ResourceValidationArgs) -> None:
    assert violations(policies.validate_redirect_uris_https, args) == []


def test_http_redirect_to_public_host_is_refused() -> None:
    args = okta_app(redirectUris=["http://pachyderm.example.com/dex/callback"])
    assert violations(policies.validate_redirect_uris_https, args) == [
        f"redirectUris[0] 'http://pachyderm.example.com/dex/callback' {HTTPS_HINT}"
    ]


def test_post_logout_redirects_are_checked_too() -> None:
    args = okta_app(
        postLogoutRedirectUris=[PROD_URL, "http://34.120.10.5:30080", "com.example.app:/logout"]
    )
    assert violations(policies.validate_redirect_uris_https, args) == [
        f"postLogoutRedirectUris[1] 'http://34.120.10.5:30080' {HTTPS_HINT}",
        f"postLogoutRedirectUris[2] 'com.example.app:/logout' {HTTPS_HINT}",
    ]


# 3. helm-release-pinned-without-literal-secrets ----------------------------------------------


def test_the_programs_own_values_pass() -> None:
    assert violations(policies.validate_helm_release, release(builder_values(DEV_URL))) == []


def test_secret_references_and_non_credentials_pass() -> None:
    values = {
        "global": {
            "postgresql": {
                "postgresqlPassword": "",  # blank: the chart reads the existing Secret
                "postgresqlExistingSecretName": "pg",
                "postgresqlExistingSecretKey": "postgresql-password",
                "existingSecret": "pg",
                "postgresqlSSLSecret": "pg-tls",
                "postgresqlPassword2": UNKNOWN_STRING_VALUE,  # unknown in preview: skipped
            },
            "imagePullSecrets": ["regcred"],
        },
        "pachd": {"rootTokenSecretName": "root", "enterpriseLicenseKeySecretName": "license"},
        "determined": {"clientSecretName": "oidc", "clientSecretKey": "client-secret"},
        "oidc": {"IDTokenExpiry": "24h", "RotationTokenExpiry": "48h"},
        "proxy": {"tls": {"enabled": True, "secretName": "pachyderm-tls"}},
        "console": {"config": {"oauthClientSecretSecretName": "console-oauth"}},
    }
    assert violations(policies.validate_helm_release, release(values, "v2.11.6")) == []


@pytest.mark.parametrize(
    ("version", "message"),
    [
        (
            None,
            "version must pin an exact chart version such as 2.12.2 (got none): an unpinned "
            "release installs whatever the repository serves as latest",
        ),
        *(
            (
                version,
                f"version {version!r} is not an exact semantic version such as 2.12.2: a range "
                "(^, ~, *, x, >=) lets Helm pick a different chart on a later run",
            )
            for version in ("^2.12.0", "~2.12.2", "2.12.x", "*", ">=2.11.0", "2.12")
        ),
    ],
)
def test_unpinned_chart_version_is_refused(version: str | None, message: str) -> None:
    args = release(builder_values(DEV_URL), version)
    assert violations(policies.validate_helm_release, args) == [message]


def test_only_the_programs_placeholder_password_next_to_an_existing_secret_passes() -> None:
    placeholder = POSTGRES_PASSWORD_PLACEHOLDER
    with_secret = {"postgresqlPassword": placeholder, "existingSecret": "pg"}
    without_secret = {"postgresqlPassword": placeholder}
    other_value = {"postgresqlPassword": "placeholder", "existingSecret": "pg"}
    refused = f"values.global.postgresql.postgresqlPassword holds a literal credential: {HELM_HINT}"
    for postgresql, expected in (
        (with_secret, []),
        (without_secret, [refused]),
        (other_value, [refused]),
    ):
        values = {"global": {"postgresql": postgresql}}
        assert violations(policies.validate_helm_release, release(values)) == expected


def test_literal_credentials_at_any_depth_are_refused() -> None:
    values = {
        "global": {"postgresql": {"postgresqlPassword": "hunter2"}},
        "pachd": {
            "rootToken": "root-token-value",
            "enterpriseLicenseKey": "license",
            "storage": {"amazon": {"secretKey": "aws-secret", "id": "AKIA"}},
        },
        "oidc": {"upstreamIDPs": [{"id": "okta", "config": {"clientSecret": "okta-secret"}}]},
        # A *SecretKey without its *SecretName sibling names nothing: it is a credential.
        "storage": {"awsSecretKey": "aws-secret"},
    }
    assert violations(policies.validate_helm_release, release(values)) == [
        f"values.global.postgresql.postgresqlPassword holds a literal credential: {HELM_HINT}",
        f"values.pachd.rootToken holds a literal credential: {HELM_HINT}",
        f"values.pachd.enterpriseLicenseKey holds a literal credential: {HELM_HINT}",
        f"values.pachd.storage.amazon.secretKey holds a literal credential: {HELM_HINT}",
        f"values.oidc.upstreamIDPs[0].config.clientSecret holds a literal credential: {HELM_HINT}",
        f"values.storage.awsSecretKey holds a literal credential: {HELM_HINT}",
    ]


def test_secret_marked_values_are_refused_whatever_the_key() -> None:
    # Secret markers reach a policy only in the remediation representation (see the next test).
    values = {"pachd": {"clusterDeploymentID": secret("id")}, "extra": [secret("x")]}
    args = resource(
        policies.HELM_RELEASE,
        {"version": "2.12.2", "values": values},
        keep_secret_markers=True,
    )
    assert violations(policies.validate_helm_release, args) == [
        f"values.pachd.clusterDeploymentID is a Pulumi secret: {HELM_HINT}",
        f"values.extra[0] is a Pulumi secret: {HELM_HINT}",
    ]


def test_validations_do_not_see_secretness() -> None:
    # pulumi-policy 1.21.0 Analyze unwraps secrets to plaintext (proxy_secrets=False): a secret
    # under a neutral key is invisible to a validation. If this starts failing, the SDK began
    # passing markers and the README's limitation notes need revisiting.
    args = release({"pachd": {"clusterDeploymentID": secret("id")}})
    assert args.props["values"]["pachd"]["clusterDeploymentID"] == "id"
    assert violations(policies.validate_helm_release, args) == []


# 4. root-token-is-secret ----------------------------------------------------------------------

CONNECTION = {"pachd_address": "grpc://192.168.49.2:30080", "root_token": secret("root")}


@pytest.mark.parametrize(
    "args",
    [
        resource(
            ACTIVATION,
            CONNECTION,
            secret_outputs=("root_token", "license_key", "enterprise_secret"),
        ),
        resource(
            CONNECTOR, CONNECTION, secret_outputs=("root_token", "config"), keep_secret_markers=True
        ),
        # Other dynamic resources are out of scope.
        resource("pulumi-python:dynamic:Resource", {"root_token": "x"}),
    ],
)
def test_secret_root_tokens_pass(args: ResourceValidationArgs) -> None:
    assert violations(policies.validate_root_token_is_secret, args) == []


def test_root_token_missing_from_secret_outputs_is_refused() -> None:
    args = resource(CONNECTOR, CONNECTION, secret_outputs=("config",))
    assert violations(policies.validate_root_token_is_secret, args) == [
        "additional_secret_outputs must include 'root_token' (got [\"config\"]): a dynamic "
        "provider's outputs are stored in plaintext unless a same-named input was secret or "
        "they are listed there (pulumi/pulumi provider_plugin.go annotateSecrets)"
    ]


def test_plaintext_root_token_input_is_refused_when_visible() -> None:
    args = resource(
        ACTIVATION,
        {**CONNECTION, "root_token": "root"},
        keep_secret_markers=True,
    )
    assert violations(policies.validate_root_token_is_secret, args) == [
        "additional_secret_outputs must include 'root_token' (got []): a dynamic provider's "
        "outputs are stored in plaintext unless a same-named input was secret or they are "
        "listed there (pulumi/pulumi provider_plugin.go annotateSecrets)",
        "root_token is not a Pulumi secret: pass pulumi.Output.secret(...) so it is encrypted "
        "in the state and masked in logs",
    ]


# The pack ---------------------------------------------------------------------------------------

EXPECTED_POLICIES = [
    "okta-app-web-code-flow-only",
    "redirect-uris-https",
    "helm-release-pinned-without-literal-secrets",
    "root-token-is-secret",
]


def servicer() -> _PolicyAnalyzerServicer:
    return _PolicyAnalyzerServicer(
        policies.PACK_NAME, "0.1.0", policies.POLICIES, EnforcementLevel.MANDATORY
    )


def test_every_policy_is_mandatory() -> None:
    assert [p.name for p in policies.POLICIES] == EXPECTED_POLICIES
    assert {p.enforcement_level for p in policies.POLICIES} == {EnforcementLevel.MANDATORY}
    info = servicer().GetAnalyzerInfo(None, None)
    assert info.name == "pachyderm-okta"
    assert [(p.name, p.enforcementLevel) for p in info.policies] == [
        (name, proto.MANDATORY) for name in EXPECTED_POLICIES
    ]


def test_the_engine_sees_a_mandatory_violation() -> None:
    request = proto.AnalyzeRequest(
        type=ACTIVATION,
        urn=f"urn:pulumi:dev::pachyderm-okta::{ACTIVATION}::auth-activation",
        name="auth-activation",
        options=proto.AnalyzerResourceOptions(additionalSecretOutputs=["license_key"]),
    )
    request.properties.update(CONNECTION)  # the secret root token in its wire form
    response = servicer().Analyze(request, None)
    assert [(d.policyName, d.enforcementLevel, d.message) for d in response.diagnostics] == [
        (
            "root-token-is-secret",
            proto.MANDATORY,
            policies.root_token_is_secret.description
            + "\nadditional_secret_outputs must include 'root_token' (got [\"license_key\"]): "
            "a dynamic provider's outputs are stored in plaintext unless a same-named input was "
            "secret or they are listed there (pulumi/pulumi provider_plugin.go annotateSecrets)",
        )
    ]


def test_main_builds_the_pack_like_the_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[dict[str, Any]] = []
    monkeypatch.setattr(pulumi_policy, "PolicyPack", lambda **kwargs: built.append(kwargs))
    monkeypatch.setattr(sys, "path", list(sys.path))  # __main__ prepends the repo root
    runpy.run_path(str(POLICY_DIR), run_name="__main__")  # as pulumi/policy/__main__.py does
    assert built == [
        {
            "name": "pachyderm-okta",
            "policies": policies.POLICIES,
            "enforcement_level": EnforcementLevel.MANDATORY,
        }
    ]
    assert sys.path[0] == str(POLICY_DIR.parent)
