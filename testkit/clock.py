"""A clock for the ready-wait that moves only when slept on, so no test waits in real time."""

from __future__ import annotations


class FakeTime:
    """An injected ``clock``/``sleep`` pair; records each pause the ready-wait takes."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.pauses: list[float] = []

    def clock(self) -> float:
        """The current time: moved only by :meth:`sleep`."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Record the pause and move the clock by it, at once."""
        self.pauses.append(seconds)
        self.now += seconds
