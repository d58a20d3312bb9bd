"""A stand-in HTTP forward proxy on loopback that requires Basic proxy credentials.

It serves the two ways a client goes through an HTTP proxy (RFC 9110, CONNECT; RFC 9112, absolute
form): ``CONNECT host:port`` opens a tunnel (the ``kubernetes`` client's WebSocket streams, through
websocket-client), and ``GET http://host:port/path`` is forwarded (its REST requests, through
urllib3's ProxyManager). A request without the expected ``Proxy-Authorization`` gets 407.
:attr:`HttpProxyStandIn.seen` records each request line with whether its credentials were right.
"""

from __future__ import annotations

import base64
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from testkit.serving import Serving


class HttpProxyStandIn(Serving):
    """``with HttpProxyStandIn(user, password) as proxy:`` serves on 127.0.0.1."""

    def __init__(self, user: str, password: str) -> None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.expected = f"Basic {token}"
        self.seen: list[tuple[str, bool]] = []
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    def start(self) -> HttpProxyStandIn:
        """Serve on a free loopback port; returns self."""
        proxy = self

        class Handler(_Handler):
            stand_in = proxy

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()


class _Handler(BaseHTTPRequestHandler):
    stand_in: HttpProxyStandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read :attr:`HttpProxyStandIn.seen`."""

    def _allowed(self) -> bool:
        allowed = self.headers.get("Proxy-Authorization") == self.stand_in.expected
        self.stand_in.seen.append((f"{self.command} {self.path}", allowed))
        if not allowed:
            self.send_response(407, "Proxy Authentication Required")
            self.send_header("Proxy-Authenticate", 'Basic realm="stand-in"')
            self.send_header("Content-Length", "0")
            self.end_headers()
        return allowed

    def do_CONNECT(self) -> None:
        """Tunnel to ``host:port``."""
        if not self._allowed():
            return
        host, _, port = self.path.rpartition(":")
        upstream = socket.create_connection((host, int(port)), timeout=10)
        self.send_response(200, "Connection established")
        self.end_headers()
        self.close_connection = True
        _relay(self.connection, upstream)

    def do_GET(self) -> None:
        """Forward an absolute-form request, one per connection to the target."""
        if not self._allowed():
            return
        target = urlsplit(self.path)
        upstream = socket.create_connection((target.hostname, target.port or 80), timeout=10)
        path = target.path + (f"?{target.query}" if target.query else "")
        headers = "".join(
            f"{name}: {value}\r\n"
            for name, value in self.headers.items()
            if not name.lower().startswith("proxy-") and name.lower() != "connection"
        )
        upstream.sendall(f"GET {path} HTTP/1.1\r\n{headers}Connection: close\r\n\r\n".encode())
        self.close_connection = True
        _relay(self.connection, upstream)


def _relay(client: socket.socket, upstream: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""

    def copy(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    back = threading.Thread(target=copy, args=(upstream, client), daemon=True)
    back.start()
    copy(client, upstream)
    back.join(timeout=10)
    upstream.close()
