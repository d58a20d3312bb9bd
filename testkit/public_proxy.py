"""The chart's proxy, for what a login needs: ``publicUrl`` on loopback, routed to pachd's ports.

In a cluster the chart's Envoy proxy serves ``publicUrl`` and routes by path: ``/dex`` to pachd's
Dex (port 1658) and ``/authorization-code/callback`` to pachd's OIDC port (1657), gRPC by content
type (the chart's ``templates/proxy/envoy.json``). A browser signing in only ever reaches those two
paths, so this HTTP reverse proxy routes them, passing requests and answers through unchanged
(redirects included: the browser follows them, not the proxy). Everything else is 404.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from testkit.serving import Serving

CALL_TIMEOUT_SECONDS = 30.0
# Hop-by-hop headers (RFC 9110) a proxy does not pass on.
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "upgrade", "te"})


class PublicProxy(Serving):
    """``with PublicProxy({"/dex": dex_port, ...}) as proxy:`` serves ``proxy.url``."""

    def __init__(self, routes: Mapping[str, int]) -> None:
        self.routes = dict(routes)
        """Path prefix to the loopback port it is served by."""
        self.requests: list[str] = []
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """The public URL (what a stack's ``publicUrl`` is)."""
        return f"http://127.0.0.1:{self.port}"

    def target(self, path: str) -> int | None:
        """The port serving ``path``, by its longest matching prefix."""
        matches = [p for p in self.routes if path == p or path.startswith((f"{p}/", f"{p}?"))]
        return self.routes[max(matches, key=len)] if matches else None

    def start(self) -> PublicProxy:
        """Serve on a free loopback port; returns self."""
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests read ``requests``."""

            def _forward(self) -> None:
                proxy.requests.append(f"{self.command} {self.path}")
                port = proxy.target(self.path)
                if port is None:
                    self._answer(404, [], b"404 page not found\n")
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                upstream = http.client.HTTPConnection(
                    "127.0.0.1", port, timeout=CALL_TIMEOUT_SECONDS
                )
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    content = answer.read()
                    # A list, not a dict: an answer may set several cookies.
                    passed = [
                        (k, v)
                        for k, v in answer.getheaders()
                        if k.lower() not in _HOP_BY_HOP | {"content-length"}
                    ]
                    self._answer(answer.status, passed, content)
                finally:
                    upstream.close()

            def _answer(self, status: int, headers: list[tuple[str, str]], content: bytes) -> None:
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def do_GET(self) -> None:
                self._forward()

            def do_POST(self) -> None:
                self._forward()

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
