"""Every derived address, byte for byte.

Guards the login path: Dex compares issuers and redirect URIs byte-for-byte, so a trailing slash,
a default port spelled out, or a wrong scheme here breaks every Okta login (docs/decisions.md,
decisions 3 and 4).
"""

from __future__ import annotations

import re

import pytest

from components import urls


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://192.168.49.2:30080", urls.PublicUrl("http", "192.168.49.2", 30080)),
        ("https://Pachyderm.Example.com", urls.PublicUrl("https", "pachyderm.example.com")),
        ("https://pachyderm.example.com:443/", urls.PublicUrl("https", "pachyderm.example.com")),
        ("http://localhost", urls.PublicUrl("http", "localhost")),
        ("http://pachd.internal:8080", urls.PublicUrl("http", "pachd.internal", 8080)),
        ("http://mac.local", urls.PublicUrl("http", "mac.local")),
        ("http://[::1]:30080", urls.PublicUrl("http", "::1", 30080)),
        ("https://10.0.0.5:8443", urls.PublicUrl("https", "10.0.0.5", 8443)),
    ],
)
def test_public_url_is_parsed_to_its_canonical_form(text: str, expected: urls.PublicUrl) -> None:
    assert urls.parse_public_url(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pachyderm.example.com", "must be an absolute http:// or https:// URL"),
        ("ftp://pachyderm.example.com", "must be an absolute http:// or https:// URL"),
        ("https://", "has no host"),
        ("https://user:pw@pachyderm.example.com", "must not contain user info"),
        ("https://pachyderm.example.com/pachyderm", "must not have a path (got '/pachyderm')"),
        ("https://pachyderm.example.com?x=1", "must not have a query or fragment"),
        ("https://pachyderm.example.com#top", "must not have a query or fragment"),
        ("https://pachyderm.example.com:99999", "has an invalid port"),
        ("http://pachyderm.example.com", "must use https for the non-local host"),
        ("http://8.8.8.8:30080", "must use https for the non-local host '8.8.8.8'"),
    ],
)
def test_invalid_public_urls_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        urls.parse_public_url(text)


def test_addresses_derived_from_a_nodeport_url() -> None:
    url = urls.parse_public_url("http://192.168.49.2:30080")
    assert urls.dex_issuer(url) == "http://192.168.49.2:30080/dex"
    assert urls.dex_callback_uri(url) == "http://192.168.49.2:30080/dex/callback"
    assert urls.pachd_redirect_uri(url) == "http://192.168.49.2:30080/authorization-code/callback"
    assert urls.console_redirect_uri(url) == "http://192.168.49.2:30080/oauth/callback/?inline=true"
    assert urls.user_accessible_issuer_host(url) == "http://192.168.49.2:30080"
    assert urls.pachd_grpc_address(url) == "grpc://192.168.49.2:30080"
    assert url.netloc == "192.168.49.2:30080"
    assert url.effective_port == 30080


def test_addresses_derived_from_an_https_url_on_the_default_port() -> None:
    url = urls.parse_public_url("https://pachyderm.example.com")
    assert urls.dex_issuer(url) == "https://pachyderm.example.com/dex"
    assert urls.dex_callback_uri(url) == "https://pachyderm.example.com/dex/callback"
    assert urls.pachd_grpc_address(url) == "grpcs://pachyderm.example.com:443"
    assert url.netloc == "pachyderm.example.com"
    assert str(url) == "https://pachyderm.example.com"


def test_ipv6_hosts_are_bracketed_wherever_a_port_follows() -> None:
    url = urls.parse_public_url("http://[fd00::5]:30080")
    assert url.netloc == "[fd00::5]:30080"
    assert urls.pachd_grpc_address(url) == "grpc://[fd00::5]:30080"


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("192.168.1.1", True),
        ("fe80::1", True),
        ("build.internal", True),
        ("box.local", True),
        ("8.8.8.8", False),
        ("pachyderm.example.com", False),
        ("localhost.example.com", False),
    ],
)
def test_local_hosts(host: str, local: bool) -> None:
    assert urls.is_local_host(host) is local
