"""Shared fixtures: a recording Pulumi mocks run, and stack config fed through Pulumi's own channel.

Guards against tests that pass without looking: the mocks record every registration and fail on
undeclared invokes (``testkit/mocks.py``), and every test gets a fresh event loop that is
drained and closed, so pending Pulumi outputs neither leak between tests nor go unawaited.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from testkit.mocks import (
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
from testkit.runtime import drained_event_loop, pickler_restored

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
