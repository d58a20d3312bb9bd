"""Time from pachd becoming ready to the activation resource's Create returning.

Each run uses a fresh fake pachd and sends the dev stack's ``AuthActivation`` Create through the
real dynamic provider host, so the provider's own ready-wait (capped exponential backoff in
``components/pachyderm_auth/pachd.py``) does the waiting. At ``t0``, just before Create is sent,
the fake is told to answer UNAVAILABLE for ``ready_after`` seconds, so it becomes ready at
``t0 + ready_after`` (an instant after, in fact, which only makes the figure conservative). The
latency is ``create_returned - (t0 + ready_after)``.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from testkit.dynamic_host import DynamicProviderHost
from testkit.fake_pachd import FakePachd
from testkit.offline_up import OfflineEngine, Plan

TARGET_SECONDS = 2.5


@dataclass(frozen=True)
class ReadyRun:
    """One measured activation."""

    ready_after: float
    latency: float
    """Seconds from pachd ready to Create returning."""
    attempts: int
    """GetVersion calls the provider made (failed ones included)."""


@dataclass(frozen=True)
class ReadySeries:
    """Runs with one readiness delay."""

    ready_after: float
    runs: tuple[ReadyRun, ...]

    @property
    def median(self) -> float:
        """Median latency."""
        return statistics.median(run.latency for run in self.runs)

    @property
    def max(self) -> float:
        """Worst latency."""
        return max(run.latency for run in self.runs)


def measure_once(host: DynamicProviderHost, plan: Plan, ready_after: float) -> ReadyRun:
    """Create the activation against a fresh fake that becomes ready ``ready_after`` s after t0."""
    registration = plan.one("AuthActivation")
    with FakePachd() as pachd:
        news = {**OfflineEngine.inputs(registration), "pachd_address": pachd.address}
        checked, failures = host.check(registration.urn, {}, news)
        assert failures == [], failures
        t0 = time.monotonic()
        pachd.delay_readiness(ready_after)
        host.create(registration.urn, checked)
        returned = time.monotonic()
        assert pachd.state.auth_active, "the activation's Create returned but auth is not active"
        attempts = pachd.calls.count("version.GetVersion")
    return ReadyRun(ready_after, returned - (t0 + ready_after), attempts)


def measure(host: DynamicProviderHost, plan: Plan, ready_after: float, runs: int) -> ReadySeries:
    """``runs`` activations, each against its own fake with the same readiness delay."""
    return ReadySeries(
        ready_after, tuple(measure_once(host, plan, ready_after) for _ in range(runs))
    )
