"""Shared fixtures: a recording Pulumi mocks run, and stack config fed through Pulumi's own channel.

Guards against tests that pass without looking: the mocks record every registration and fail on
undeclared invokes (``tests/harness/mocks.py``), and every test gets a fresh event loop that is
drained and closed, so pending Pulumi outputs neither leak between tests nor go unawaited.
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import Iterator

import pytest

from tests.harness.mocks import (
    PROJECT,
    STACK,
    MockRun,
    RecordingMocks,
    RecordingMonitor,
    Registration,
    is_secret,
    set_stack_config,
    start_mock_run,
    unwrap,
)

__all__ = [
    "PROJECT",
    "STACK",
    "MockRun",
    "RecordingMocks",
    "RecordingMonitor",
    "Registration",
    "is_secret",
    "set_stack_config",
    "unwrap",
]


@pytest.fixture(autouse=True)
def event_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A fresh event loop per test, drained and closed at the end.

    ``pulumi.Output`` schedules tasks on the current loop as soon as it is created (settings hold
    secret Outputs): a test that never runs the Pulumi runtime would leave them pending, so they
    are run to completion here. Pulumi's MockMonitor also opens a loop in each executor thread
    (``_ensure_event_loop``) and never closes it; joining the executor and collecting here keeps
    those from surfacing as ResourceWarnings (errors under ``filterwarnings``) in a later test.
    """
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
        gc.collect()


@pytest.fixture
def mock_run(event_loop: asyncio.AbstractEventLoop) -> Iterator[MockRun]:
    """A fresh recording mocks runtime for project ``pachyderm-okta``, stack ``dev``."""
    yield start_mock_run()
    set_stack_config({}, [])
