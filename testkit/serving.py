"""What every server the tests run shares: ``with Server() as server:`` starts it, and stops it."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Serving:
    """A server with ``start()`` (returning itself) and ``stop()``; a context manager of both.

    ``stop()`` runs whatever happened in the ``with`` body, and must be safe to call twice.
    """

    def start(self) -> Self:
        """Start serving; returns self."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop serving and release what was started."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        """Start serving."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop serving, whatever happened."""
        self.stop()
