"""The benchmark's deterministic figures as tests: pachd calls per phase (no timings).

Uses the bench's own functions (``testkit.call_counts``), so ``python -m bench`` and this test
count the same calls: a no-op ``up`` makes no pachd call, an Okta secret rotation reads the
connector and updates it, and the first ``up`` writes at most 1.25x what the manual procedure
writes and reads only pachd's readiness and, once per binding, what the principal held.
"""

from __future__ import annotations

import pytest

from testkit.call_counts import (
    FIRST_UP_MAX_RATIO,
    ROTATION_CALLS,
    Calls,
    Lifecycle,
    measure_lifecycle,
    measure_manual,
    provider_host,
)
from testkit.runtime import drained_event_loop


@pytest.fixture(scope="module")
def measured() -> tuple[Lifecycle, Calls]:
    """One measurement for the module, on its own event loop.

    Module-scoped fixtures are set up before the per-test loop of conftest's ``event_loop``, when
    the current loop may be a previous test's, already closed; the mocks runs need a live one.
    """
    with drained_event_loop(), provider_host() as host:
        lifecycle = measure_lifecycle(host)
        manual = measure_manual(lifecycle)
    return lifecycle, manual


@pytest.fixture
def lifecycle(measured: tuple[Lifecycle, Calls]) -> Lifecycle:
    return measured[0]


@pytest.fixture
def manual(measured: tuple[Lifecycle, Calls]) -> Calls:
    return measured[1]


def test_noop_up_calls_pachd_zero_times(lifecycle: Lifecycle) -> None:
    assert lifecycle.noop_up.calls == ()


def test_rotation_reads_then_updates_the_connector_only(lifecycle: Lifecycle) -> None:
    assert list(lifecycle.rotation.calls) == [
        "identity.GetIDPConnector",
        "identity.UpdateIDPConnector",
    ]
    assert lifecycle.rotation.calls == ROTATION_CALLS


def test_manual_replay_is_what_pachctl_sends(manual: Calls) -> None:
    assert list(manual.calls) == [
        "auth.Activate",
        "pfs.ActivateAuth",
        "pps.ActivateAuth",
        "identity.SetIdentityServerConfig",
        "identity.CreateOIDCClient",
        "auth.SetConfiguration",
        "identity.CreateIDPConnector",
        # one `pachctl auth set cluster` per principal of the dev stack
        "auth.ModifyRoleBinding",
        "auth.ModifyRoleBinding",
    ]


def test_first_up_writes_within_ratio_of_manual(lifecycle: Lifecycle, manual: Calls) -> None:
    first = lifecycle.first_up
    assert len(first.writes) <= FIRST_UP_MAX_RATIO * len(manual.writes), (
        f"first up made {len(first.writes)} pachd writes, manual {len(manual.writes)}: "
        f"{first.calls}"
    )


def test_first_up_reads_only_readiness_and_what_each_principal_held(
    lifecycle: Lifecycle, manual: Calls
) -> None:
    # The manual procedure overwrites each principal's roles; a stack binding reads them first,
    # to give them back when it goes (the dev stack binds two principals).
    bindings = manual.calls.count("auth.ModifyRoleBinding")
    assert bindings == 2
    assert lifecycle.first_up.reads == ("version.GetVersion", *["auth.GetRoleBinding"] * bindings)


def test_reads_and_writes_partition_every_phase(lifecycle: Lifecycle) -> None:
    for _label, calls in lifecycle.phases():
        assert len(calls.reads) + len(calls.writes) == calls.total
