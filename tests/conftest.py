"""Shared fixtures: a recording Pulumi mocks run, dynamic provider hosts, a fresh fake pachd.

Guards against tests that pass without looking: the mocks record every registration and fail on
undeclared invokes (``testkit/mocks.py``), and every test gets a fresh event loop that is
drained and closed, so pending Pulumi outputs neither leak between tests nor go unawaited.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from testkit.dynamic_host import DynamicProviderHost
from testkit.fake_pachd import FakePachd
from testkit.mocks import MockRun, set_stack_config, start_mock_run
from testkit.offline_up import HostPool
from testkit.runtime import drained_event_loop, freeze_survivors, pickler_restored
from testkit.stacks import ROOT

_frozen_before: list[str] = []


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before a module's first test (and its fixtures): freeze what earlier modules left alive.

    Keeps each test's ``gc.collect()`` (``drained_event_loop``) to the objects its own module
    made; see ``testkit/runtime.py``.
    """
    module = item.nodeid.split("::", 1)[0]
    if _frozen_before[-1:] != [module]:
        freeze_survivors()
        _frozen_before[:] = [module]


@pytest.fixture(autouse=True)
def event_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A fresh event loop per test, drained and closed at the end (testkit/runtime.py)."""
    with drained_event_loop() as loop:
        yield loop


@pytest.fixture(autouse=True)
def _restore_pickler() -> Iterator[None]:
    """Undo what ``serialize_provider`` does to ``pickle._Pickler`` (testkit/runtime.py)."""
    with pickler_restored():
        yield


@pytest.fixture
def mock_run(event_loop: asyncio.AbstractEventLoop) -> Iterator[MockRun]:
    """A fresh recording mocks runtime for project ``pachyderm-okta``, stack ``dev``."""
    yield start_mock_run()
    set_stack_config({}, [])


@pytest.fixture(scope="module")
def host() -> Iterator[DynamicProviderHost]:
    """Pulumi's real dynamic provider host, started in the project root, once per test module.

    Modules that need another configuration define their own ``host``.
    """
    with DynamicProviderHost(cwd=ROOT) as started:
        started.configure()
        yield started


@pytest.fixture(scope="module")
def hosts() -> Iterator[HostPool]:
    """Real dynamic provider hosts, one per stack config (``testkit/offline_up.py``), per module."""
    with HostPool() as pool:
        yield pool


@pytest.fixture
def pachd() -> Iterator[FakePachd]:
    """A fresh fake pachd 2.12.2 on loopback; modules that need a prepared one define their own."""
    with FakePachd() as fake:
        yield fake


@pytest.fixture
def fake(pachd: FakePachd) -> FakePachd:
    """The same fresh fake pachd, under the name the provider tests give it."""
    return pachd
