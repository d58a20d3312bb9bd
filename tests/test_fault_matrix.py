"""Fault matrix: a pachd failure at ANY call of the first ``up`` never locks the stack out.

Guards the minted root token and the provider rule "``create`` is idempotent and resumable" against
regressions in any single step. The unfaulted first ``up`` of the dev stack is recorded (its
pachd RPC sequence, e.g. ``version.GetVersion, auth.Activate, ...``); then, for every position
in that sequence (the k-th call of method m), for each of UNAVAILABLE, DEADLINE_EXCEEDED and
INTERNAL, and both before the call takes effect (``after=False``) and after it took effect with
the response lost (``after=True``, a pachd restart mid-call), a fresh fake pachd fails exactly
that call. The faulted ``up`` must either succeed or fail with a host error; a second ``up`` with
the same engine state must converge to the unfaulted end state in pachd, leave the engine's
state consistent (a third ``up`` is a no-op that never calls pachd) and keep the stack's root
token opening the cluster. A run after which the stack's root token no longer opens an
auth-active cluster is a lockout; there must be none.

The full cross product runs (sequence length x 3 codes x 2 timings); one dynamic provider host
is shared by the module, and faulted runs use a 2 s ready-wait and 5 s call timeout.

Also: a pachd that never becomes ready fails the first ``up`` within its deadline, naming the
address it tried.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from components import program
from testkit.dynamic_host import DynamicProviderHost, HostError
from testkit.fake_pachd import FakePachd, short_name
from testkit.offline_up import OfflineEngine, dev_stack, plan_program
from testkit.runtime import drained_event_loop, pickler_restored

CODES = (
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.INTERNAL,
)
ACTIVATION_SUFFIX = "::auth-activation"
CONNECTOR_SUFFIX = "::auth-connector"

# The dev stack's auth settings (clusterAdmins/roleBindings kept), with short waits.
FAST_AUTH = json.dumps(
    {
        "clusterAdmins": ["group:pachyderm-admins"],
        "roleBindings": {"allClusterUsers": ["projectViewer"]},
        "pachdReadyTimeoutSeconds": 2,
        "callTimeoutSeconds": 5,
    }
)


class TargetedFakePachd(FakePachd):
    """A fake pachd that fails exactly the ``occurrence``-th call of ``method``, once.

    ``FakePachd.inject`` fails the *next* calls of a method, so the fault is armed just as the
    targeted call arrives (after the previous ``occurrence - 1`` calls went through untouched).
    """

    def __init__(self, method: str, occurrence: int, code: grpc.StatusCode, *, after: bool) -> None:
        super().__init__()
        self.target = method
        self.occurrence = occurrence
        self.code = code
        self.after = after
        self.seen = 0
        self._target_lock = threading.Lock()

    def _dispatch(self, method: str, raw: bytes, context: Any) -> bytes:
        if short_name(method) == self.target:
            with self._target_lock:
                self.seen += 1
                if self.seen == self.occurrence:
                    self.inject(self.target, self.code, "injected fault", after=self.after)
        return super()._dispatch(method, raw, context)


@dataclass(frozen=True)
class Case:
    """One cell of the matrix."""

    position: int
    method: str
    occurrence: int
    code: grpc.StatusCode
    after: bool

    def __str__(self) -> str:
        timing = "after" if self.after else "before"
        return f"#{self.position} {self.method}[{self.occurrence}] {self.code.name} {timing}"


def snapshot(fake: FakePachd) -> dict[str, Any]:
    """pachd's end state, normalised for comparison across runs.

    Connector ``config_version`` is left out on purpose: when a fault loses the response of a
    successful ``CreateIDPConnector``, the resumed ``up`` adopts the existing connector by
    updating it (pachd accepts exactly stored + 1), so the version is 1 instead of 0. The config,
    name and type must be identical; the engine's recorded version must match pachd's (checked
    separately), which is what later updates depend on.
    """
    state = fake.state
    with state.lock:
        return {
            "auth_active": state.auth_active,
            "pfs_auth_active": state.pfs_auth_active,
            "pps_auth_active": state.pps_auth_active,
            "root_token": state.root_token,
            "tokens": dict(state.tokens),
            "identity_config": dict(state.identity_config),
            "connectors": {
                cid: {k: v for k, v in c.items() if k != "config_version"}
                for cid, c in state.connectors.items()
            },
            "oidc_clients": {cid: dict(c) for cid, c in state.oidc_clients.items()},
            "auth_config": dict(state.auth_config or {}),
            "cluster_role_bindings": {p: sorted(r) for p, r in state.cluster_role_bindings.items()},
        }


def stack_root_token(engine: OfflineEngine, planned: str) -> str:
    """The root token the stack holds: the activation's stored output, else the minted one."""
    for urn, outputs in engine.state.items():
        if urn.endswith(ACTIVATION_SUFFIX):
            return str(outputs["root_token"])
    return planned


def locked_out(fake: FakePachd, token: str) -> bool:
    """True if auth is active in pachd and the stack's root token does not open it as root."""
    if not fake.state.auth_active:
        return False
    try:
        return bool(fake.client(token).auth.who_am_i().username != "pach:root")
    except Exception:  # any refusal of the token is a lockout
        return True


@pytest.fixture(scope="module")
def baseline(host: DynamicProviderHost) -> tuple[list[str], dict[str, Any], set[str]]:
    """The unfaulted first ``up``: pachd's call sequence, its end state, the engine's URNs."""
    with drained_event_loop(), pickler_restored(), FakePachd() as fake:
        engine = OfflineEngine(host)
        engine.up(plan_program(dev_stack(fake.address, pachyderm_okta__auth=FAST_AUTH)))
        return list(fake.calls), snapshot(fake), set(engine.state)


def matrix(calls: list[str]) -> list[Case]:
    cases: list[Case] = []
    seen: dict[str, int] = {}
    for position, method in enumerate(calls):
        seen[method] = seen.get(method, 0) + 1
        for code in CODES:
            for after in (False, True):
                cases.append(Case(position, method, seen[method], code, after))
    return cases


def run_case(
    host: DynamicProviderHost, case: Case, expected: dict[str, Any], expected_urns: set[str]
) -> tuple[list[str], int, bool]:
    """Run one cell; return ``(problems, lockouts, whether the faulted up failed)``."""
    problems: list[str] = []
    lockouts = 0
    failed = False
    with (
        pickler_restored(),
        TargetedFakePachd(case.method, case.occurrence, case.code, after=case.after) as fake,
    ):
        engine = OfflineEngine(host)
        stack = dev_stack(fake.address, pachyderm_okta__auth=FAST_AUTH)
        first = plan_program(stack)
        minted = str(first.exports[program.OUTPUT_ROOT_TOKEN])
        try:
            engine.up(first)
        except HostError:
            failed = True
        if fake.pending_faults():
            problems.append(f"{case}: the fault was never delivered")
        if locked_out(fake, stack_root_token(engine, minted)):
            lockouts += 1
            problems.append(f"{case}: locked out after the faulted up")
        try:
            engine.up(plan_program(stack))
        except HostError as error:
            problems.append(f"{case}: the resumed up failed: {error.details[-300:]}")
            return problems, lockouts, failed
        token = stack_root_token(engine, minted)
        if locked_out(fake, token):
            lockouts += 1
            problems.append(f"{case}: locked out after the resumed up")
        if token != minted:
            problems.append(f"{case}: the stack holds another root token than it minted")
        if snapshot(fake) != expected:
            problems.append(f"{case}: pachd's end state differs from the unfaulted run")
        if set(engine.state) != expected_urns:
            problems.append(f"{case}: engine state holds {sorted(set(engine.state))}")
        (connector,) = [o for u, o in engine.state.items() if u.endswith(CONNECTOR_SUFFIX)]
        if int(connector["config_version"]) != fake.state.connectors["okta"]["config_version"]:
            problems.append(f"{case}: engine and pachd disagree on the connector version")
        fake.reset_calls()
        third = engine.up(plan_program(stack))
        if third.changed or fake.calls:
            problems.append(f"{case}: a third up changed {third.changed}, called {fake.calls}")
    return problems, lockouts, failed


def test_baseline_sequence_is_the_documented_first_up(
    baseline: tuple[list[str], dict[str, Any], set[str]],
) -> None:
    calls, state, _urns = baseline
    assert calls[:2] == ["version.GetVersion", "auth.Activate"]
    assert "identity.CreateIDPConnector" in calls
    assert state["auth_active"]
    assert state["connectors"]["okta"]["config"]["clientSecret"]


def test_any_single_pachd_fault_in_the_first_up_is_recovered_without_lockout(
    host: DynamicProviderHost, baseline: tuple[list[str], dict[str, Any], set[str]]
) -> None:
    calls, expected, expected_urns = baseline
    cases = matrix(calls)
    problems: list[str] = []
    lockouts = 0
    failed_ups = 0
    started = time.monotonic()
    for case in cases:
        case_problems, case_lockouts, failed = run_case(host, case, expected, expected_urns)
        problems += case_problems
        lockouts += case_lockouts
        failed_ups += failed
    elapsed = time.monotonic() - started
    summary = (
        f"fault matrix: {len(cases)} cases ({len(calls)} calls x {len(CODES)} codes x 2 timings), "
        f"faulted ups that failed: {failed_ups}, lockouts: {lockouts}, "
        f"problems: {len(problems)}, {elapsed:.1f} s"
    )
    print(summary)
    assert len(cases) == len(calls) * len(CODES) * 2
    # Not vacuous: most faults must really break the first up (the ready-wait absorbs some).
    assert failed_ups > len(cases) // 2, summary
    assert lockouts == 0, summary
    assert problems == [], summary + "\n" + "\n".join(problems)


def test_pachd_that_never_becomes_ready_fails_within_the_deadline(
    host: DynamicProviderHost,
) -> None:
    deadline = 1.0
    auth = json.loads(FAST_AUTH) | {"pachdReadyTimeoutSeconds": deadline}
    with FakePachd(ready_after=3600) as fake:
        engine = OfflineEngine(host)
        plan = plan_program(dev_stack(fake.address, pachyderm_okta__auth=json.dumps(auth)))
        started = time.monotonic()
        with pytest.raises(HostError) as raised:
            engine.up(plan)
        elapsed = time.monotonic() - started

    details = raised.value.details
    assert f"pachd at {fake.address} did not become ready within 1 s" in details
    assert "UNAVAILABLE" in details
    assert engine.state == {}
    assert fake.calls
    assert set(fake.calls) == {"version.GetVersion"}
    # A deadline check, not a benchmark: the ready-wait must stop at its deadline.
    assert elapsed < deadline + 3, f"the first up took {elapsed:.1f} s for a {deadline} s deadline"
