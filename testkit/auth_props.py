"""Props of every Pachyderm auth provider, built one way for the direct and the host tests.

Each test module makes an :class:`AuthProps` with its own distinctive secrets (so a leak points at
the module) and asks it for the props of a provider; ``**extra`` overrides any key. The connector
config comes from the production builder, so the providers are tested with what the program sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components import dex, urls

PUBLIC_URL = urls.parse_public_url("http://192.168.49.2:30080")
ISSUER = urls.dex_issuer(PUBLIC_URL)
PACHD_REDIRECT = urls.pachd_redirect_uri(PUBLIC_URL)
OKTA_ISSUER = "https://dev-123456.okta.com"
OKTA_CLIENT_ID = "0oa1client"


@dataclass(frozen=True)
class AuthProps:
    """Factory of provider props against one pachd address, with one set of test secrets."""

    root_token: str
    license_key: str
    enterprise_secret: str
    pachd_secret: str
    okta_secret: str
    timeout_seconds: int

    def connection(self, address: str, token: str | None = None) -> dict[str, Any]:
        """The connection fields every provider takes (ints: the host turns them into floats)."""
        return {
            "pachd_address": address,
            "root_token": self.root_token if token is None else token,
            "call_timeout_seconds": self.timeout_seconds,
            "ready_timeout_seconds": self.timeout_seconds,
            "pachd_ca_cert": "",
        }

    def activation(self, address: str, *, legacy: bool = False, **extra: Any) -> dict[str, Any]:
        """AuthActivation; ``legacy`` adds the 2.11 license key and enterprise secret."""
        return {
            **self.connection(address),
            "license_key": self.license_key if legacy else "",
            "enterprise_secret": self.enterprise_secret if legacy else "",
            "deactivate_on_delete": False,
            **extra,
        }

    def identity(self, address: str, **extra: Any) -> dict[str, Any]:
        """IdentityServerConfig."""
        return {
            **self.connection(address),
            "issuer": ISSUER,
            "id_token_expiry": "24h",
            "rotation_token_expiry": "48h",
            **extra,
        }

    def okta_config(self, secret: str | None = None, **extra: Any) -> dict[str, Any]:
        """The Okta connector document, from the production builder."""
        return {
            **dex.okta_connector_config(
                issuer=OKTA_ISSUER,
                client_id=OKTA_CLIENT_ID,
                client_secret=self.okta_secret if secret is None else secret,
                redirect_uri=urls.dex_callback_uri(PUBLIC_URL),
                skip_email_verified=True,
                scopes=dex.okta_connector_scopes(groups=True),
            ),
            **extra,
        }

    def connector(self, address: str, **extra: Any) -> dict[str, Any]:
        """IdpConnector."""
        return {
            **self.connection(address),
            "connector_id": "okta",
            "name": "Okta",
            "type": "oidc",
            "config": self.okta_config(),
            **extra,
        }

    def client(self, address: str, **extra: Any) -> dict[str, Any]:
        """OidcClient for ``pachd``."""
        return {
            **self.connection(address),
            "client_id": dex.PACHD_CLIENT_ID,
            "name": dex.PACHD_CLIENT_ID,
            "secret": self.pachd_secret,
            "redirect_uris": [PACHD_REDIRECT],
            "trusted_peers": [dex.CONSOLE_CLIENT_ID],
            **extra,
        }

    def auth_config(self, address: str, **extra: Any) -> dict[str, Any]:
        """AuthConfig."""
        return {
            **self.connection(address),
            "issuer": ISSUER,
            "client_id": dex.PACHD_CLIENT_ID,
            "client_secret": self.pachd_secret,
            "redirect_uri": PACHD_REDIRECT,
            "scopes": list(dex.PACHD_OIDC_SCOPES),
            "localhost_issuer": True,
            "user_accessible_issuer_host": str(PUBLIC_URL),
            "require_email_verified": False,
            **extra,
        }

    def binding(
        self, address: str, principal: str = "group:admins", **extra: Any
    ) -> dict[str, Any]:
        """ClusterRoleBinding."""
        return {
            **self.connection(address),
            "principal": principal,
            "roles": ["clusterAdmin"],
            **extra,
        }
