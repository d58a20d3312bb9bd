"""Every address the program uses, derived by pure functions from one public URL.

They must be byte-identical to the chart's own copies (docs/decisions.md, decision 3).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

Scheme = Literal["http", "https"]

_DEFAULT_PORTS: dict[str, int] = {"http": 80, "https": 443}
# Hosts that never leave a developer's machine or a private network: plain http is tolerable there.
_LOCAL_SUFFIXES = (".local", ".internal", ".localhost")


@dataclass(frozen=True)
class PublicUrl:
    """A validated, canonical public URL: scheme, lower-case host and an explicit port if any.

    ``port`` is ``None`` when the URL uses the scheme's default port, so that ``str(url)`` is the
    canonical spelling (``https://pachyderm.example.com``, never ``...:443``).
    """

    scheme: Scheme
    host: str
    port: int | None = None

    @property
    def netloc(self) -> str:
        """``host[:port]``, IPv6 hosts in brackets: the value the chart's ``proxy.host`` takes."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"

    @property
    def effective_port(self) -> int:
        """The TCP port browsers and ``pachctl`` connect to."""
        return self.port if self.port is not None else _DEFAULT_PORTS[self.scheme]

    def __str__(self) -> str:
        return f"{self.scheme}://{self.netloc}"


def parse_public_url(value: str) -> PublicUrl:
    """Parse and canonicalise ``publicUrl``; raise ``ValueError`` saying what is wrong.

    Rules: absolute http(s) URL with a host, no user info, no path (a lone ``/`` is tolerated and
    dropped), no query, no fragment; https unless the host is local or private (see
    :func:`is_local_host`), because the Okta client secret and every Pachyderm token cross it.
    """
    parts = urlsplit(value.strip())
    if parts.scheme not in _DEFAULT_PORTS:
        raise ValueError(
            "must be an absolute http:// or https:// URL, e.g. https://pachyderm.example.com"
        )
    if not parts.hostname:
        raise ValueError("has no host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not contain user info")
    if parts.path not in ("", "/"):
        raise ValueError(
            f"must not have a path (got {parts.path!r}): Pachyderm's proxy serves Dex at /dex and "
            "the console at / of this origin"
        )
    if parts.query or parts.fragment:
        raise ValueError("must not have a query or fragment")
    try:
        port = parts.port
    except ValueError as error:
        raise ValueError("has an invalid port") from error
    scheme: Scheme = "https" if parts.scheme == "https" else "http"
    host = parts.hostname.lower()
    if scheme == "http" and not is_local_host(host):
        raise ValueError(
            f"must use https for the non-local host {host!r}: Okta sends authorization codes to "
            "<publicUrl>/dex/callback and pachctl sends tokens to it (http is allowed only for "
            "localhost, loopback or private addresses and .local/.internal names)"
        )
    if port == _DEFAULT_PORTS[scheme]:
        port = None
    return PublicUrl(scheme=scheme, host=host, port=port)


def is_local_host(host: str) -> bool:
    """True for localhost, loopback, private or link-local addresses and .local/.internal names."""
    host = host.lower().strip("[]")
    if host == "localhost" or host.endswith(_LOCAL_SUFFIXES):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def dex_issuer(public_url: PublicUrl) -> str:
    """Identity server issuer == auth config issuer: ``<publicUrl>/dex``, byte-identical."""
    return f"{public_url}/dex"


def dex_callback_uri(public_url: PublicUrl) -> str:
    """Okta app sign-in redirect URI == Dex connector ``redirectURI`` == ``<issuer>/callback``."""
    return f"{dex_issuer(public_url)}/callback"


def pachd_redirect_uri(public_url: PublicUrl) -> str:
    """Redirect URI of Dex's ``pachd`` client: the proxy routes it to pachd's OIDC port."""
    return f"{public_url}/authorization-code/callback"


def console_redirect_uri(public_url: PublicUrl) -> str:
    """Redirect URI of Dex's ``console`` client, as the chart's ``consoleRedirectURI`` helper."""
    return f"{public_url}/oauth/callback/?inline=true"


def user_accessible_issuer_host(public_url: PublicUrl) -> str:
    """Scheme and host pachd swaps into login URLs so that browsers can reach Dex."""
    return str(public_url)


def pachd_grpc_address(public_url: PublicUrl) -> str:
    """gRPC address of pachd through the proxy, as ``pachctl connect`` and pachyderm_sdk take it."""
    scheme = "grpcs" if public_url.scheme == "https" else "grpc"
    host = f"[{public_url.host}]" if ":" in public_url.host else public_url.host
    return f"{scheme}://{host}:{public_url.effective_port}"


def pachd_address_uses_tls(address: str) -> bool:
    """Whether a pachd address asks for TLS: ``grpcs://`` or ``https://`` (as pachyderm_sdk)."""
    return address.strip().lower().startswith(("grpcs://", "https://"))
