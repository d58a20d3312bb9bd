"""Secret audit: no secret value ever leaves the program in a place that is not secret.

Guards the secrecy promises of docs/decisions.md (2, 5) and the provider rule "no secret in an
exception message" against regressions anywhere in the program. A full offline life cycle (first
``up``, a rotated Okta client secret, adopting a root token (a root-token rotation), refresh,
destroy), a Pachyderm 2.11 variant with an enterprise license key, a robot's tokens (minted,
rotated, refreshed, revoked), and the failure paths (a
foreign root token, env-managed identity, a pachd that never becomes ready, pachd echoing secrets
in its error details, invalid stack configs) and a kubeconfig given as contents (plaintext and
``--secret``) are run, and everything that leaves the program is collected:

- every registered input that is not secret-wrapped (secret-wrapped subtrees are skipped);
- the Helm Release's ``values`` in full (secrets must never be in values, wrapped or not);
- every dynamic-host output (create, update, read) whose key is NOT in the resource's
  ``additional_secret_outputs``;
- the pickled ``__provider`` of every dynamic resource, base64-decoded and scanned as bytes;
- stack exports that are not secret;
- the dynamic provider host's stdout and stderr;
- the message of every failure (HostError details, StackConfigError text).

None may contain any secret: the Okta API token, the Okta client secret (original and rotated),
the root tokens, the minted passwords (every ``RandomPassword``: pachd and console client
secrets, Postgres passwords, the enterprise secret), the license key, the kubeconfig's token and
every robot token pachd minted.
The scanner has its own test that plants a secret in each kind of place, so the audit cannot pass
vacuously.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import grpc
import pytest

from components.pachyderm_auth.idp_connector import ConnectorProvider
from components.settings import StackConfigError
from testkit.dynamic_host import (
    PROVIDER_KEY,
    DynamicProviderHost,
    HostError,
    HostResult,
    serialize_provider,
)
from testkit.fake_pachd import FakePachd
from testkit.mocks import Registration, is_secret, unwrap
from testkit.offline_up import (
    OKTA_CLIENT_SECRET,
    RANDOM_PASSWORD,
    TEST_SECRETS,
    OfflineEngine,
    Plan,
    World,
    dev_stack,
    password_value,
    plan_program,
)
from testkit.runtime import drained_event_loop, pickler_restored
from testkit.stacks import ROOT

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
ROTATED_OKTA_SECRET = "test-rotated-okta-client-secret-0006"
FOREIGN_ROOT_TOKEN = "test-foreign-root-token-0007"
KUBE_TOKEN = "test-kube-token-0008"
KUBECONFIG_CONTENTS = (
    "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: https://k8s.internal}}]\n"
    f"users: [{{name: u, user: {{token: {KUBE_TOKEN}}}}}]\n"
    "contexts: [{name: minikube, context: {cluster: c, user: u}}]"
)
DEV_AUTH = {
    "clusterAdmins": ["group:pachyderm-admins"],
    "roleBindings": {"allClusterUsers": ["projectViewer"]},
}

Exposure = tuple[str, Any]
"""``(where, value)``: a value that leaves the program in a place that is not secret."""

_BASE64 = re.compile(r"^[A-Za-z0-9+/]{16,}={0,2}$")


# --- the scanner ----------------------------------------------------------------------------------


def _texts(value: Any) -> Iterator[str | bytes]:
    """Every string and bytes value in ``value``, dict keys included."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key)
            yield from _texts(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _texts(item)
    elif isinstance(value, str | bytes):
        yield value
    elif value is not None:
        yield str(value)


def _decoded(text: str) -> bytes | None:
    """The bytes of a base64 string (Kubernetes ``data``, pickles), else ``None``."""
    if not _BASE64.fullmatch(text):
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def find_leaks(exposures: Iterable[Exposure], secrets: Mapping[str, str]) -> list[str]:
    """``where: secret name`` for every secret found in an exposure (also inside base64)."""
    leaks: list[str] = []
    for where, value in exposures:
        for text in _texts(value):
            blobs: list[bytes] = [text if isinstance(text, bytes) else text.encode()]
            if isinstance(text, str) and (decoded := _decoded(text)) is not None:
                blobs.append(decoded)
            for name, secret in secrets.items():
                if any(secret.encode() in blob for blob in blobs):
                    leaks.append(f"{where}: {name}")
    return sorted(set(leaks))


def _not_secret(value: Any) -> Any:
    """``value`` with every secret-wrapped subtree removed."""
    if is_secret(value):
        return None
    if isinstance(value, Mapping):
        return {key: _not_secret(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_not_secret(item) for item in value]
    return value


def _pickle_bytes(value: Any) -> bytes:
    return base64.b64decode(str(unwrap(value)))


def registration_exposures(registration: Registration) -> list[Exposure]:
    """Non-secret inputs, the Helm values in full, and the decoded pickled provider."""
    where = f"{registration.type}::{registration.name}"
    inputs = dict(registration.inputs)
    exposures: list[Exposure] = []
    pickled = inputs.pop(PROVIDER_KEY, None)
    if pickled is not None:
        exposures.append((f"{where} {PROVIDER_KEY} (pickle)", _pickle_bytes(pickled)))
    exposures.append((f"{where} inputs", _not_secret(inputs)))
    if registration.type == HELM_RELEASE:
        exposures.append((f"{where} values", unwrap(inputs.get("values"))))
    return exposures


def output_exposures(
    where: str, outputs: Mapping[str, Any], additional_secret_outputs: Iterable[str]
) -> list[Exposure]:
    """Host outputs not listed as secret, and the decoded pickled provider."""
    secret_keys = set(additional_secret_outputs)
    exposures: list[Exposure] = []
    for key, value in outputs.items():
        if key == PROVIDER_KEY:
            exposures.append((f"{where} output {key} (pickle)", _pickle_bytes(value)))
        elif key not in secret_keys:
            exposures.append((f"{where} output {key}", value))
    return exposures


def export_exposures(plan: Plan) -> list[Exposure]:
    """Stack exports that are not secret."""
    return [
        (f"export {key}", value)
        for key, value in plan.exports.items()
        if not plan.export_secrets.get(key)
    ]


def failure_exposures(error: BaseException) -> list[Exposure]:
    """What a user sees of a failure."""
    exposures: list[Exposure] = [(f"{type(error).__name__} message", str(error))]
    if isinstance(error, HostError):
        exposures.append(("HostError details", error.details))
    if isinstance(error, StackConfigError):
        exposures.append(("StackConfigError problems", [str(p) for p in error.problems]))
    return exposures


# --- the collection -------------------------------------------------------------------------------


class RecordingHost(DynamicProviderHost):
    """The real dynamic provider host, keeping every output it answers."""

    def __init__(self) -> None:
        super().__init__(cwd=ROOT)
        self.answers: list[tuple[str, dict[str, Any]]] = []

    def create(self, urn: str, props: Mapping[str, Any], *, preview: bool = False) -> HostResult:
        result = super().create(urn, props, preview=preview)
        self.answers.append((urn, result.outputs))
        return result

    def update(
        self,
        urn: str,
        id: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
        preview: bool = False,
    ) -> HostResult:
        result = super().update(urn, id, olds, news, old_inputs=old_inputs, preview=preview)
        self.answers.append((urn, result.outputs))
        return result

    def read(
        self,
        urn: str,
        id: str,
        props: Mapping[str, Any],
        inputs: Mapping[str, Any] | None = None,
    ) -> HostResult | None:
        result = super().read(urn, id, props, inputs)
        if result is not None:
            self.answers.append((urn, result.outputs))
        return result


class Audit:
    """Everything that left the program, and every secret it must not contain."""

    def __init__(self) -> None:
        self.exposures: list[Exposure] = []
        self.secrets: dict[str, str] = {
            "okta:apiToken": TEST_SECRETS["okta:apiToken"],
            "pachyderm-okta:licenseKey": TEST_SECRETS["pachyderm-okta:licenseKey"],
            "pachyderm-okta:rootToken (adopted)": TEST_SECRETS["pachyderm-okta:rootToken"],
            "Okta client secret": OKTA_CLIENT_SECRET,
            "Okta client secret (rotated)": ROTATED_OKTA_SECRET,
            "foreign root token": FOREIGN_ROOT_TOKEN,
            "kubernetes:kubeconfig token": KUBE_TOKEN,
        }
        self.aso: dict[str, tuple[str, ...]] = {}
        self.plans = 0
        self.failures = 0

    def plan(self, plan: Plan) -> Plan:
        self.plans += 1
        for registration in plan.registrations:
            self.exposures += registration_exposures(registration)
            self.aso[registration.urn] = registration.additional_secret_outputs
            if registration.type == RANDOM_PASSWORD:
                self.secrets[f"RandomPassword {registration.name}"] = password_value(
                    registration.name
                )
        self.exposures += export_exposures(plan)
        return plan

    def failure(self, error: BaseException) -> None:
        self.failures += 1
        self.exposures += failure_exposures(error)

    def host(self, host: RecordingHost) -> None:
        for urn, outputs in host.answers:
            self.exposures += output_exposures(urn, outputs, self.aso[urn])
        self.exposures.append(("host stdout", host.stdout_text()))
        self.exposures.append(("host stderr", host.stderr_text()))


@pytest.fixture(scope="module")
def audit() -> Audit:
    collected = Audit()
    host = RecordingHost()
    with drained_event_loop(), pickler_restored(), host:
        host.configure()
        run_life_cycle(collected, host)
        run_license_variant(collected, host)
        run_robot_tokens(collected, host)
        run_failures(collected, host)
        run_kubeconfig_contents(collected)
        collected.host(host)
    return collected


def run_life_cycle(audit: Audit, host: RecordingHost) -> None:
    """Up, rotate the Okta secret, adopt a root token (a rotation), refresh, destroy."""
    with FakePachd() as fake:
        engine = OfflineEngine(host)
        engine.up(audit.plan(plan_program(dev_stack(fake.address))))
        rotated = World(okta_client_secret=ROTATED_OKTA_SECRET)
        engine.up(audit.plan(plan_program(dev_stack(fake.address), world=rotated)))
        adopted = TEST_SECRETS["pachyderm-okta:rootToken"]
        secrets = {
            "okta:apiToken": TEST_SECRETS["okta:apiToken"],
            "pachyderm-okta:rootToken": adopted,
        }
        engine.up(audit.plan(plan_program(dev_stack(fake.address, secrets=secrets), world=rotated)))
        assert fake.state.root_token == adopted
        engine.refresh()
        engine.destroy()


def run_license_variant(audit: Audit, host: RecordingHost) -> None:
    """Pachyderm 2.11: the license key and the enterprise secret reach pachd, nowhere else."""
    secrets = {
        "okta:apiToken": TEST_SECRETS["okta:apiToken"],
        "pachyderm-okta:licenseKey": TEST_SECRETS["pachyderm-okta:licenseKey"],
    }
    pachyderm = {
        "namespace": "pachyderm",
        "chartVersion": "2.11.6",
        "values": {"etcd": {"storageSize": "1Gi"}},
    }
    auth = DEV_AUTH | {"deactivateOnDelete": True}
    with FakePachd(version=(2, 11, 6)) as fake:
        engine = OfflineEngine(host)
        stack = dev_stack(
            fake.address,
            secrets=secrets,
            pachyderm_okta__pachyderm=json.dumps(pachyderm),
            pachyderm_okta__auth=json.dumps(auth),
        )
        engine.up(audit.plan(plan_program(stack)))
        assert fake.state.license_code == TEST_SECRETS["pachyderm-okta:licenseKey"]
        engine.refresh()
        engine.destroy()


def run_robot_tokens(audit: Audit, host: RecordingHost) -> None:
    """A robot's token minted, rotated, refreshed and revoked: every token it ever had."""
    robot = {"ttl": "720h", "secret": {"namespace": "ci", "name": "pachyderm-robot-ci"}}
    with FakePachd() as fake:
        engine = OfflineEngine(host)
        for rotation in (0, 1):
            auth = DEV_AUTH | {"robots": {"ci": robot | {"rotation": rotation}}}
            stack = dev_stack(fake.address, pachyderm_okta__auth=json.dumps(auth))
            engine.up(audit.plan(plan_program(stack)))
        engine.refresh()
        minted = [token for token, subject in fake.state.tokens.items() if subject == "robot:ci"]
        assert len(minted) == 2
        engine.destroy()
    audit.secrets |= {f"robot token {index}": token for index, token in enumerate(minted)}


def run_kubeconfig_contents(audit: Audit) -> None:
    """``kubernetes:kubeconfig`` as contents, in plaintext config and set with ``--secret``."""
    unused_pachd = "grpc://localhost:30650"
    as_secret = {"okta:apiToken": TEST_SECRETS["okta:apiToken"]}
    as_secret["kubernetes:kubeconfig"] = KUBECONFIG_CONTENTS
    audit.plan(plan_program(dev_stack(unused_pachd, secrets=as_secret)))
    plaintext = {"kubernetes:kubeconfig": KUBECONFIG_CONTENTS}
    audit.plan(plan_program(dev_stack(unused_pachd, **plaintext)))


def _failed_up(audit: Audit, host: RecordingHost, fake: FakePachd, **overrides: Any) -> HostError:
    engine = OfflineEngine(host)
    plan = audit.plan(plan_program(dev_stack(fake.address, **overrides)))
    with pytest.raises(HostError) as raised:
        engine.up(plan)
    audit.failure(raised.value)
    return raised.value


def run_failures(audit: Audit, host: RecordingHost) -> None:
    """Every failure path a user can hit, with secrets in play."""
    with FakePachd() as fake:  # someone else activated auth
        fake.client().auth.activate(root_token=FOREIGN_ROOT_TOKEN)
        _failed_up(audit, host, fake)
    with FakePachd(env_managed_identity=True) as fake:
        _failed_up(audit, host, fake)
    with FakePachd(ready_after=3600) as fake:
        auth = DEV_AUTH | {"pachdReadyTimeoutSeconds": 1}
        _failed_up(audit, host, fake, pachyderm_okta__auth=json.dumps(auth))
    # pachd echoing a request's text (its secrets included) in error details must be redacted: the
    # fake quotes the request it refuses (whichever client or binding came first), after the root
    # token, which no request but Activate carries.
    root = password_value("auth-root-token")
    license_key = TEST_SECRETS["pachyderm-okta:licenseKey"]
    echoes: list[tuple[tuple[int, int, int], str]] = [
        ((2, 12, 2), "auth.Activate"),
        ((2, 12, 2), "identity.CreateIDPConnector"),
        ((2, 12, 2), "identity.CreateOIDCClient"),
        ((2, 12, 2), "auth.SetConfiguration"),
        ((2, 12, 2), "auth.ModifyRoleBinding"),
        ((2, 11, 6), "license.Activate"),
        ((2, 11, 6), "license.AddCluster"),
        ((2, 11, 6), "enterprise.Activate"),
    ]
    secrets_2_11 = {
        "okta:apiToken": TEST_SECRETS["okta:apiToken"],
        "pachyderm-okta:licenseKey": license_key,
    }
    for version, method in echoes:
        legacy: dict[str, Any] = {}
        if version < (2, 12, 0):
            legacy = {
                "secrets": secrets_2_11,
                "pachyderm_okta__pachyderm": json.dumps({"chartVersion": "2.11.6"}),
            }
        with FakePachd(version=version) as fake:
            fake.inject(
                method, grpc.StatusCode.INTERNAL, f"bad request from {root}", echo_request=True
            )
            failed = _failed_up(audit, host, fake, **legacy)
            assert fake.pending_faults() == {}, method
            assert "[secret]" in failed.details, method
    invalid_stacks: list[dict[str, Any]] = [
        # okta:apiToken in plaintext in the stack file.
        {"secrets": {}, "okta__apiToken": TEST_SECRETS["okta:apiToken"]},
        # A license key on 2.12, in plaintext, next to a bad publicUrl.
        {
            "secrets": {},
            "okta__apiToken": TEST_SECRETS["okta:apiToken"],
            "pachyderm_okta__licenseKey": TEST_SECRETS["pachyderm-okta:licenseKey"],
            "pachyderm_okta__publicUrl": "ftp://nowhere",
        },
        # A root token to adopt, as a secret, but 2.11 without its license key.
        {
            "secrets": {
                "okta:apiToken": TEST_SECRETS["okta:apiToken"],
                "pachyderm-okta:rootToken": TEST_SECRETS["pachyderm-okta:rootToken"],
            },
            "pachyderm_okta__pachyderm": json.dumps({"chartVersion": "2.11.6"}),
        },
        # A secret pasted into Helm values the program owns.
        {
            "pachyderm_okta__pachyderm": json.dumps(
                {"values": {"pachd": {"rootToken": TEST_SECRETS["pachyderm-okta:rootToken"]}}}
            )
        },
    ]
    for overrides in invalid_stacks:
        with pytest.raises(StackConfigError) as raised:
            audit.plan(plan_program(dev_stack("grpc://127.0.0.1:1", **overrides)))
        audit.failure(raised.value)


# --- the tests ------------------------------------------------------------------------------------


def test_scanner_finds_a_planted_secret_in_every_kind_of_place() -> None:
    planted = "planted-secret-0099"
    secrets = {"planted": planted}
    wrapped = {
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
        "value": planted,
    }

    def registration(type_: str, inputs: dict[str, Any]) -> Registration:
        return Registration(
            type=type_,
            name="r",
            urn=f"urn:pulumi:dev::pachyderm-okta::{type_}::r",
            parent="",
            custom=True,
            inputs=inputs,
            provider="",
            providers={},
            dependencies=(),
            additional_secret_outputs=("hidden",),
            protect=False,
            delete_before_replace=False,
            ignore_changes=(),
            replace_on_changes=(),
        )

    leaky = ConnectorProvider()  # a provider that (wrongly) holds a credential
    leaky.token = planted  # type: ignore[attr-defined]
    pickle = serialize_provider(leaky)
    assert planted not in pickle  # only decoding finds it
    kubernetes_data = base64.b64encode(planted.encode()).decode()
    plan = Plan([], {"open": planted, "closed": planted}, {"open": False, "closed": True})
    cases: dict[str, tuple[list[Exposure], bool]] = {
        "nested plain input": (
            registration_exposures(registration("t:m:T", {"a": {"b": ["x", planted]}})),
            True,
        ),
        "input as a dict key": (registration_exposures(registration("t:m:T", {planted: 1})), True),
        "base64 input (Secret data)": (
            registration_exposures(registration("t:m:T", {"data": {"k": kubernetes_data}})),
            True,
        ),
        "secret-wrapped input": (
            registration_exposures(registration("t:m:T", {"a": wrapped})),
            False,
        ),
        "helm values, even wrapped": (
            registration_exposures(registration(HELM_RELEASE, {"values": {"x": wrapped}})),
            True,
        ),
        "pickled provider input": (
            registration_exposures(registration("t:m:T", {PROVIDER_KEY: pickle})),
            True,
        ),
        "pickled provider output": (output_exposures("r", {PROVIDER_KEY: pickle}, ()), True),
        "host output not listed secret": (output_exposures("r", {"shown": planted}, ()), True),
        "host output listed secret": (
            output_exposures("r", {"hidden": planted}, ("hidden",)),
            False,
        ),
        "plain export": (export_exposures(Plan([], {"open": planted}, {"open": False})), True),
        "secret export": (export_exposures(Plan([], {"c": planted}, {"c": True})), False),
        "host stderr": ([("host stderr", f"Traceback ...\n  {planted}\n")], True),
        "HostError": (
            failure_exposures(HostError(grpc.StatusCode.UNKNOWN, f"x {planted}", method="Create")),
            True,
        ),
        "StackConfigError": (failure_exposures(StackConfigError([])), False),
    }
    assert find_leaks(export_exposures(plan), secrets) == ["export open: planted"]
    found = {name: bool(find_leaks(exposures, secrets)) for name, (exposures, _) in cases.items()}
    assert found == {name: expected for name, (_, expected) in cases.items()}


def test_audit_collected_every_kind_of_place(audit: Audit) -> None:
    wheres = [where for where, _ in audit.exposures]
    assert audit.plans == 3 + 1 + 2 + 3 + 8 + 2
    assert any(" output " in w and "RobotToken" in w for w in wheres)
    assert audit.failures == 3 + 8 + 4
    assert any(w.startswith(HELM_RELEASE) and w.endswith(" values") for w in wheres)
    assert any(w.endswith(f"output {PROVIDER_KEY} (pickle)") for w in wheres)
    assert any(" output " in w and "AuthActivation" in w for w in wheres)
    assert any(w.startswith("export ") for w in wheres)
    assert {"host stdout", "host stderr", "HostError details"} <= set(wheres)
    assert "StackConfigError problems" in wheres
    minted = sorted(name for name in audit.secrets if name.startswith("RandomPassword "))
    assert minted == [
        "RandomPassword auth-enterprise-secret",
        "RandomPassword auth-pachd-client-secret",
        "RandomPassword auth-root-token",
        "RandomPassword pachyderm-console-client-secret",
        "RandomPassword pachyderm-postgres-admin-password",
        "RandomPassword pachyderm-postgres-password",
    ]


def test_no_secret_leaves_the_program_in_the_clear(audit: Audit) -> None:
    leaks = find_leaks(audit.exposures, audit.secrets)
    assert leaks == [], f"{len(leaks)} leaks in {len(audit.exposures)} exposures:\n" + "\n".join(
        leaks
    )
