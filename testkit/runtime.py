"""Process-level hygiene for tests that run Pulumi programs: event loops and the pickler.

Two pieces of Pulumi's Python SDK leave state behind in the test process:

- ``pulumi.Output`` schedules tasks on the current event loop as soon as it is created, and
  Pulumi's MockMonitor opens a loop in each executor thread it runs on and never closes it;
- ``pulumi.dynamic.serialize_provider`` wraps ``pickle._Pickler._batch_setitems`` once more on
  every call and never restores it (only the ``pickle.Pickler`` name is restored), so after a few
  thousand dynamic resources in one process any pickle of a non-empty dict hits the recursion
  limit.

:func:`drained_event_loop` and :func:`pickler_restored` undo both; conftest applies them around
every test, and module-scoped fixtures and long loops (the fault matrix) use them directly.
"""

from __future__ import annotations

import asyncio
import gc
import pickle
import warnings
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def drained_event_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A fresh current event loop; on exit its pending tasks run to completion and it closes."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        with warnings.catch_warnings():
            # The executor threads' own loops (opened by MockMonitor) are not ours to close.
            warnings.simplefilter("ignore", ResourceWarning)
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()
            gc.collect()


@contextmanager
def pickler_restored() -> Iterator[None]:
    """Put back the ``pickle._Pickler`` methods ``serialize_provider`` wraps, on exit."""
    saved = {name: pickle._Pickler.__dict__[name] for name in ("_batch_setitems", "save_dict")}
    try:
        yield
    finally:
        for name, original in saved.items():
            setattr(pickle._Pickler, name, original)
