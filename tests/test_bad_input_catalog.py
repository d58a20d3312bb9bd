"""Bad-input catalog: every malformed stack fails the WHOLE program before any resource exists.

Guards the stack contract ("a bad stack fails before any resource is registered, with one message
that lists every problem by its config key") against regressions anywhere between ``__main__.py``
and the settings models. Each entry is the dev example stack with overrides (wrong types, missing
keys, conflicting settings, unknown keys and namespaces, malformed principals or roles, wrong URLs
and addresses, Helm values the program owns, plaintext secrets, ...). ``__main__.py`` runs under
recording mocks, exactly as ``pulumi up`` would run it, and must raise exactly one
``StackConfigError`` (a ``pulumi.RunError``, which the CLI prints without a traceback) whose
problems name exactly the expected config keys (and, where given, say exactly the expected
message), whose text has no Python traceback and no pydantic type name, and after which no
resource at all was registered. A group Okta knows only by a longer name fails the same way, with
only the Okta provider its lookup goes through registered.
"""

from __future__ import annotations

import json
import runpy
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pytest

from components.settings import StackConfigError
from testkit.mocks import MockRun, OktaGroups, set_stack_config
from testkit.offline_up import GET_GROUP, World
from testkit.stacks import PYDANTIC_WORDS, ROOT, TEST_SECRETS, stack_config

API_TOKEN = TEST_SECRETS["okta:apiToken"]
LICENSE_KEY = TEST_SECRETS["pachyderm-okta:licenseKey"]
ROOT_TOKEN = TEST_SECRETS["pachyderm-okta:rootToken"]
P = "pachyderm-okta"
# What the program's Okta calls need for the catalog's base stack (org server, groups, users).
SERVICE_APP_SCOPES = ["okta.apps.read", "okta.apps.manage", "okta.groups.read", "okta.users.read"]

# The dev example stack's objects, to change one key at a time.
DEV_OKTA: dict[str, Any] = {"appLabel": "Pachyderm (dev)", "groups": ["pachyderm-admins"]}
DEV_PACHYDERM: dict[str, Any] = {
    "namespace": "pachyderm",
    "serviceType": "NodePort",
    "values": {"etcd": {"storageSize": "1Gi"}},
}
DEV_AUTH: dict[str, Any] = {
    "clusterAdmins": ["group:pachyderm-admins"],
    "roleBindings": {"allClusterUsers": ["projectViewer"]},
}


def okta(**changes: Any) -> str:
    return json.dumps(DEV_OKTA | changes)


def pachyderm(**changes: Any) -> str:
    return json.dumps(DEV_PACHYDERM | changes)


def auth(**changes: Any) -> str:
    return json.dumps(DEV_AUTH | changes)


def values(tree: dict[str, Any]) -> str:
    return pachyderm(values=tree)


@dataclass(frozen=True)
class Bad:
    """One malformed stack: overrides of the dev stack and the config keys that must be named."""

    id: str
    keys: tuple[str, ...]
    overrides: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, str] | None = None
    never_in_message: tuple[str, ...] = ()
    messages: dict[str, str] = field(default_factory=dict)
    """Exact messages, by config key, for the entries whose wording is the point."""


CATALOG: list[Bad] = [
    # --- missing keys
    Bad("missing-org-name", ("okta:orgName",), {"okta__orgName": None}),
    Bad("missing-base-url", ("okta:baseUrl",), {"okta__baseUrl": None}),
    Bad("missing-public-url", (f"{P}:publicUrl",), {"pachyderm_okta__publicUrl": None}),
    Bad("missing-okta-credentials", ("okta:apiToken",), secrets={}),
    Bad(
        "missing-license-key-on-2.11",
        (f"{P}:licenseKey",),
        {"pachyderm_okta__pachyderm": pachyderm(chartVersion="2.11.6")},
    ),
    # --- plaintext secrets
    Bad(
        "plaintext-api-token",
        ("okta:apiToken",),
        {"okta__apiToken": API_TOKEN},
        secrets={},
        never_in_message=(API_TOKEN,),
    ),
    Bad(
        "plaintext-license-key",
        (f"{P}:licenseKey",),
        {
            "pachyderm_okta__licenseKey": LICENSE_KEY,
            "pachyderm_okta__pachyderm": pachyderm(chartVersion="2.11.6"),
        },
        never_in_message=(LICENSE_KEY,),
    ),
    Bad(
        "plaintext-root-token",
        (f"{P}:rootToken",),
        {"pachyderm_okta__rootToken": ROOT_TOKEN},
        never_in_message=(ROOT_TOKEN,),
    ),
    Bad(
        "root-token-in-helm-values",
        (f"{P}:pachyderm.values",),
        {"pachyderm_okta__pachyderm": values({"pachd": {"rootToken": ROOT_TOKEN}})},
        never_in_message=(ROOT_TOKEN,),
    ),
    Bad(
        "postgres-password-in-helm-values",
        (f"{P}:pachyderm.values",),
        {
            "pachyderm_okta__pachyderm": values(
                {"global": {"postgresql": {"postgresqlPassword": "hunter2-0042"}}}
            )
        },
        never_in_message=("hunter2-0042",),
    ),
    # --- conflicting settings
    Bad(
        "license-key-on-2.12",
        (f"{P}:licenseKey",),
        secrets={"okta:apiToken": API_TOKEN, f"{P}:licenseKey": LICENSE_KEY},
    ),
    Bad(
        "two-okta-auth-methods",
        ("okta:apiToken",),
        secrets={"okta:apiToken": API_TOKEN, "okta:accessToken": "test-access-token-0008"},
    ),
    Bad(
        "incomplete-private-key-auth",
        # Both at once: the auth is incomplete, and it could never carry the org groups claim.
        ("okta:privateKey", f"{P}:okta.groupsClaim"),
        secrets={"okta:privateKey": "test-private-key-0009"},
    ),
    Bad(
        "groups-claim-without-ssws",
        (f"{P}:okta.groupsClaim",),
        {"okta__clientId": "0oa-service", "okta__scopes": json.dumps(SERVICE_APP_SCOPES)},
        secrets={"okta:privateKey": "test-private-key-0009"},
    ),
    # --- unknown keys and namespaces
    Bad(
        # The dev stack's role bindings under a misspelled namespace: without the report, auth
        # would be deployed with no bindings at all.
        "misspelled-project-namespace",
        ("pachyderm-okts:auth",),
        {"pachyderm_okta__auth": None, "pachyderm-okts:auth": auth()},
        messages={
            "pachyderm-okts:auth": 'is in the config namespace "pachyderm-okts", which this '
            'program does not read; did you mean "pachyderm-okta" (pachyderm-okta:auth)?'
        },
    ),
    Bad(
        "unread-namespace",
        ("aws:region",),
        {"aws:region": "us-east-1"},
        messages={
            "aws:region": 'is in the config namespace "aws", which this program does not read '
            "(it reads pachyderm-okta, okta and kubernetes keys, and Pulumi reads pulumi keys); "
            "remove the key, or, if it comes from an ESC environment shared with other programs, "
            "list its namespace in pachyderm-okta:ignoreNamespaces ([aws])"
        },
    ),
    Bad("unknown-project-key", (f"{P}:publicURL",), {"pachyderm_okta__publicURL": "http://x"}),
    Bad("unknown-okta-key", ("okta:orgname",), {"okta__orgname": "dev-123456"}),
    Bad(
        "unknown-kubernetes-key",
        ("kubernetes:contxt",),
        {"kubernetes__contxt": "minikube"},
        messages={
            "kubernetes:contxt": "is not a setting this program knows; did you mean "
            "kubernetes:context?"
        },
    ),
    Bad(
        "kubernetes-provider-key-refused",
        ("kubernetes:namespace",),
        {"kubernetes__namespace": "pachyderm"},
    ),
    Bad(
        "kubernetes-provider-key-not-passed-on",
        ("kubernetes:enableServerSideApply",),
        {"kubernetes__enableServerSideApply": "false"},
    ),
    Bad("okta-tuning-key-out-of-range", ("okta:maxApiCapacity",), {"okta__maxApiCapacity": "0"}),
    Bad(
        "namespace-the-program-reads-ignored",
        (f"{P}:ignoreNamespaces[0]",),
        {"pachyderm_okta__ignoreNamespaces": ["okta"]},
    ),
    Bad("unknown-okta-app-key", (f"{P}:okta.lable",), {"pachyderm_okta__okta": okta(lable="x")}),
    Bad(
        "unknown-pachyderm-key",
        (f"{P}:pachyderm.chart",),
        {"pachyderm_okta__pachyderm": pachyderm(chart="2.12.2")},
    ),
    Bad("unknown-auth-key", (f"{P}:auth.admins",), {"pachyderm_okta__auth": auth(admins=[])}),
    # --- wrong types and malformed documents
    Bad("okta-object-not-json", (f"{P}:okta",), {"pachyderm_okta__okta": "groups: [a"}),
    Bad("okta-object-is-a-list", (f"{P}:okta",), {"pachyderm_okta__okta": json.dumps(["a"])}),
    Bad("auth-object-is-a-string", (f"{P}:auth",), {"pachyderm_okta__auth": json.dumps("x")}),
    Bad(
        "groups-not-a-list",
        (f"{P}:okta.groups",),
        {"pachyderm_okta__okta": okta(groups="pachyderm-admins")},
        messages={f"{P}:okta.groups": "expected a list, got a string"},
    ),
    Bad(
        "scopes-not-a-list",
        ("okta:scopes",),
        {"okta__scopes": "okta.apps.manage"},
        messages={"okta:scopes": "expected a list, got a string"},
    ),
    Bad(
        "role-list-not-a-list",
        (f"{P}:auth.roleBindings.allClusterUsers",),
        {"pachyderm_okta__auth": auth(roleBindings={"allClusterUsers": "projectViewer"})},
        messages={f"{P}:auth.roleBindings.allClusterUsers": "expected a list, got a string"},
    ),
    Bad(
        "groups-blank-entry",
        (f"{P}:okta.groups[1]",),
        {"pachyderm_okta__okta": okta(groups=["pachyderm-admins", "  "])},
    ),
    Bad(
        "groups-duplicate",
        (f"{P}:okta.groups",),
        {"pachyderm_okta__okta": okta(groups=["a", "a"])},
    ),
    Bad(
        "groups-claim-not-bool",
        (f"{P}:okta.groupsClaim",),
        {"pachyderm_okta__okta": okta(groupsClaim="maybe")},
    ),
    Bad(
        "helm-timeout-not-a-number",
        (f"{P}:pachyderm.helmTimeoutSeconds",),
        {"pachyderm_okta__pachyderm": pachyderm(helmTimeoutSeconds="soon")},
    ),
    Bad(
        "helm-timeout-too-short",
        (f"{P}:pachyderm.helmTimeoutSeconds",),
        {"pachyderm_okta__pachyderm": pachyderm(helmTimeoutSeconds=5)},
    ),
    Bad(
        "values-not-an-object",
        (f"{P}:pachyderm.values",),
        {"pachyderm_okta__pachyderm": pachyderm(values=["etcd"])},
    ),
    Bad(
        "ready-timeout-zero",
        (f"{P}:auth.pachdReadyTimeoutSeconds",),
        {"pachyderm_okta__auth": auth(pachdReadyTimeoutSeconds=0)},
    ),
    Bad(
        "call-timeout-negative",
        (f"{P}:auth.callTimeoutSeconds",),
        {"pachyderm_okta__auth": auth(callTimeoutSeconds=-1)},
    ),
    Bad("max-retries-too-many", ("okta:maxRetries",), {"okta__maxRetries": "1000"}),
    # --- malformed values
    Bad("org-name-with-dot", ("okta:orgName",), {"okta__orgName": "dev.123456"}),
    Bad("base-url-with-scheme", ("okta:baseUrl",), {"okta__baseUrl": "https://okta.com"}),
    Bad(
        "authorization-server-path",
        (f"{P}:okta.authorizationServer",),
        {"pachyderm_okta__okta": okta(authorizationServer="oauth2/default")},
    ),
    Bad(
        "namespace-not-dns-label",
        (f"{P}:pachyderm.namespace",),
        {"pachyderm_okta__pachyderm": pachyderm(namespace="Pachyderm_NS")},
    ),
    Bad(
        "chart-version-latest",
        (f"{P}:pachyderm.chartVersion",),
        {"pachyderm_okta__pachyderm": pachyderm(chartVersion="latest")},
    ),
    Bad(
        "chart-version-too-old",
        (f"{P}:pachyderm.chartVersion",),
        {"pachyderm_okta__pachyderm": pachyderm(chartVersion="2.10.3")},
    ),
    Bad(
        "deploy-target-unknown",
        (f"{P}:pachyderm.deployTarget",),
        {"pachyderm_okta__pachyderm": pachyderm(deployTarget="AZURE")},
    ),
    Bad(
        "service-type-unknown",
        (f"{P}:pachyderm.serviceType",),
        {"pachyderm_okta__pachyderm": pachyderm(serviceType="Ingress")},
    ),
    Bad(
        "host-path-relative",
        (f"{P}:pachyderm.localHostPath",),
        {"pachyderm_okta__pachyderm": pachyderm(localHostPath="var/pachyderm")},
    ),
    Bad(
        "connector-id-uppercase",
        (f"{P}:auth.connectorId",),
        {"pachyderm_okta__auth": auth(connectorId="Okta!")},
    ),
    Bad(
        "id-token-expiry-not-go-duration",
        (f"{P}:auth.idTokenExpiry",),
        {"pachyderm_okta__auth": auth(idTokenExpiry="1 day")},
    ),
    # --- wrong URLs and addresses
    Bad("public-url-ftp", (f"{P}:publicUrl",), {"pachyderm_okta__publicUrl": "ftp://pachyderm"}),
    Bad(
        "public-url-with-path",
        (f"{P}:publicUrl",),
        {"pachyderm_okta__publicUrl": "https://pachyderm.example.com/pachyderm"},
    ),
    Bad(
        "public-url-http-non-local",
        (f"{P}:publicUrl",),
        {"pachyderm_okta__publicUrl": "http://pachyderm.example.com"},
    ),
    Bad(
        "public-url-user-info",
        (f"{P}:publicUrl",),
        {"pachyderm_okta__publicUrl": "https://admin:hunter3-0043@pachyderm.example.com"},
        never_in_message=("hunter3-0043",),
    ),
    Bad(
        "pachd-address-without-scheme",
        (f"{P}:pachdAddress",),
        {"pachyderm_okta__pachdAddress": "localhost:30650"},
    ),
    Bad(
        "pachd-address-port-out-of-range",
        (f"{P}:pachdAddress",),
        {"pachyderm_okta__pachdAddress": "grpc://localhost:70000"},
    ),
    Bad(
        "tls-server-name-to-a-pachd-without-tls",
        (f"{P}:pachdTlsServerName",),
        {
            "pachyderm_okta__pachdAccess": "portForward",
            "pachyderm_okta__pachdTlsServerName": "pachd",
        },
        messages={
            f"{P}:pachdTlsServerName": "applies only with pachdAccess: portForward (and no "
            "pachdAddress) to a pachd that serves TLS itself (pachyderm.values.pachd.tls.enabled: "
            "true); with direct, reach pachd at a name its certificate holds (pachdAddress), or "
            "remove the key"
        },
    ),
    Bad(
        "tls-server-name-with-a-scheme",
        (f"{P}:pachdTlsServerName",),
        {
            "pachyderm_okta__pachdAccess": "portForward",
            "pachyderm_okta__pachdTlsServerName": "https://pachd.internal:1650",
            "pachyderm_okta__pachyderm": values({"pachd": {"tls": {"enabled": True}}}),
        },
        messages={
            f"{P}:pachdTlsServerName": "must be a DNS name that pachd's TLS certificate holds, "
            "e.g. pachd.pachyderm.svc (no scheme, port or path)"
        },
    ),
    # --- Helm values the program owns
    Bad(
        "values-activate-auth",
        (f"{P}:pachyderm.values",),
        {"pachyderm_okta__pachyderm": values({"pachd": {"activateAuth": True}})},
    ),
    Bad(
        "values-upstream-idps",
        (f"{P}:pachyderm.values",),
        {"pachyderm_okta__pachyderm": values({"oidc": {"upstreamIDPs": [{"id": "okta"}]}})},
    ),
    Bad(
        "values-proxy-host",
        (f"{P}:pachyderm.values",),
        {"pachyderm_okta__pachyderm": values({"proxy": {"host": "elsewhere:80"}})},
    ),
    # --- malformed principals and roles
    Bad(
        "admin-without-prefix",
        (f"{P}:auth.clusterAdmins[0]",),
        {"pachyderm_okta__auth": auth(clusterAdmins=["pachyderm-admins"])},
    ),
    Bad(
        "admin-pach-root",
        (f"{P}:auth.clusterAdmins[0]",),
        {"pachyderm_okta__auth": auth(clusterAdmins=["pach:root"])},
    ),
    Bad(
        "admins-duplicate",
        (f"{P}:auth.clusterAdmins",),
        {"pachyderm_okta__auth": auth(clusterAdmins=["group:a", "group:a"])},
    ),
    Bad(
        "role-unknown",
        (f"{P}:auth.roleBindings.allClusterUsers[0]",),
        {"pachyderm_okta__auth": auth(roleBindings={"allClusterUsers": ["projectReader"]})},
    ),
    Bad(
        "role-newer-than-the-chart",
        (f"{P}:auth.roleBindings.allClusterUsers[0]",),
        {
            "pachyderm_okta__pachyderm": pachyderm(chartVersion="2.11.6"),
            "pachyderm_okta__auth": auth(roleBindings={"allClusterUsers": ["jobAdmin"]}),
        },
        secrets={"okta:apiToken": API_TOKEN, f"{P}:licenseKey": LICENSE_KEY},
    ),
    Bad(
        "role-binding-principal-without-prefix",
        (f'{P}:auth.roleBindings["data-engineers"]',),
        {"pachyderm_okta__auth": auth(roleBindings={"data-engineers": ["projectWriter"]})},
    ),
    # --- project and repo bindings: roles.go's CanBeBoundTo, checked by key before anything
    Bad(
        "cluster-only-roles-on-a-project",
        (
            f'{P}:auth.projects["team-a"].roleBindings["group:team-a"][0]',
            f'{P}:auth.projects["team-a"].roleBindings["group:team-a"][1]',
        ),
        {
            "pachyderm_okta__auth": auth(
                projects={
                    "team-a": {
                        "create": True,
                        "roleBindings": {"group:team-a": ["projectCreator", "clusterAdmin"]},
                    }
                }
            )
        },
        messages={
            f'{P}:auth.projects["team-a"].roleBindings["group:team-a"][1]': (
                "'clusterAdmin' can be bound to the cluster only, not to a project (its "
                "CanBeBoundTo in pachd's roles.go): use one of repoReader, repoWriter, repoOwner, "
                "projectViewer, projectWriter, projectOwner"
            )
        },
    ),
    Bad(
        "project-role-on-a-repo",
        (f'{P}:auth.repos["team-a/raw"].roleBindings["group:analysts"][0]',),
        {
            "pachyderm_okta__auth": auth(
                repos={"team-a/raw": {"roleBindings": {"group:analysts": ["projectOwner"]}}}
            )
        },
        messages={
            f'{P}:auth.repos["team-a/raw"].roleBindings["group:analysts"][0]': (
                "'projectOwner' can be bound to the cluster or a project only, not to a repo (its "
                "CanBeBoundTo in pachd's roles.go): use one of repoReader, repoWriter, repoOwner"
            )
        },
    ),
    Bad(
        "project-and-repo-names-pachd-refuses",
        (f'{P}:auth.projects["team.a"]', f'{P}:auth.repos["raw"]'),
        {"pachyderm_okta__auth": auth(projects={"team.a": {}}, repos={"raw": {}})},
        messages={
            f'{P}:auth.repos["raw"]': (
                "'raw' is not a repo: name it <project>/<repo>, e.g. team-a/raw"
            )
        },
    ),
    Bad(
        "project-key-typo",
        (f'{P}:auth.projects["team-a"].create_',),
        {"pachyderm_okta__auth": auth(projects={"team-a": {"create_": True}})},
    ),
    # --- several problems at once: every one is listed
    Bad(
        "three-problems",
        (f"{P}:auth.clusterAdmins[0]", f"{P}:pachyderm.namespace", f"{P}:publicUrl"),
        {
            "pachyderm_okta__publicUrl": "ftp://x",
            "pachyderm_okta__pachyderm": pachyderm(namespace="NS"),
            "pachyderm_okta__auth": auth(clusterAdmins=["admins"]),
        },
    ),
]


def test_catalog_is_large_and_distinct() -> None:
    assert len(CATALOG) >= 30
    assert len({bad.id for bad in CATALOG}) == len(CATALOG)


@pytest.mark.parametrize("bad", CATALOG, ids=[bad.id for bad in CATALOG])
def test_malformed_stack_fails_whole_program_before_any_resource(
    mock_run: MockRun, bad: Bad
) -> None:
    config, secret_keys = stack_config("dev", secrets=bad.secrets, **bad.overrides)
    World().install(mock_run)
    set_stack_config(config, secret_keys)
    main = str(ROOT / "__main__.py")

    with pytest.raises(pulumi.RunError) as raised:
        mock_run.run(lambda: runpy.run_path(main, run_name="__main__"))

    error = raised.value
    assert type(error) is StackConfigError
    assert error.__cause__ is None
    problems = error.problems
    assert sorted(problem.key for problem in problems) == sorted(bad.keys), str(error)
    message = str(error)
    assert message.startswith(f"The stack configuration has {len(problems)} problem")
    assert "(nothing was created)" in message
    for problem in problems:
        assert f"  {problem.key}: " in message
    for word in PYDANTIC_WORDS:
        assert word not in message.lower()
    found = {problem.key: problem.message for problem in problems}
    for key, expected in bad.messages.items():
        assert found[key] == expected
    assert "Traceback" not in message
    assert 'File "' not in message
    for secret in (API_TOKEN, LICENSE_KEY, ROOT_TOKEN, *bad.never_in_message):
        assert secret not in message
    assert mock_run.registrations == []


def test_a_group_okta_only_prefix_matches_stops_the_program_before_anything_is_created(
    mock_run: MockRun,
) -> None:
    # The org has `pachyderm-admins-eu` and no `pachyderm-admins`: pulumi-okta's lookup returns
    # that lone prefix match (docs/decisions.md, decision 31).
    config, secret_keys = stack_config("dev")
    World().install(mock_run)
    mock_run.mocks.invokes[GET_GROUP] = OktaGroups(("pachyderm-admins-eu",)).get_group
    set_stack_config(config, secret_keys)

    with pytest.raises(pulumi.RunError) as raised:
        mock_run.run(lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"))

    assert type(raised.value) is StackConfigError
    assert str(raised.value) == (
        "The stack configuration has 1 problem (nothing was created):\n"
        f"  {P}:okta.groups[0]: Okta has no group named 'pachyderm-admins'; its name search found "
        "only 'pachyderm-admins-eu', which pulumi-okta would have assigned instead. Correct the "
        "name (compared exactly, case included), create the group in Okta, or set createGroups: "
        "true"
    )
    # Only the explicit Okta provider, which the lookup goes through: no Okta or Kubernetes object.
    assert [r.type for r in mock_run.registrations] == ["pulumi:providers:okta"]
