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

The ``gc.collect()`` that closes the executor threads' loops scans every object the garbage
collector tracks: with Pulumi, its providers' SDKs and pydantic imported that is well over 100,000
objects, about 0.1 s a test. :func:`freeze_survivors` (conftest calls it before each test module)
moves what is alive between modules - imported modules, collected tests, pytest's reports - out of
the collector's sight, so each collection scans only what the current module made.
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


def freeze_survivors() -> None:
    """Collect the garbage there is, then exempt every surviving object from later collections.

    What survives is nearly all alive to the end of the run. An object that is frozen and later
    becomes cyclic garbage is never collected: a bounded leak in a test process. Its finalizer
    never runs either, which is why this is only called between modules, when no test's objects
    or module-scoped fixture values are left (``gc.unfreeze`` undoes it).
    """
    with warnings.catch_warnings():
        # As in drained_event_loop: the executor threads' loops are not ours to close.
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    gc.freeze()


@contextmanager
def pickler_restored() -> Iterator[None]:
    """Put back the ``pickle._Pickler`` methods ``serialize_provider`` wraps, on exit."""
    saved = {name: pickle._Pickler.__dict__[name] for name in ("_batch_setitems", "save_dict")}
    try:
        yield
    finally:
        for name, original in saved.items():
            setattr(pickle._Pickler, name, original)
