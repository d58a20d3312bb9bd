"""An issuer that answers OIDC discovery on loopback, for pachd's Dex to open our connector against.

pachd validates every connector it stores by opening it (pachyderm ``src/server/identity/server/
dex_api.go``, ``validateConnector``), and the Dex fork's OIDC connector opens by discovery:
``oidc.NewProvider`` fetches ``<issuer>/.well-known/openid-configuration`` and refuses a document
whose ``issuer`` is not the issuer byte for byte (``connector/oidc/oidc.go``, ``Config.Open``).
So the real pachd accepts a connector only while its issuer answers. This serves the discovery
document for Okta's org server (``/.well-known/openid-configuration``) and for custom servers
(``/oauth2/<id>/.well-known/openid-configuration``), with Okta's endpoint paths; nobody signs in
here (the endpoints it names answer 404).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

DISCOVERY = "/.well-known/openid-configuration"


def discovery_document(issuer: str, api_base: str) -> dict[str, Any]:
    """Okta's discovery fields that go-oidc reads, for ``issuer`` with endpoints under ``api_base``.

    ``api_base`` is ``<org>/oauth2/v1`` for the org server, ``<org>/oauth2/<id>/v1`` for a custom
    one (Okta's OpenID Connect API reference).
    """
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{api_base}/authorize",
        "token_endpoint": f"{api_base}/token",
        "userinfo_endpoint": f"{api_base}/userinfo",
        "jwks_uri": f"{api_base}/keys",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "profile", "email", "groups", "offline_access"],
    }


class DiscoveryIssuer:
    """``with DiscoveryIssuer() as issuer:`` serves discovery at ``issuer.url`` (http, loopback)."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """The org server's issuer (Okta's org URL); custom servers are ``<url>/oauth2/<id>``."""
        return f"http://127.0.0.1:{self.port}"

    def document(self, path: str) -> dict[str, Any] | None:
        """The discovery document served at ``path``, or None."""
        if path == DISCOVERY:
            return discovery_document(self.url, f"{self.url}/oauth2/v1")
        parts = path.strip("/").split("/")
        if len(parts) == 4 and parts[0] == "oauth2" and "/" + "/".join(parts[2:]) == DISCOVERY:
            issuer = f"{self.url}/oauth2/{parts[1]}"
            return discovery_document(issuer, f"{issuer}/v1")
        return None

    def start(self) -> DiscoveryIssuer:
        """Serve on a free loopback port; returns self."""
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests read ``requests``."""

            def do_GET(self) -> None:
                issuer.requests.append(self.path)
                document = issuer.document(self.path.split("?", 1)[0])
                body = json.dumps(document or {"errorCode": "E0000022"}).encode()
                self.send_response(200 if document else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

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

    def __enter__(self) -> DiscoveryIssuer:
        """Start serving."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop serving."""
        self.stop()
