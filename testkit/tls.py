"""A private CA and server certificates made at test time with the ``openssl`` command.

The venv has no ``cryptography``, so the certificates come from the ``openssl`` CLI, written into a
directory the test owns (``tmp_path``). Each :class:`TestCa` is a fresh self-signed CA; its
:meth:`TestCa.server` certificates carry the DNS and IP subject alternative names a TLS client
checks the address's host against.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Explicit config sections instead of the system openssl.cnf, whose defaults vary by distribution.
_CONFIG = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = {common_name}
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = {alt_names}
authorityKeyIdentifier = keyid
"""
_serials = itertools.count(1000)


@dataclass(frozen=True)
class ServerCertificate:
    """A server's certificate chain and its private key, PEM (``grpc.ssl_server_credentials``)."""

    certificate_chain: bytes
    private_key: bytes


def _openssl(*args: str) -> None:
    executable = shutil.which("openssl")
    if executable is None:
        raise RuntimeError("the openssl command is needed to make the test certificates")
    subprocess.run([executable, *args], check=True, capture_output=True)


def _write_config(directory: Path, name: str, common_name: str, alt_names: str) -> Path:
    path = directory / f"{name}.cnf"
    path.write_text(_CONFIG.format(common_name=common_name, alt_names=alt_names or "DNS:unused"))
    return path


class TestCa:
    """A self-signed CA in ``directory``: ``pem`` is what a client trusts."""

    __test__ = False  # not a pytest test class

    def __init__(self, directory: Path, name: str = "test-ca") -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._directory = directory
        self._name = name
        self._key = directory / f"{name}.key"
        self._cert = directory / f"{name}.pem"
        config = _write_config(directory, name, f"pachyderm-okta {name}", "")
        _openssl(
            "req", "-x509", "-new", "-config", str(config), "-extensions", "ca",
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", str(self._key), "-out", str(self._cert), "-days", "2",
        )  # fmt: skip
        self.pem = self._cert.read_text()

    def server(
        self, dns_names: tuple[str, ...] = ("localhost",), ips: tuple[str, ...] = ("127.0.0.1",)
    ) -> ServerCertificate:
        """A server certificate this CA signs, naming ``dns_names`` and ``ips``."""
        name = f"{self._name}-server-{next(_serials)}"
        alt_names = ", ".join([*(f"DNS:{d}" for d in dns_names), *(f"IP:{i}" for i in ips)])
        common_name = dns_names[0] if dns_names else ips[0]
        config = _write_config(self._directory, name, common_name, alt_names)
        key, request, cert = (self._directory / f"{name}.{ext}" for ext in ("key", "csr", "pem"))
        _openssl(
            "req", "-new", "-config", str(config),
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", str(key), "-out", str(request),
        )  # fmt: skip
        _openssl(
            "x509", "-req", "-in", str(request), "-CA", str(self._cert), "-CAkey", str(self._key),
            "-set_serial", str(next(_serials)), "-days", "2",
            "-extfile", str(config), "-extensions", "server", "-out", str(cert),
        )  # fmt: skip
        return ServerCertificate(certificate_chain=cert.read_bytes(), private_key=key.read_bytes())
