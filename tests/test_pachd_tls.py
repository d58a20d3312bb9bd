"""pachd over TLS whose certificate an in-house CA signs: ``pachyderm-okta:pachdCaCert``.

Regressions guarded: pachyderm_sdk trusts only certifi's public CAs unless it is given root
certificates, so a ``grpcs://`` pachd behind a private CA was unreachable; the CA must reach
every client the providers open, including ``read``/``delete`` after a "no change" diff (they
get the old outputs, so the CA comes from the stack config); a missing or wrong CA must fail at
once, naming the key, not after the ten-minute ready-wait; the certificate is checked against
the address's host; a CA never turns TLS on for a plaintext address; a bad CA value is refused
before anything is created. The server is a real TLS gRPC server on loopback (the fake pachd)
with a certificate the test's own CA signs (``testkit/tls.py``).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components.pachyderm_auth.activation import ActivationProvider
from components.pachyderm_auth.pachd import (
    Connection,
    PachdError,
    PachdUnavailableError,
    pachd_client,
    wait_until_ready,
)
from components.settings import load_settings
from testkit.auth_props import AuthProps
from testkit.clock import FakeTime
from testkit.dynamic_host import DiffKind, HostError
from testkit.fake_pachd import FakePachd
from testkit.offline_up import HostPool, OfflineEngine, dev_stack, plan_program
from testkit.stacks import config_problems, config_source, dev_auth
from testkit.tls import ServerCertificate, TestCa

P = "pachyderm-okta"
PROPS = AuthProps(
    root_token="test-root-token-tls-0001",
    license_key="test-license-key-tls-0002",
    enterprise_secret="test-enterprise-secret-tls-0003",
    pachd_secret="test-pachd-secret-tls-0004",
    okta_secret="test-okta-secret-tls-0005",
    timeout_seconds=5,
)
SEQUENCE_2_12 = ["version.GetVersion", "auth.Activate", "pfs.ActivateAuth", "pps.ActivateAuth"]

UNTRUSTED = (
    " - pachd's TLS certificate is not signed by a CA this deployer trusts: set "
    "pachyderm-okta:pachdCaCert to the PEM of the CA that signs it (`pulumi config set "
    "pachyderm-okta:pachdCaCert < ca.pem`), or check that the CA set there is that one"
)
WRONG_HOST = (
    " - pachd's TLS certificate does not name the host localhost: reach pachd at a name the "
    "certificate holds (pachyderm-okta:pachdAddress)"
)
NOT_TLS = (
    " - the server does not answer TLS at this address: use grpc:// (pachyderm-okta:pachdAddress)"
)


@pytest.fixture(scope="module")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tls")


@pytest.fixture(scope="module")
def ca(tls_dir: Path) -> TestCa:
    return TestCa(tls_dir, "stack-ca")


@pytest.fixture(scope="module")
def other_ca(tls_dir: Path) -> TestCa:
    return TestCa(tls_dir, "other-ca")


@pytest.fixture(scope="module")
def localhost_cert(ca: TestCa) -> ServerCertificate:
    return ca.server(dns_names=("localhost",), ips=("127.0.0.1",))


@pytest.fixture
def tls_pachd(localhost_cert: ServerCertificate) -> Iterator[FakePachd]:
    with FakePachd(tls=localhost_cert) as fake:
        yield fake


def _connection(address: str, ca_pem: str, ready_timeout_seconds: float = 5) -> Connection:
    return Connection.model_validate(
        {
            **PROPS.connection(address),
            "pachd_ca_cert": ca_pem,
            "ready_timeout_seconds": ready_timeout_seconds,
        }
    )


# --- the provider against a real TLS server ------------------------------------------------------


def test_activation_and_whoami_over_tls_trust_the_stack_ca(
    tls_pachd: FakePachd, ca: TestCa
) -> None:
    assert tls_pachd.address == f"grpcs://localhost:{tls_pachd.port}"

    result = ActivationProvider().create(PROPS.activation(tls_pachd.address, pachd_ca_cert=ca.pem))

    assert tls_pachd.calls == SEQUENCE_2_12
    assert tls_pachd.state.tokens == {PROPS.root_token: "pach:root"}
    assert (result.outs or {})["pachd_ca_cert"] == ca.pem
    with pachd_client(_connection(tls_pachd.address, ca.pem)) as client:
        assert client.auth.who_am_i().username == "pach:root"


def test_the_certificate_is_checked_against_the_address_host(
    localhost_cert: ServerCertificate, ca: TestCa
) -> None:
    # The same certificate names 127.0.0.1 as an IP address: that address works too.
    with FakePachd(tls=localhost_cert) as fake:
        by_ip = _connection(f"grpcs://127.0.0.1:{fake.port}", ca.pem)
        assert wait_until_ready(by_ip) == (2, 12, 2)


def test_every_ca_of_a_bundle_is_trusted(ca: TestCa, other_ca: TestCa) -> None:
    bundle = f"{ca.pem}text between blocks, as openssl pkcs12 writes it\n{other_ca.pem}"
    with FakePachd(tls=other_ca.server()) as fake:
        assert wait_until_ready(_connection(fake.address, bundle.strip())) == (2, 12, 2)


@pytest.mark.parametrize(
    ("server", "client_ca", "hint"),
    [
        ("localhost", "none", UNTRUSTED),
        ("localhost", "other", UNTRUSTED),
        ("pachd.example.com", "stack", WRONG_HOST),
        ("plaintext", "stack", NOT_TLS),
    ],
    ids=["no-ca", "another-ca", "host-not-in-certificate", "tls-to-a-plaintext-server"],
)
def test_a_failed_handshake_fails_at_once_saying_what_to_change(
    ca: TestCa, other_ca: TestCa, server: str, client_ca: str, hint: str
) -> None:
    certificate = {
        "localhost": lambda: ca.server(),
        "pachd.example.com": lambda: ca.server(dns_names=("pachd.example.com",), ips=()),
        "plaintext": lambda: None,
    }[server]()
    trusted = {"none": "", "other": other_ca.pem, "stack": ca.pem}[client_ca]
    time = FakeTime()
    with FakePachd(tls=certificate) as fake:
        address = f"grpcs://localhost:{fake.port}"
        with pytest.raises(PachdError) as raised:
            # The ten-minute default deadline: a retried TLS failure would pause many times.
            wait_until_ready(
                _connection(address, trusted, ready_timeout_seconds=600),
                sleep=time.sleep,
                clock=time.clock,
            )

        message = str(raised.value)
        assert not isinstance(raised.value, PachdUnavailableError)
        assert message.startswith(f"version GetVersion failed at {address}: UNAVAILABLE: ")
        assert message.endswith(hint)
        assert PROPS.root_token not in message
        assert time.pauses == []
        # The handshake failed: no RPC reached the server.
        assert fake.calls == []


def test_without_the_ca_activation_fails_naming_the_key(tls_pachd: FakePachd) -> None:
    with pytest.raises(PachdError) as raised:
        ActivationProvider().create(PROPS.activation(tls_pachd.address))

    message = str(raised.value)
    assert "CERTIFICATE_VERIFY_FAILED" in message
    assert message.endswith(UNTRUSTED)
    assert PROPS.root_token not in message
    assert tls_pachd.calls == []
    assert not tls_pachd.state.auth_active


def test_a_ca_never_turns_tls_on_for_a_plaintext_address(pachd: FakePachd, ca: TestCa) -> None:
    # pachyderm_sdk would switch to TLS whenever it gets root certificates; the settings refuse
    # the pair, and the client never builds it.
    connection = _connection(pachd.address, ca.pem)
    assert connection.root_certificates is None

    assert wait_until_ready(connection) == (2, 12, 2)


# --- the whole program, through the real dynamic-provider host -----------------------------------


def test_up_over_tls_then_a_new_ca_and_address_cost_pachd_nothing(
    hosts: HostPool, tls_pachd: FakePachd, ca: TestCa, other_ca: TestCa
) -> None:
    engine = OfflineEngine(hosts)
    engine.up(plan_program(dev_stack(tls_pachd.address, pachyderm_okta__pachdCaCert=ca.pem)))
    assert tls_pachd.state.auth_active
    assert set(tls_pachd.state.connectors) == {"okta"}
    assert {outputs["pachd_ca_cert"] for outputs in engine.state.values()} == {ca.pem.strip()}

    # pachd's certificate is reissued by another CA (and served elsewhere): the stack config
    # names the new CA and address; the stored outputs keep the old ones.
    with FakePachd(tls=other_ca.server()) as moved:
        moved.state = tls_pachd.state
        tls_pachd.stop()
        new_stack = dev_stack(moved.address, pachyderm_okta__pachdCaCert=other_ca.pem)

        preview = engine.preview(plan_program(new_stack))
        assert set(preview.values()) == {DiffKind.NONE}
        assert engine.up(plan_program(new_stack)).changed == []
        assert moved.calls == []

        # read and delete get only the old outputs: they reach pachd with the configured CA.
        live = engine.refresh()
        assert all(outputs is not None for outputs in live.values())
        assert {outputs["pachd_ca_cert"] for outputs in live.values() if outputs} == {
            other_ca.pem.strip()
        }
        engine.destroy()
        assert moved.state.connectors == {}
        assert moved.state.oidc_clients == {}


def test_up_without_the_ca_fails_before_pachd_is_touched(
    hosts: HostPool, tls_pachd: FakePachd
) -> None:
    # A short ready-wait: should a TLS failure ever be retried, the message loses its hint.
    stack = dev_stack(tls_pachd.address, pachyderm_okta__auth=dev_auth(pachdReadyTimeoutSeconds=3))

    with pytest.raises(HostError) as raised:
        OfflineEngine(hosts).up(plan_program(stack))

    assert "CERTIFICATE_VERIFY_FAILED" in raised.value.details
    assert UNTRUSTED.strip(" -") in raised.value.details
    assert tls_pachd.calls == []


# --- the setting ---------------------------------------------------------------------------------


def _pem_blocks(label: str, body: str) -> str:
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


def test_a_ca_loads_with_a_tls_address(ca: TestCa, other_ca: TestCa) -> None:
    bundle = ca.pem + "a comment between blocks is ignored, as by OpenSSL\n" + other_ca.pem
    explicit = config_source(
        **{f"{P}:pachdAddress": "grpcs://pachd.example.com:30651", f"{P}:pachdCaCert": bundle}
    )
    derived = config_source(
        **{
            f"{P}:publicUrl": "https://pachyderm.example.com",
            f"{P}:pachyderm": {"serviceType": "LoadBalancer"},
            f"{P}:pachdCaCert": ca.pem,
        }
    )

    assert load_settings(lambda: explicit).project.pachd_ca_cert == bundle.strip()
    assert load_settings(lambda: derived).project.pachd_ca_cert == ca.pem.strip()


def _bad_values(ca: TestCa) -> dict[str, tuple[str, str]]:
    body = "".join(ca.pem.splitlines()[1:-1])
    # Valid base64 of a DER structure cut short.
    corrupted = _pem_blocks("CERTIFICATE", body[:-16])
    not_pem = (
        "must be the PEM text of the CA certificate(s) that sign pachd's TLS certificate "
        "(-----BEGIN CERTIFICATE-----...), not a file path: "
        "`pulumi config set pachyderm-okta:pachdCaCert < ca.pem`"
    )
    return {
        "a file path": ("/etc/ssl/private-ca.pem", not_pem),
        "free text": ("our corporate CA", not_pem),
        "base64 of the PEM (pachctl's server_cas)": (
            base64.b64encode(ca.pem.encode()).decode(),
            "is base64-encoded (the form of pachctl's server_cas): decode it with `base64 -d` "
            "and give the PEM text",
        ),
        "a certificate with its private key": (
            ca.pem + _pem_blocks("PRIVATE KEY", "test-private-key-body-tls-0006"),
            "holds a private key, which is a secret: give only the CA certificate(s), and "
            "replace that key if the stack file stored it",
        ),
        "a certificate request": (
            _pem_blocks("CERTIFICATE REQUEST", body),
            "holds a CERTIFICATE REQUEST block: give only CERTIFICATE blocks, the CA(s) to trust",
        ),
        "a corrupted certificate": (
            corrupted,
            "certificate 1 of 1 is not a readable X.509 certificate",
        ),
        "a good and a corrupted certificate": (
            ca.pem + corrupted,
            "certificate 2 of 2 is not a readable X.509 certificate",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "a file path",
        "free text",
        "base64 of the PEM (pachctl's server_cas)",
        "a certificate with its private key",
        "a certificate request",
        "a corrupted certificate",
        "a good and a corrupted certificate",
    ],
)
def test_a_bad_ca_is_refused_by_its_key_before_anything_is_created(ca: TestCa, case: str) -> None:
    value, message = _bad_values(ca)[case]
    stack = config_source(
        **{f"{P}:pachdAddress": "grpcs://pachd.example.com:30651", f"{P}:pachdCaCert": value}
    )

    found = config_problems(stack)

    assert found == [(f"{P}:pachdCaCert", message)]
    assert "test-private-key-body" not in message


@pytest.mark.parametrize(
    ("changes", "address", "source"),
    [
        (
            {f"{P}:pachdAddress": "grpc://pachd.example.com:30650"},
            "grpc://pachd.example.com:30650",
            f"{P}:pachdAddress",
        ),
        (
            {f"{P}:publicUrl": "http://192.168.49.2:30080"},
            "grpc://192.168.49.2:30080",
            f"derived from {P}:publicUrl",
        ),
    ],
    ids=["plaintext-pachdAddress", "derived-from-an-http-publicUrl"],
)
def test_a_ca_with_a_plaintext_address_is_refused(
    ca: TestCa, changes: dict[str, Any], address: str, source: str
) -> None:
    stack = config_source(**changes, **{f"{P}:pachdCaCert": ca.pem})

    assert config_problems(stack) == [
        (
            f"{P}:pachdCaCert",
            f"is set, but pachd is reached without TLS at {address} ({source}): a CA only "
            "verifies a TLS address; set a grpcs:// pachdAddress, or remove the key",
        )
    ]
