"""A loopback TCP listener whose every connection is joined to a freshly opened far end.

gRPC dials the listener; :class:`Bridge` opens the far end (a port-forward stream) per accepted
connection, so a reconnect after the far side went away opens a new one. The first far end is
opened before listening, so a refusal surfaces to the caller instead of as a dropped connection.
Everything is closed on :meth:`Bridge.close`, which wakes every thread through one socket pair
(closing a socket does not wake a thread blocked on it).
"""

from __future__ import annotations

import selectors
import socket
import threading
from collections.abc import Callable
from contextlib import suppress
from typing import Any, Protocol

_CHUNK = 64 * 1024


class FarEnd(Protocol):
    """One opened far end: a connected socket, and how to close it with what carries it."""

    socket: socket.socket

    def close(self) -> None:
        """Close the socket and whatever carries it; never raises."""


class Bridge:
    """A loopback listener; each accepted connection is pumped through its own forward stream."""

    def __init__(
        self,
        connect: Callable[[], FarEnd],
        timeout: float,
        *,
        retried: tuple[type[BaseException], ...],
    ) -> None:
        """Listen once started; ``connect`` opens the far end per accepted connection.

        A failure of a kind in ``retried`` drops that one connection (the client sees its peer
        close and reconnects); ``timeout`` bounds how long closing waits for each thread.
        """
        self.connect = connect
        self.timeout = timeout
        self.retried = retried
        self.port = 0
        self._listener: socket.socket | None = None
        self._spare: FarEnd | None = None
        self._wake_read, self._wake_write = socket.socketpair()
        self._open: set[socket.socket | FarEnd] = set()
        self._threads: list[threading.Thread] = []
        self._guard = threading.Lock()
        self._closed = False

    def start(self) -> None:
        """Open the first far end now (so its failure surfaces here), then listen."""
        self._spare = self.connect()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._spawn(self._accept_loop, self._listener)

    def _spawn(self, run: Any, *args: Any) -> None:
        thread = threading.Thread(target=run, args=args, daemon=True, name="pachd-port-forward")
        with self._guard:
            self._threads.append(thread)
        thread.start()

    def _track(self, sock: socket.socket | FarEnd) -> bool:
        with self._guard:
            if self._closed:
                return False
            self._open.add(sock)
            return True

    def _accept_loop(self, listener: socket.socket) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(listener, selectors.EVENT_READ)
            selector.register(self._wake_read, selectors.EVENT_READ)
            while True:
                events = selector.select()
                if any(key.fileobj is self._wake_read for key, _ in events):
                    return
                try:
                    connection, _ = listener.accept()
                except OSError:
                    return
                if not self._track(connection):
                    connection.close()
                    return
                self._spawn(self._serve, connection)

    def _serve(self, connection: socket.socket) -> None:
        with self._guard:
            spare, self._spare = self._spare, None
        try:
            upstream = spare if spare is not None else self.connect()
        except self.retried:
            # gRPC sees the connection drop and reports UNAVAILABLE; the ready-wait retries with
            # a new forward, which resolves the pod again.
            self._discard(connection)
            return
        if not self._track(upstream):
            upstream.close()
            self._discard(connection)
            return
        try:
            _pump(connection, upstream.socket, self._wake_read)
        finally:
            # The far end first: what it reports on closing is known before the client sees EOF.
            self._discard(upstream)
            self._discard(connection)

    def _discard(self, sock: socket.socket | FarEnd) -> None:
        with self._guard:
            self._open.discard(sock)
        with suppress(OSError):
            sock.close()

    def close(self) -> None:
        """Stop listening and close every connection, both ends."""
        with self._guard:
            self._closed = True
            leftovers = list(self._open)
            self._open.clear()
        with suppress(OSError):
            self._wake_write.send(b"x")
        for thread in list(self._threads):
            thread.join(timeout=self.timeout)
        for sock in [*leftovers, self._spare, self._listener, self._wake_read, self._wake_write]:
            if sock is not None:
                with suppress(OSError):
                    sock.close()


def _pump(first: socket.socket, second: socket.socket, wake: socket.socket) -> None:
    """Copy bytes both ways until either side closes or ``wake`` is readable."""
    peer = {first: second, second: first}
    with selectors.DefaultSelector() as selector:
        selector.register(first, selectors.EVENT_READ)
        selector.register(second, selectors.EVENT_READ)
        selector.register(wake, selectors.EVENT_READ)
        while True:
            for key, _ in selector.select():
                if key.fileobj is wake:
                    return
                source: socket.socket = key.fileobj  # type: ignore[assignment]
                try:
                    data = source.recv(_CHUNK)
                    if not data:
                        return
                    peer[source].sendall(data)
                except OSError:
                    return
