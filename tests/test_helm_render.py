"""The real chart, rendered by real Helm with the values the program registers: install AND upgrade.

Guards the regression users hit on their second ``pulumi up``: pulumi-kubernetes'
``helm.v3.Release`` runs Helm's upgrade action on every change, and the bundled Bitnami
PostgreSQL subchart refused every upgrade of values without a password. The schema checks of
tests/test_helm_values.py cannot see such a failure; only rendering the chart can.

Each stack runs ``__main__.py`` under the recording mocks (testkit/offline_up.py), and the
``kubernetes:helm.sh/v3:Release`` it registers - its values, name and namespace, never a copy
built here - goes through ``helm template`` (Helm v3.17.3, testkit/helm.py) against the
vendored chart of its line (tests/data/pachyderm-chart/charts, 2.12.x and 2.11.6), once as an
install and once with ``--is-upgrade``. The assertions read the rendered manifests: the chart
bootstraps neither auth nor an IdP, every issuer is ``<publicUrl>/dex``, every Secret a pod needs
exists (or is named here with the Pachyderm source that creates it), and no secret value of the
stack reaches a manifest. What this cannot show - the API server, admission, pods starting - is
left to the opt-in cluster tier (tests/test_integration.py).
"""

from __future__ import annotations

import gc
import os
import re
import runpy
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.helm_values import deep_merge
from testkit.helm import (
    HELM,
    HELM_VERSION,
    SKIP_VARIABLE,
    HelmMissingError,
    Rendered,
    chart_for,
    checked_helm,
    env_names,
    env_source,
    env_value,
    pod_specs,
    render,
    secret_references,
)
from testkit.offline_up import (
    OKTA_CLIENT_SECRET,
    RANDOM_PASSWORD,
    Plan,
    password_value,
    plan_program,
)
from testkit.runtime import drained_event_loop
from testkit.stacks import ROOT, TEST_SECRETS, stack_config, stack_document

RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET = "kubernetes:core/v1:Secret"
PACHYDERM_KEY = "pachyderm-okta:pachyderm"
PUBLIC_URL_KEY = "pachyderm-okta:publicUrl"
LICENSE_KEY = "pachyderm-okta:licenseKey"
ROOT_TOKEN_KEY = "pachyderm-okta:rootToken"

# Env variables through which pachd/deployment.yaml (2.11.6 and 2.12.x) makes pachd bootstrap auth,
# the enterprise license or Dex's connectors and config at start. Any of them set would fight the
# auth component: with IDP_CONNECTORS/IDP_CONFIG pachd refuses API writes of connectors and of
# the identity config. The chart renders none of them (no empty or "false" variant either) when
# activateAuth is false and there is no upstream IdP and no mock IdP.
CHART_AUTH_ENV = frozenset(
    {
        "ACTIVATE_AUTH",
        "AUTH_ROOT_TOKEN",
        "AUTH_CONFIG",
        "AUTH_CLIENT_SECRET",
        "AUTH_CLUSTER_RBAC",
        "IDP_CLIENTS",
        "IDP_ADDITIONAL_CLIENTS",
        "IDP_CONNECTORS",
        "IDP_CONFIG",
        "TRUSTED_PEERS",
        "LICENSE_KEY",
        "ENTERPRISE_SECRET",
    }
)
# Secrets the chart renders only to bootstrap auth or an IdP (pachd/auth-secret.yaml,
# pachd/idp-secret.yaml).
CHART_AUTH_SECRETS = frozenset({"pachyderm-auth", "pachyderm-identity"})


@dataclass(frozen=True)
class PachdCreatedSecret:
    """A Secret a pod references that no template renders: pachd creates it when it starts."""

    key: str
    lines: frozenset[tuple[int, int]]
    """Chart lines whose templates reference it."""
    source: str


PACHD_CREATED: Mapping[str, PachdCreatedSecret] = {
    # 2.12.x pachw/deployment.yaml: env PJS_WORKER_AUTH_TOKEN from this Secret. Full-mode pachd
    # writes it at start-up: pachyderm/pachyderm src/internal/pachd/full.go `buildAndRun` runs
    # `ensurePJSWorkerSecret` (src/internal/pachd/builder.go), a robot token for `pjs-worker`
    # that pachw presents to PJS (src/internal/pachd/pachw.go `attemptPJSAuth`).
    "pachyderm-pjs-worker-authentication": PachdCreatedSecret(
        key="pjsWorkerAuthToken",
        lines=frozenset({(2, 12)}),
        source="src/internal/pachd/full.go buildAndRun -> builder.go ensurePJSWorkerSecret",
    ),
}
# Chart values that name a Secret the user creates (e.g. with cert-manager), not the chart or this
# program; proxy/deployment.yaml mounts `proxy.tls.secretName` (keys tls.crt, tls.key).
USER_SECRET_VALUES = (("proxy", "tls", "secretName"),)

PROXY_TLS = {"proxy": {"tls": {"enabled": True, "secretName": "pachyderm-tls"}}}
USER_VALUES = {
    "pachd": {"lokiDeploy": False, "resources": {"requests": {"cpu": "500m", "memory": "1G"}}},
    "proxy": {"service": {"annotations": {"example.com/team": "ml"}}},
}


@dataclass(frozen=True)
class Stack:
    """A stack file with overrides, as a user would write it."""

    name: str
    stack_file: str
    public_url: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    """Merged into the stack file's ``pachyderm.values``."""
    secret_keys: tuple[str, ...] = ()
    """Secret config keys set beyond ``okta:apiToken`` (values from testkit/stacks.py)."""


STACKS = (
    # Pulumi.dev.yaml: NodePort, http on a node port.
    Stack("nodeport-http", "dev"),
    # Pulumi.prod.yaml: LoadBalancer, https whose TLS ends at the load balancer.
    Stack("loadbalancer-https", "prod"),
    # TLS at the proxy itself, on a NodePort.
    Stack("proxy-tls", "dev", "https://pachyderm.internal:30443", PROXY_TLS),
    # User values next to the owned ones; every secret config key set (adopting a root token).
    Stack("user-values", "dev", values=USER_VALUES, secret_keys=(ROOT_TOKEN_KEY,)),
)
# The second `up` of the change case: nodeport-http with a new publicUrl and new user values.
CHANGED_VALUES = {
    "pachd": {"resources": {"requests": {"cpu": "250m", "memory": "512M"}}},
    "proxy": {"service": {"annotations": {"example.com/owner": "data-platform"}}},
}
CHANGED = Stack("nodeport-http-changed", "dev", "http://192.168.49.3:31080", CHANGED_VALUES)
LINES = ("2.12", "2.11")


@dataclass(frozen=True)
class Case:
    """One stack on one chart line."""

    stack: Stack
    line: str

    @property
    def id(self) -> str:
        return f"{self.stack.name}-{self.line}"

    @property
    def stack_document(self) -> dict[str, Any]:
        config: dict[str, Any] = stack_document(self.stack.stack_file)["config"]
        return config

    @property
    def public_url(self) -> str:
        return self.stack.public_url or str(self.stack_document[PUBLIC_URL_KEY])

    @property
    def user_values(self) -> dict[str, Any]:
        return deep_merge(
            self.stack_document.get(PACHYDERM_KEY, {}).get("values", {}), self.stack.values
        )

    def config(self) -> tuple[dict[str, str], list[str]]:
        """``(config, secret_keys)`` as the engine would pass them."""
        pachyderm = {**self.stack_document.get(PACHYDERM_KEY, {}), "values": self.user_values}
        secrets = {"okta:apiToken": TEST_SECRETS["okta:apiToken"]}
        secrets |= {key: TEST_SECRETS[key] for key in self.stack.secret_keys}
        if self.line == "2.11":
            # 2.11 needs the enterprise license (settings refuse the stack without it).
            pachyderm["chartVersion"] = "2.11.6"
            secrets[LICENSE_KEY] = TEST_SECRETS[LICENSE_KEY]
        overrides: dict[str, Any] = {PACHYDERM_KEY: pachyderm}
        if self.stack.public_url:
            overrides[PUBLIC_URL_KEY] = self.stack.public_url
        return stack_config(self.stack.stack_file, secrets=secrets, **overrides)


CASES = [Case(stack, line) for line in LINES for stack in STACKS]
CHANGED_CASES = [Case(CHANGED, line) for line in LINES]


@dataclass(frozen=True)
class Outcome:
    """One stack's program run and both renders of its Release."""

    case: Case
    plan: Plan
    release: dict[str, Any]
    install: Rendered
    upgrade: Rendered

    def rendered(self, mode: str) -> Rendered:
        return self.install if mode == "install" else self.upgrade

    @property
    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = self.release["values"]
        return values


def test_make_test_fetches_the_helm_this_tier_runs() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert f"\nHELM := {HELM.relative_to(ROOT)}\n" in makefile
    assert re.search(r"^test: .*\$\(HELM\)", makefile, re.MULTILINE)
    fetch_script = runpy.run_path(str(ROOT / "scripts" / "fetch_helm.py"))
    assert fetch_script["HELM_VERSION"] == HELM_VERSION


@pytest.fixture(scope="module")
def helm() -> Path:
    if os.environ.get(SKIP_VARIABLE):
        pytest.skip(f"{SKIP_VARIABLE} is set: the real-Helm tier is not wanted in this run")
    try:
        return checked_helm()
    except HelmMissingError as missing:
        pytest.fail(str(missing))


@pytest.fixture(scope="module")
def outcomes(helm: Path) -> Iterator[dict[str, Outcome]]:
    """Every case run and rendered once for the module (on its own event loop, see runtime.py).

    The program runs one case at a time (Pulumi's runtime is process-global); the Helm renders,
    separate processes, run side by side.
    """
    cases = CASES + CHANGED_CASES
    with drained_event_loop():
        plans = [plan_program(case.config()) for case in cases]
    releases = [_release(plan) for plan in plans]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        renders = list(pool.map(lambda job: _render(helm, *job), product(releases, (False, True))))
    computed = {
        case.id: Outcome(case, plan, release, *renders[2 * index : 2 * index + 2])
        for index, (case, plan, release) in enumerate(zip(cases, plans, releases, strict=True))
    }
    # Every test's event-loop teardown runs gc.collect() (testkit/runtime.py); moving these
    # long-lived manifests out of the collector's reach keeps that at milliseconds, not ~0.2 s.
    gc.freeze()
    yield computed
    gc.unfreeze()


def _release(plan: Plan) -> dict[str, Any]:
    """The inputs of the one ``helm.v3.Release`` the program registered."""
    (release,) = [r.plain_inputs for r in plan.registrations if r.type == RELEASE]
    assert (release["chart"], release["repositoryOpts"]) == (
        "pachyderm",
        {"repo": "https://helm.pachyderm.com"},
    )
    return release


def _render(helm: Path, release: Mapping[str, Any], upgrade: bool) -> Rendered:
    rendered = render(
        helm,
        chart_for(release["version"]),
        name=release["name"],
        namespace=release["namespace"],
        values=release["values"],
        upgrade=upgrade,
    )
    if rendered.returncode == 0:
        assert rendered.documents  # parsed here, once, before the module's gc.freeze()
    return rendered


def _line(case: Case) -> tuple[int, int]:
    major, minor = case.line.split(".")
    return int(major), int(minor)


def _rendered_ok(outcome: Outcome, mode: str) -> Rendered:
    rendered = outcome.rendered(mode)
    assert rendered.returncode == 0, f"helm template ({mode}) failed:\n{rendered.stderr}"
    return rendered


each_case = pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
each_mode = pytest.mark.parametrize("mode", ["install", "upgrade"])


@each_case
@each_mode
def test_the_release_renders(outcomes: dict[str, Outcome], case: Case, mode: str) -> None:
    rendered = _rendered_ok(outcomes[case.id], mode)
    kinds = {doc["kind"] for doc in rendered.documents}
    assert {"Deployment", "StatefulSet", "Service", "ConfigMap"} <= kinds


@each_case
@each_mode
def test_the_chart_bootstraps_no_auth_and_no_idp(
    outcomes: dict[str, Outcome], case: Case, mode: str
) -> None:
    rendered = _rendered_ok(outcomes[case.id], mode)
    pachd_pods = {
        workload: spec
        for workload, spec in pod_specs(rendered.documents)
        if workload in {"Deployment/pachd", "Deployment/pachw"}
    }
    assert set(pachd_pods) == {"Deployment/pachd", "Deployment/pachw"}
    for workload, spec in pachd_pods.items():
        assert env_names(spec) & CHART_AUTH_ENV == set(), workload
    assert {s["metadata"]["name"] for s in rendered.of_kind("Secret")} & CHART_AUTH_SECRETS == set()


@each_case
@each_mode
def test_every_issuer_is_the_public_url_dex(
    outcomes: dict[str, Outcome], case: Case, mode: str
) -> None:
    rendered = _rendered_ok(outcomes[case.id], mode)
    public_url = case.public_url
    identity = rendered.one("ConfigMap", "pachyderm-identity-config")["data"]
    assert yaml.safe_load(identity["identity-config"])["issuer"] == f"{public_url}/dex"
    clients = {c["id"]: c for c in yaml.safe_load(identity["oidc-clients"])}
    assert clients["pachd"]["redirect_uris"] == [f"{public_url}/authorization-code/callback"]
    assert clients["console"]["redirect_uris"] == [f"{public_url}/oauth/callback/?inline=true"]

    console = dict(pod_specs([rendered.one("Deployment", "console")]))["Deployment/console"]
    assert env_value(console, "console", "ISSUER_URI") == f"{public_url}/dex"
    assert env_value(console, "console", "REACT_APP_RUNTIME_ISSUER_URI") == public_url
    assert env_value(console, "console", "OAUTH_REDIRECT_URI") == (
        f"{public_url}/oauth/callback/?inline=true"
    )


@each_case
@each_mode
def test_every_secret_a_pod_references_exists(
    outcomes: dict[str, Outcome], case: Case, mode: str
) -> None:
    outcome = outcomes[case.id]
    rendered = _rendered_ok(outcome, mode)
    namespace = outcome.release["namespace"]
    chart_made = {
        s["metadata"]["name"]: set(s.get("data") or {}) | set(s.get("stringData") or {})
        for s in rendered.of_kind("Secret")
    }
    program_made = {
        inputs["metadata"]["name"]: set(inputs["stringData"])
        for inputs in (r.plain_inputs for r in outcome.plan.registrations if r.type == SECRET)
        if inputs["metadata"]["namespace"] == namespace
    }
    user_named = {_at(outcome.values, path) for path in USER_SECRET_VALUES} - {None}
    assert not set(chart_made) & set(program_made), "the chart and the program both own one"

    unmet, pachd_used, user_used = [], set(), set()
    for ref in secret_references(rendered.documents):
        if ref.secret in chart_made:
            met = ref.key is None or ref.key in chart_made[ref.secret]
        elif ref.secret in program_made:
            met = ref.key is None or ref.key in program_made[ref.secret]
        elif ref.secret in PACHD_CREATED:
            pachd_used.add(ref.secret)
            met = ref.key == PACHD_CREATED[ref.secret].key
        elif ref.secret in user_named:
            user_used.add(ref.secret)
            met = True
        else:
            met = False
        if not met:
            unmet.append(ref)
    assert unmet == []
    assert pachd_used == {n for n, s in PACHD_CREATED.items() if _line(case) in s.lines}
    assert user_used == user_named


@each_case
@each_mode
def test_no_secret_value_reaches_a_manifest(
    outcomes: dict[str, Outcome], case: Case, mode: str
) -> None:
    outcome = outcomes[case.id]
    text = _rendered_ok(outcome, mode).text_with_decoded_secrets()
    secrets = _secret_values(outcome)
    assert len(secrets) >= len(outcome.case.config()[1]) + 4  # + Okta's and 3 minted passwords
    assert [value for value in sorted(secrets) if value in text] == []


@each_case
@each_mode
def test_the_postgres_password_value_is_no_credential(
    outcomes: dict[str, Outcome], case: Case, mode: str
) -> None:
    # The bundled PostgreSQL subchart needs a non-empty value to upgrade, and with an existing
    # Secret only tests it for truthiness (components/helm_values.py says where). Whatever the
    # program puts there must not be a credential and must reach no Secret, env or ConfigMap.
    outcome = outcomes[case.id]
    rendered = _rendered_ok(outcome, mode)
    postgresql = outcome.values["global"]["postgresql"]
    placeholder = postgresql["postgresqlPassword"]
    assert placeholder
    assert placeholder not in _secret_values(outcome)
    assert placeholder not in rendered.text_with_decoded_secrets()
    # The database and its clients take the password from the program's Secret instead.
    credentials = postgresql["existingSecret"]
    assert postgresql["postgresqlExistingSecretName"] == credentials
    specs = dict(pod_specs(rendered.documents))
    readers = {"StatefulSet/postgres": "postgres", "Deployment/pachd": "pachd"}
    for workload, container in readers.items():
        assert env_source(specs[workload], container, "POSTGRES_PASSWORD") == {
            "secretKeyRef": {"name": credentials, "key": "postgresql-password"}
        }


@pytest.mark.parametrize("line", LINES)
def test_user_values_reach_the_manifests(outcomes: dict[str, Outcome], line: str) -> None:
    rendered = _rendered_ok(outcomes[f"user-values-{line}"], "upgrade")
    assert not [d for d in rendered.documents if "loki" in d["metadata"]["name"]]
    proxy = rendered.one("Service", "pachyderm-proxy")["metadata"]["annotations"]
    assert proxy == {"example.com/team": "ml"}
    (pachd,) = [
        c
        for w, s in pod_specs(rendered.documents)
        if w == "Deployment/pachd"
        for c in s["containers"]
        if c["name"] == "pachd"
    ]
    assert pachd["resources"]["requests"] == {"cpu": "500m", "memory": "1G"}


@pytest.mark.parametrize("line", LINES)
def test_a_second_up_with_a_new_url_and_new_values_upgrades_the_release(
    outcomes: dict[str, Outcome], line: str
) -> None:
    first = _rendered_ok(outcomes[f"nodeport-http-{line}"], "install")
    changed = outcomes[f"{CHANGED.name}-{line}"]
    second = _rendered_ok(changed, "upgrade")

    identity = second.one("ConfigMap", "pachyderm-identity-config")["data"]["identity-config"]
    assert yaml.safe_load(identity)["issuer"] == "http://192.168.49.3:31080/dex"
    assert second.one("Service", "pachyderm-proxy")["metadata"]["annotations"] == {
        "example.com/owner": "data-platform"
    }
    # What Kubernetes refuses to change in place must not move (the API server would reject
    # the upgrade), and what pins the cluster's identity and data must stay identical.
    before, after = dict(_immutable_fields(first)), dict(_immutable_fields(second))
    assert {"StatefulSet/postgres", "StatefulSet/etcd", "Deployment/pachd"} <= before.keys()
    assert after == before
    assert _pinned(second) == _pinned(first)


def _immutable_fields(rendered: Rendered) -> Iterator[tuple[str, Any]]:
    for doc in rendered.documents:
        spec = doc.get("spec") or {}
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        if doc["kind"] == "StatefulSet":
            keys = ("selector", "serviceName", "volumeClaimTemplates", "podManagementPolicy")
            yield name, {key: spec.get(key) for key in keys}
        elif doc["kind"] in {"Deployment", "DaemonSet"}:
            yield name, spec.get("selector")


def _pinned(rendered: Rendered) -> dict[str, Any]:
    pachd = dict(pod_specs(rendered.documents))["Deployment/pachd"]
    return {
        "deployment id": rendered.one("Secret", "pachyderm-deployment-id-secret")["data"],
        "storage": env_value(pachd, "pachd", "STORAGE_HOST_PATH"),
        "secrets": sorted({(r.secret, r.key) for r in secret_references(rendered.documents)}),
    }


def _secret_values(outcome: Outcome) -> set[str]:
    """The stack's credentials: its secret config, what Okta returns, every minted password.

    Every value the program puts into a Kubernetes Secret is included too (a generated password
    reaches ``stringData`` through an Output, so it is listed both ways on purpose).
    """
    config, secret_keys = outcome.case.config()
    values = {config[key] for key in secret_keys} | {OKTA_CLIENT_SECRET}
    for registration in outcome.plan.registrations:
        if registration.type == RANDOM_PASSWORD:
            values.add(password_value(registration.name))
        elif registration.type == SECRET:
            values |= set(registration.plain_inputs["stringData"].values())
    return values


def _at(tree: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = tree
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node
