"""Stack validation: every mistake fails before anything is created, named by its config key.

Guards the first thing a user meets: a typo or a wrong value in ``Pulumi.<stack>.yaml`` must fail
with one message listing every problem by its full key (``pachyderm-okta:okta.groups[1]``), never
with a traceback, never echoing a secret, and the example stacks must keep validating.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components import settings as stack
from components.settings import StackConfigError, load_settings
from components.urls import PublicUrl
from testkit.mocks import MockRun
from testkit.stacks import (
    MINIMAL_SOURCE,
    PYDANTIC_WORDS,
    TEST_SECRETS,
    config_problems,
    config_source,
    stack_config,
)

P = "pachyderm-okta"


def entries(**changes: Any) -> dict[str, tuple[str, bool]]:
    """The minimal stack with changes; keys may spell ``:`` as ``__`` (``okta__orgName``)."""
    return config_source(
        **{
            key.replace("__", ":").replace("pachyderm_okta", P): value
            for key, value in changes.items()
        }
    )


problems = config_problems


def keys(source: dict[str, tuple[str, bool]]) -> list[str]:
    return [key for key, _ in problems(source)]


INVALID_STACKS: list[tuple[str, dict[str, Any], list[str]]] = [
    ("missing publicUrl", {f"{P}:publicUrl": None}, [f"{P}:publicUrl"]),
    ("publicUrl with a path", {f"{P}:publicUrl": "https://x.example.com/p"}, [f"{P}:publicUrl"]),
    ("public http host", {f"{P}:publicUrl": "http://pachyderm.example.com"}, [f"{P}:publicUrl"]),
    ("publicUrl query", {f"{P}:publicUrl": "https://x.example.com/?a=b"}, [f"{P}:publicUrl"]),
    ("bad pachdAddress scheme", {f"{P}:pachdAddress": "tcp://pachd:30650"}, [f"{P}:pachdAddress"]),
    ("pachdAddress without port", {f"{P}:pachdAddress": "grpc://pachd"}, [f"{P}:pachdAddress"]),
    ("missing orgName", {"okta:orgName": None}, ["okta:orgName"]),
    ("orgName with a dot", {"okta:orgName": "dev.123"}, ["okta:orgName"]),
    ("baseUrl with scheme", {"okta:baseUrl": "https://okta.com"}, ["okta:baseUrl"]),
    ("no Okta credentials", {"okta:apiToken": None}, ["okta:apiToken"]),
    ("plaintext apiToken", {"okta:apiToken": ("tok", False)}, ["okta:apiToken"]),
    ("unknown okta key", {"okta:orgname": "dev-1"}, ["okta:orgname"]),
    ("unknown project key", {f"{P}:publicURL": "https://x.example.com"}, [f"{P}:publicURL"]),
    ("duplicate group", {f"{P}:okta": {"groups": ["a", "b", "a"]}}, [f"{P}:okta.groups"]),
    ("blank group", {f"{P}:okta": {"groups": ["a", " "]}}, [f"{P}:okta.groups[1]"]),
    ("duplicate user", {f"{P}:okta": {"users": ["x@e.com", "x@e.com"]}}, [f"{P}:okta.users"]),
    ("typo in okta object", {f"{P}:okta": {"grups": ["a"]}}, [f"{P}:okta.grups"]),
    (
        "bad auth server",
        {f"{P}:okta": {"authorizationServer": "a/b"}},
        [f"{P}:okta.authorizationServer"],
    ),
    (
        "bad rotation",
        {f"{P}:okta": {"refreshTokenRotation": "SOMETIMES"}},
        [f"{P}:okta.refreshTokenRotation"],
    ),
    (
        "principal without prefix",
        {f"{P}:auth": {"clusterAdmins": ["alice"]}},
        [f"{P}:auth.clusterAdmins[0]"],
    ),
    (
        "pipeline principal",
        {f"{P}:auth": {"clusterAdmins": ["pipeline:x"]}},
        [f"{P}:auth.clusterAdmins[0]"],
    ),
    (
        "unknown role",
        {f"{P}:auth": {"roleBindings": {"group:eng": ["repoReader", "superuser"]}}},
        [f'{P}:auth.roleBindings["group:eng"][1]'],
    ),
    (
        "bad role-binding principal",
        {f"{P}:auth": {"roleBindings": {"eng": ["repoReader"]}}},
        [f'{P}:auth.roleBindings["eng"]'],
    ),
    ("bad connector id", {f"{P}:auth": {"connectorId": "Okta SSO"}}, [f"{P}:auth.connectorId"]),
    ("bad duration", {f"{P}:auth": {"idTokenExpiry": "1 day"}}, [f"{P}:auth.idTokenExpiry"]),
    (
        "string for bool",
        {f"{P}:auth": {"skipEmailVerified": "maybe"}},
        [f"{P}:auth.skipEmailVerified"],
    ),
    ("not semver", {f"{P}:pachyderm": {"chartVersion": "latest"}}, [f"{P}:pachyderm.chartVersion"]),
    (
        "too old chart",
        {f"{P}:pachyderm": {"chartVersion": "2.10.7"}},
        [f"{P}:pachyderm.chartVersion"],
    ),
    ("2.11 without license", {f"{P}:pachyderm": {"chartVersion": "2.11.6"}}, [f"{P}:licenseKey"]),
    ("license on 2.12", {f"{P}:licenseKey": "code"}, [f"{P}:licenseKey"]),
    ("bad namespace", {f"{P}:pachyderm": {"namespace": "Pachyderm"}}, [f"{P}:pachyderm.namespace"]),
    (
        "bad service type",
        {f"{P}:pachyderm": {"serviceType": "Ingress"}},
        [f"{P}:pachyderm.serviceType"],
    ),
    (
        "bad deploy target",
        {f"{P}:pachyderm": {"deployTarget": "local"}},
        [f"{P}:pachyderm.deployTarget"],
    ),
    (
        "owned helm value",
        {f"{P}:pachyderm": {"values": {"pachd": {"activateAuth": True}}}},
        [f"{P}:pachyderm.values"],
    ),
    ("values not an object", {f"{P}:pachyderm": "namespace=x"}, [f"{P}:pachyderm"]),
    (
        "groups claim with private-key auth",
        {
            "okta:apiToken": None,
            "okta:clientId": "0oa1",
            "okta:privateKey": "-----BEGIN PRIVATE KEY-----",
            "okta:scopes": ["okta.apps.read", "okta.apps.manage"],
        },
        [f"{P}:okta.groupsClaim"],
    ),
    (
        "incomplete private-key auth",
        {"okta:apiToken": None, "okta:clientId": "0oa1", f"{P}:okta": {"groupsClaim": False}},
        ["okta:privateKey"],
    ),
    (
        "two Okta auth methods",
        {"okta:accessToken": "at"},
        ["okta:apiToken"],
    ),
    ("unknown kubernetes key", {"kubernetes:contxt": "kind"}, ["kubernetes:contxt"]),
]


@pytest.mark.parametrize(
    ("changes", "expected_keys"),
    [pytest.param(changes, expected, id=label) for label, changes, expected in INVALID_STACKS],
)
def test_invalid_stack_names_the_key(changes: dict[str, Any], expected_keys: list[str]) -> None:
    assert keys(entries(**changes)) == expected_keys


@pytest.mark.parametrize(
    "changes",
    [pytest.param(changes, id=label) for label, changes, _ in INVALID_STACKS],
)
def test_no_message_speaks_pydantic(changes: dict[str, Any]) -> None:
    with pytest.raises(StackConfigError) as raised:
        load_settings(lambda: entries(**changes))
    text = str(raised.value).lower()
    assert [word for word in PYDANTIC_WORDS if word in text] == []


def test_every_problem_is_reported_at_once_sorted_by_key() -> None:
    found = problems(
        entries(
            **{
                f"{P}:publicUrl": "http://pachyderm.example.com",
                "okta:orgName": "",
                "okta:baseUrl": "okta",
                f"{P}:okta": {"groups": ["admins", "admins"], "colour": "blue"},
                f"{P}:auth": {"clusterAdmins": ["bob"]},
            }
        )
    )
    assert [key for key, _ in found] == [
        "okta:baseUrl",
        "okta:orgName",
        f"{P}:auth.clusterAdmins[0]",
        f"{P}:okta.colour",
        f"{P}:okta.groups",
        f"{P}:publicUrl",
    ]
    assert dict(found)["okta:orgName"] == "is required"
    assert dict(found)[f"{P}:okta.groups"] == "lists 'admins' more than once"


def test_error_is_one_run_error_with_a_readable_message() -> None:
    with pytest.raises(pulumi.RunError) as raised:
        load_settings(lambda: entries(**{f"{P}:okta": {"groups": ["a", ""]}}))
    assert str(raised.value) == (
        "The stack configuration has 1 problem (nothing was created):\n"
        f"  {P}:okta.groups[1]: must not be empty"
    )


@pytest.mark.parametrize(
    ("changes", "key", "message"),
    [
        (
            {f"{P}:publicUrl": "http://pachyderm.example.com"},
            f"{P}:publicUrl",
            "must use https for the non-local host 'pachyderm.example.com': Okta sends "
            "authorization codes to <publicUrl>/dex/callback and pachctl sends tokens to it "
            "(http is allowed only for localhost, loopback or private addresses and "
            ".local/.internal names)",
        ),
        (
            {f"{P}:pachyderm": {"chartVersion": "2.11.6"}},
            f"{P}:licenseKey",
            "is required for pachyderm.chartVersion 2.11.6: Pachyderm before 2.12 refuses to "
            "activate auth without an active enterprise license; set it with "
            f"`pulumi config set --secret {P}:licenseKey` (it asks for the code)",
        ),
        (
            {f"{P}:pachyderm": {"values": {"oidc": {"mockIDP": True}, "proxy": {"host": "x"}}}},
            f"{P}:pachyderm.values",
            "sets Helm values the program owns: oidc (owned by pachyderm-okta:publicUrl and "
            "pachyderm-okta:auth (the connector is pushed through the API)); proxy.host "
            "(owned by pachyderm-okta:publicUrl)",
        ),
        (
            {"okta:apiToken": ("tok", False)},
            "okta:apiToken",
            "is stored in plaintext in the stack file; set it with "
            "`pulumi config set --secret okta:apiToken`, which asks for the value (and rotate it)",
        ),
    ],
)
def test_messages_say_why(changes: dict[str, Any], key: str, message: str) -> None:
    assert problems(entries(**changes)) == [(key, message)]


def test_no_secret_value_appears_in_any_message() -> None:
    secret_texts = ["SSWS-abc-very-secret", "license-very-secret", "root-very-secret"]
    with pytest.raises(StackConfigError) as raised:
        load_settings(
            lambda: entries(
                **{
                    "okta:apiToken": (secret_texts[0], False),
                    "okta:accessToken": (secret_texts[0], True),
                    f"{P}:licenseKey": (secret_texts[1], False),
                    f"{P}:rootToken": (secret_texts[2], False),
                    f"{P}:publicUrl": "nope",
                }
            )
        )
    text = str(raised.value)
    assert len(raised.value.problems) == 6
    for secret in secret_texts:
        assert secret not in text


def test_minimal_stack_loads_with_documented_defaults(mock_run: MockRun) -> None:
    settings = load_settings(lambda: MINIMAL_SOURCE)
    project = settings.project
    assert project.public_url == PublicUrl("http", "192.168.49.2", 30080)
    assert project.pachd_address is None
    assert project.license_key is None
    assert project.root_token is None
    assert project.okta.model_dump() == {
        "app_label": "Pachyderm",
        "authorization_server": "org",
        "groups": (),
        "users": (),
        "create_groups": False,
        "groups_claim": True,
        "refresh_token_rotation": "STATIC",
    }
    assert project.pachyderm.model_dump() == {
        "namespace": "pachyderm",
        "release_name": "pachyderm",
        "chart_version": stack.DEFAULT_CHART_VERSION,
        "deploy_target": "LOCAL",
        "service_type": "NodePort",
        "local_host_path": "/var/pachyderm/",
        "helm_timeout_seconds": 900,
        "values": {},
    }
    assert project.auth.cluster_role_bindings() == {}
    assert project.auth.deactivate_on_delete is False
    assert settings.okta_org.org_name == "dev-123456"
    assert settings.kubernetes.context is None
    token = settings.okta_org.api_token
    assert isinstance(token, pulumi.Output)
    assert mock_run.resolve(token) == (TEST_SECRETS["okta:apiToken"], True, True)


def test_settings_are_frozen() -> None:
    settings = load_settings(lambda: MINIMAL_SOURCE)
    with pytest.raises(ValueError, match="frozen"):
        settings.project.okta.groups = ("x",)  # type: ignore[misc]


def test_cluster_admins_and_role_bindings_merge_into_one_binding_per_principal() -> None:
    auth = load_settings(
        lambda: entries(
            **{
                f"{P}:auth": {
                    "clusterAdmins": ["group:admins", "user:root@example.com"],
                    "roleBindings": {
                        "group:admins": ["repoReader"],
                        "allClusterUsers": ["projectViewer"],
                    },
                }
            }
        )
    ).project.auth
    assert auth.cluster_role_bindings() == {
        "allClusterUsers": ("projectViewer",),
        "group:admins": ("clusterAdmin", "repoReader"),
        "user:root@example.com": ("clusterAdmin",),
    }


def test_2_11_stack_with_a_secret_license_loads(mock_run: MockRun) -> None:
    settings = load_settings(
        lambda: entries(
            **{
                f"{P}:pachyderm": {"chartVersion": "2.11.6"},
                f"{P}:licenseKey": (TEST_SECRETS[f"{P}:licenseKey"], True),
            }
        )
    )
    assert settings.project.pachyderm.chart_minor == (2, 11)
    assert settings.project.license_key is not None
    assert mock_run.resolve(settings.project.license_key)[2] is True


def _job_admins(chart_version: str) -> dict[str, tuple[str, bool]]:
    """A stack on ``chart_version`` that binds ``group:jobs`` to repoReader and jobAdmin."""
    needs_license = chart_version.startswith("2.11.")
    license_key = (TEST_SECRETS[f"{P}:licenseKey"], True) if needs_license else None
    return entries(
        **{
            f"{P}:pachyderm": {"chartVersion": chart_version},
            f"{P}:licenseKey": license_key,
            f"{P}:auth": {"roleBindings": {"group:jobs": ["repoReader", "jobAdmin"]}},
        }
    )


def test_a_role_the_chart_version_lacks_is_refused_by_key_role_and_version() -> None:
    # 2.11.x src/server/auth/server/roles.go registers no jobAdmin: pachd would refuse the
    # binding only after the Okta app and the release were created.
    assert problems(_job_admins("2.11.6")) == [
        (
            f'{P}:auth.roleBindings["group:jobs"][1]',
            "'jobAdmin' is not a role of Pachyderm 2.11 (pachyderm.chartVersion 2.11.6), so "
            "pachd would refuse the binding; it came with 2.12: remove it or pin a 2.12.x chart",
        )
    ]


def test_a_role_of_the_chart_version_loads() -> None:
    auth = load_settings(lambda: _job_admins("2.12.2")).project.auth
    assert auth.cluster_role_bindings() == {"group:jobs": ("jobAdmin", "repoReader")}


def test_empty_optional_keys_mean_unset() -> None:
    settings = load_settings(
        lambda: entries(**{f"{P}:pachdAddress": "", f"{P}:licenseKey": ("", False)})
    )
    assert settings.project.pachd_address is None
    assert settings.project.license_key is None


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_example_stacks_validate(stack_name: str) -> None:
    config, secret_keys = stack_config(stack_name)
    settings = load_settings(
        lambda: {key: (value, key in secret_keys) for key, value in config.items()}
    )
    assert settings.project.pachyderm.chart_version == stack.DEFAULT_CHART_VERSION
    if stack_name == "dev":
        assert str(settings.project.public_url) == "http://192.168.49.2:30080"
        assert settings.project.pachyderm.service_type == "NodePort"
        assert settings.kubernetes.context == "minikube"
        assert settings.project.auth.cluster_role_bindings() == {
            "allClusterUsers": ("projectViewer",),
            "group:pachyderm-admins": ("clusterAdmin",),
        }
    else:
        assert str(settings.project.public_url) == "https://pachyderm.example.com"
        assert settings.project.pachyderm.service_type == "LoadBalancer"
        assert settings.project.pachyderm.deploy_target == "AMAZON"


def test_runtime_source_reads_every_key_set_through_pulumi(mock_run: MockRun) -> None:
    # Every namespace, so that a key nothing reads can be reported instead of ignored.
    pulumi.runtime.set_all_config(
        {"okta:orgName": "dev-1", "okta:apiToken": "t", "aws:region": "x"}, ["okta:apiToken"]
    )
    assert stack.runtime_config_source() == {
        "okta:orgName": ("dev-1", False),
        "okta:apiToken": ("t", True),
        "aws:region": ("x", False),
    }


def test_private_key_scopes_must_cover_every_okta_call_of_the_stack() -> None:
    # Each missing scope would fail its call at `up`, after the app was created.
    found = problems(
        entries(
            **{
                "okta:apiToken": None,
                "okta:clientId": "0oa1",
                "okta:privateKey": ("-----BEGIN PRIVATE KEY-----", True),
                "okta:scopes": ["okta.apps.manage", "okta.groups.read"],
                f"{P}:okta": {
                    "authorizationServer": "default",
                    "groups": ["admins"],
                    "createGroups": True,
                    "users": ["a@example.com"],
                },
            }
        )
    )
    assert found == [
        (
            "okta:scopes",
            "lacks okta.apps.read (for the app), okta.groups.manage (for "
            f"{P}:okta.createGroups), okta.users.read (for {P}:okta.users), "
            f"okta.authorizationServers.read (for {P}:okta.authorizationServer), "
            f"okta.authorizationServers.manage (for {P}:okta.authorizationServer); add them "
            "here and grant them to the service app in Okta",
        )
    ]


def test_private_key_auth_is_fine_with_a_custom_server_groups_claim() -> None:
    settings = load_settings(
        lambda: entries(
            **{
                "okta:apiToken": None,
                "okta:clientId": "0oa1",
                "okta:privateKey": ("-----BEGIN PRIVATE KEY-----", True),
                "okta:scopes": [
                    "okta.apps.read",
                    "okta.apps.manage",
                    "okta.authorizationServers.read",
                    "okta.authorizationServers.manage",
                ],
                f"{P}:okta": {"authorizationServer": "default"},
            }
        )
    )
    assert settings.okta_org.api_token is None
    assert settings.project.okta.groups_claim is True


@pytest.mark.parametrize(
    ("url", "pachyderm", "message_start"),
    [
        (
            "http://192.168.49.2",
            {"serviceType": "NodePort"},
            "publicUrl http://192.168.49.2 has no port, but with serviceType NodePort",
        ),
        (
            "http://192.168.49.2:8080",
            {"serviceType": "NodePort"},
            "publicUrl http://192.168.49.2:8080 has port 8080, but with serviceType NodePort",
        ),
        (
            "https://10.0.0.5:30443",
            {"serviceType": "NodePort"},
            "publicUrl https://10.0.0.5:30443 is https with serviceType NodePort, but nothing",
        ),
        (
            "http://10.0.0.5:30080",
            {"serviceType": "ClusterIP", "values": {"proxy": {"tls": {"enabled": True}}}},
            "publicUrl http://10.0.0.5:30080 is http, but pachyderm.values sets proxy.tls",
        ),
    ],
)
def test_proxy_that_cannot_serve_the_public_url_is_refused_up_front(
    url: str, pachyderm: dict[str, Any], message_start: str
) -> None:
    ((key, message),) = problems(entries(**{f"{P}:publicUrl": url, f"{P}:pachyderm": pachyderm}))
    assert key == f"{P}:publicUrl"
    assert message.startswith(message_start)


def test_rules_across_settings_are_reported_with_every_other_problem() -> None:
    found = keys(
        entries(
            **{
                f"{P}:publicUrl": "http://192.168.49.2:8080",
                f"{P}:pachyderm": {"chartVersion": "2.11.6", "namespace": "Bad_Namespace"},
                "okta:apiToken": None,
                "okta:accessToken": "at",
                "okta:orgName": "dev.1",
            }
        )
    )
    assert found == [
        "okta:orgName",
        f"{P}:licenseKey",
        f"{P}:okta.groupsClaim",
        f"{P}:pachyderm.namespace",
        f"{P}:publicUrl",
    ]


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"pachd": {"storage": {"storageURL": ""}}},
        {"pachd": {"storage": {"storageURL": "   "}}},
        {"pachd": {"storage": {"amazon": {"bucket": "data"}}}},
    ],
)
def test_cloud_deploy_target_without_storage_url_is_refused_up_front(
    values: dict[str, Any],
) -> None:
    stack = entries(**{f"{P}:pachyderm": {"deployTarget": "AMAZON", "values": values}})
    assert problems(stack) == [
        (
            f"{P}:pachyderm.values.pachd.storage.storageURL",
            "is required for pachyderm.deployTarget AMAZON: the chart refuses to render without "
            "the object-storage URL (e.g. s3://<bucket>, gs://<bucket>, wasb://<container>@"
            "<account>); only LOCAL stores data on the node",
        )
    ]


@pytest.mark.parametrize(
    "pachyderm",
    [
        {"deployTarget": "LOCAL"},
        {"deployTarget": "GOOGLE", "values": {"pachd": {"storage": {"storageURL": "gs://b"}}}},
    ],
)
def test_storage_url_is_only_required_off_local(pachyderm: dict[str, Any]) -> None:
    settings = load_settings(lambda: entries(**{f"{P}:pachyderm": pachyderm}))
    assert settings.project.pachyderm.deploy_target == pachyderm["deployTarget"]


EXAMPLE = "of the shipped stack file: replace the example value with yours"


def test_a_value_still_holding_an_example_is_refused_by_its_key_and_only_for_that() -> None:
    found = problems(
        entries(
            **{
                "okta:orgName": "<your-okta-org>",
                f"{P}:publicUrl": "https://<your-pachyderm-host>",
                f"{P}:okta": {"groups": ["admins", "<your-okta-data-group>"]},
                f"{P}:auth": {"roleBindings": {"group:<your-okta-data-group>": ["projectWriter"]}},
                f"{P}:pachyderm": {
                    "values": {"pachd": {"storage": {"storageURL": "s3://<your-bucket>"}}}
                },
            }
        )
    )

    # Each setting has one problem, the example value: not also "not an org name" or "not a URL".
    assert found == [
        ("okta:orgName", f"still holds the example value <your-okta-org> {EXAMPLE}"),
        (
            f'{P}:auth.roleBindings["group:<your-okta-data-group>"]',
            f"still holds the example value <your-okta-data-group> {EXAMPLE}",
        ),
        (f"{P}:okta.groups[1]", f"still holds the example value <your-okta-data-group> {EXAMPLE}"),
        (
            f"{P}:pachyderm.values.pachd.storage.storageURL",
            f"still holds the example value <your-bucket> {EXAMPLE}",
        ),
        (f"{P}:publicUrl", f"still holds the example value <your-pachyderm-host> {EXAMPLE}"),
    ]


def test_an_unknown_pachd_access_is_refused_naming_the_key() -> None:
    assert problems(entries(**{f"{P}:pachdAccess": "sideways"})) == [
        (f"{P}:pachdAccess", "must be 'direct' or 'portForward'")
    ]


@pytest.mark.parametrize(
    ("keys", "port_forward"),
    [
        ({}, False),
        ({f"{P}:pachdAccess": "direct"}, False),
        ({f"{P}:pachdAccess": "portForward"}, True),
        # An explicit address means direct.
        ({f"{P}:pachdAccess": "portForward", f"{P}:pachdAddress": "grpc://10.0.0.5:30650"}, False),
    ],
)
def test_pachd_is_reached_through_kubernetes_only_with_port_forward_and_no_address(
    keys: dict[str, str], port_forward: bool
) -> None:
    assert load_settings(lambda: entries(**keys)).project.pachd_port_forward is port_forward
