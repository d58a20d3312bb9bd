"""Talking to pachd from the dynamic provider: one client per call site, timeouts, a ready-wait.

Pulumi's Python dynamic-provider host passes no timeout to the provider (``Create``/``Update`` in
``pulumi/dynamic/__main__.py`` drop ``request.timeout``), and a ``pachyderm_sdk.Client`` holds a
``grpc.Channel``, which cannot be pickled with the provider. So every provider method opens its
own client here, every RPC carries a deadline, and waiting for pachd to come up retries with
capped exponential backoff until a deadline, then fails with a message naming the address and the
last gRPC status. A failed TLS handshake is not "not ready": it fails at once, saying what to
change.

:func:`failure` is the one way a pachd failure becomes an exception: it says what was attempted
and where, keeps pachd's status code, and redacts every credential the caller holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any, NamedTuple, TypeVar
from urllib.parse import urlsplit

import grpc
from pachyderm_sdk import Client
from pachyderm_sdk.constants import GRPC_CHANNEL_OPTIONS
from pachyderm_sdk.errors import AuthServiceNotActivated
from pachyderm_sdk.interceptor import MetadataClientInterceptor
from pydantic import BaseModel, ConfigDict, Field

from components import urls
from components.pachyderm_auth.credentials import SECRET
from components.pachyderm_auth.kube_target import KubeAccess, PortForwardTarget
from components.pachyderm_auth.port_forward_errors import PodPortError

T = TypeVar("T")

# Backoff of the ready-wait: first retry after 0.1 s, doubling, never more than 2 s apart.
READY_BACKOFF_START_SECONDS = 0.1
READY_BACKOFF_CAP_SECONDS = 2.0
# Codes that mean "pachd is not serving yet" (pod starting, Service without endpoints, proxy up
# before pachd): retried by the ready-wait. Anything else is a real answer and fails at once.
_NOT_READY_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
# Handshake failures, as gRPC core words them in the details of the UNAVAILABLE status (grpc/grpc
# src/core/tsi/ssl_transport_security.cc; the host check is HostNameCertificateVerifier in
# src/core/lib/security/credentials/tls/grpc_tls_certificate_verifier.cc). Not "not serving yet":
# the certificate pachd presents stays untrusted however long the deployer waits.
_UNTRUSTED_CERTIFICATE = "CERTIFICATE_VERIFY_FAILED"
_HOST_NOT_IN_CERTIFICATE = "Hostname Verification Check failed"
_NOT_TLS = "WRONG_VERSION_NUMBER"
PORT_FORWARD_ENDPOINT = "the Kubernetes API port-forward"
"""How messages name pachd reached through the forward (the start of ``Connection.endpoint``)."""


class PachdError(Exception):
    """A pachd call failed; the message says what was attempted and what pachd answered.

    ``code`` is pachd's gRPC status code (``None`` when pachd gave none, e.g. a refused
    connection), so callers can tell a refused credential from a real answer.
    """

    def __init__(self, message: str, *, code: grpc.StatusCode | None = None) -> None:
        super().__init__(message)
        self.code = code

    def redacted(self, secrets: Sequence[str]) -> PachdError:
        """The same error with every non-empty secret in ``secrets`` replaced."""
        return type(self)(redact(str(self), secrets), code=self.code)


class PachdUnavailableError(PachdError):
    """pachd did not answer before the ready-wait deadline."""


class Connection(BaseModel):
    """How the provider reaches pachd: address, root token, time limits and the CA it trusts.

    Not pachd state: no provider compares these fields to decide whether pachd must change.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    pachd_address: str
    root_token: Annotated[str, SECRET]
    call_timeout_seconds: float = 30.0
    ready_timeout_seconds: float = 600.0
    pachd_ca_cert: str = ""
    """PEM of the CA(s) that sign pachd's TLS certificate; empty: certifi's public CAs."""
    port_forward: PortForwardTarget | None = None
    """Set: pachd is reached through the Kubernetes API (``pachdAccess: portForward``), not at
    ``pachd_address``."""
    kubernetes: KubeAccess = Field(default_factory=KubeAccess, exclude=True, repr=False)
    """The stack's cluster credentials for the port-forward; from the stack config, never stored."""

    @property
    def root_certificates(self) -> bytes | None:
        """What pachyderm_sdk takes as ``root_certs`` for ``pachd_address``."""
        return self.trusted_cas(self.pachd_address)

    def trusted_cas(self, address: str) -> bytes | None:
        """The CA for a TLS ``address`` only.

        Given root certificates, the SDK turns TLS on whatever the scheme says
        (``Client.__init__``), so a plaintext address never gets them.
        """
        if self.pachd_ca_cert and urls.pachd_address_uses_tls(address):
            return self.pachd_ca_cert.encode()
        return None

    @property
    def endpoint(self) -> str:
        """Where pachd is reached, for messages."""
        if self.port_forward is None:
            return self.pachd_address
        target = self.port_forward
        return (
            f"{PORT_FORWARD_ENDPOINT} to release {target.release_name!r} in namespace "
            f"{target.namespace!r}"
        )


class _DeadlineInterceptor(grpc.UnaryUnaryClientInterceptor):
    """Gives every unary call a deadline: pachyderm_sdk's stubs take no timeout argument."""

    def __init__(self, timeout_seconds: float) -> None:
        self._timeout = timeout_seconds

    def intercept_unary_unary(
        self, continuation: Callable[[Any, Any], Any], details: Any, request: Any
    ) -> Any:
        return continuation(details._replace(timeout=self._timeout), request)


@contextmanager
def pachd_client(connection: Connection) -> Iterator[Any]:
    """A pachyderm_sdk ``Client`` for one provider method, closed on exit.

    The token is always passed explicitly: with ``auth_token=None`` the SDK would read
    ``PACH_PYTHON_AUTH_TOKEN`` from the provider process's environment. The CA replaces, not
    extends, the SDK's default trust (certifi's bundle), as ``server_cas`` does for ``pachctl``.
    """
    with _route(connection) as route:
        client = Client.from_pachd_address(
            route.address,
            auth_token=connection.root_token,
            root_certs=connection.trusted_cas(route.address),
        )
        if route.tls_server_name is not None:
            _check_tls_name(client, route.tls_server_name)
        # The stubs are bound to the channel in _init_api(), so wrap the channel, then rebind them.
        client._channel = grpc.intercept_channel(
            client._channel, _DeadlineInterceptor(connection.call_timeout_seconds)
        )
        client._init_api()
        try:
            yield client
        except (grpc.RpcError, ConnectionError) as error:
            # pachyderm_sdk wraps an unreachable channel's RpcError in a ConnectionError.
            if not route.kubelet_errors or isinstance(error, PodPortError):
                raise
            code, details = grpc_status(error)
            raise PodPortError(
                f"pachd's gRPC port did not answer through the port-forward "
                f"({code.name if code else 'no status'}: {details}); the kubelet reported: "
                f"{route.kubelet_errors[-1]}"
            ) from None
        finally:
            client._channel.close()


@contextmanager
def _route(connection: Connection) -> Iterator[Any]:
    if connection.port_forward is None:
        yield _Direct(connection.pachd_address)
        return
    # Imported only here: a direct stack never loads the Kubernetes client.
    from components.pachyderm_auth.port_forward import forwarded

    with forwarded(
        connection.port_forward, connection.kubernetes, connection.call_timeout_seconds
    ) as route:
        yield route


class _Direct(NamedTuple):
    address: str
    tls_server_name: None = None
    kubelet_errors: tuple[str, ...] = ()


def _check_tls_name(client: Any, server_name: str) -> None:
    """Verify pachd's certificate for ``server_name`` although the client dials ``127.0.0.1``."""
    client._channel.close()
    channel = grpc.secure_channel(
        client.address,
        grpc.ssl_channel_credentials(root_certificates=client.root_certs),
        options=[*GRPC_CHANNEL_OPTIONS, ("grpc.ssl_target_name_override", server_name)],
    )
    client._channel = grpc.intercept_channel(
        channel, MetadataClientInterceptor(client._grpc_metadata)
    )


def grpc_status(error: BaseException) -> tuple[grpc.StatusCode | None, str]:
    """``(code, details)`` of a pachd failure, unwrapping the SDK's ConnectionError wrappers."""
    if isinstance(error, AuthServiceNotActivated):
        return grpc.StatusCode.UNIMPLEMENTED, str(error)
    current: BaseException | None = error
    while current is not None:
        if isinstance(current, grpc.RpcError) and hasattr(current, "code"):
            return current.code(), current.details() or ""
        current = current.__cause__
    return None, str(error)


def is_status(error: BaseException, code: grpc.StatusCode, *fragments: str) -> bool:
    """True if ``error`` has this gRPC code and its details contain every fragment.

    pachd's error interceptor keeps a wrapped status's code and puts the whole wrapped text in the
    details (pachyderm/pachyderm src/internal/middleware/errors/interceptor.go), so matching is
    by substring.
    """
    actual_code, details = grpc_status(error)
    return actual_code == code and all(fragment in details for fragment in fragments)


def not_activated(error: BaseException) -> bool:
    """True if pachd answered that auth is not active."""
    return (
        isinstance(error, AuthServiceNotActivated)
        or "the auth service is not activated" in (grpc_status(error)[1])
    )


def tls_hint(error: BaseException, address: str) -> str:
    """What to change when ``error`` is a failed TLS handshake with pachd; else ``""``."""
    details = grpc_status(error)[1]
    if _UNTRUSTED_CERTIFICATE in details:
        return (
            " - pachd's TLS certificate is not signed by a CA this deployer trusts: set "
            "pachyderm-okta:pachdCaCert to the PEM of the CA that signs it (`pulumi config set "
            "pachyderm-okta:pachdCaCert < ca.pem`), or check that the CA set there is that one"
        )
    if _HOST_NOT_IN_CERTIFICATE in details and address.startswith(PORT_FORWARD_ENDPOINT):
        # pachdAddress would switch to direct: the forward checks the name the settings give it.
        return (
            " - pachd's TLS certificate does not name the host it is checked against through "
            "the port-forward (publicUrl's): set pachyderm-okta:pachdTlsServerName to a name the "
            "certificate holds"
        )
    if _HOST_NOT_IN_CERTIFICATE in details:
        host = urlsplit(address.strip()).hostname or address
        return (
            f" - pachd's TLS certificate does not name the host {host}: reach pachd at a name "
            "the certificate holds (pachyderm-okta:pachdAddress)"
        )
    if _NOT_TLS in details:
        return (
            " - the server does not answer TLS at this address: use grpc:// "
            "(pachyderm-okta:pachdAddress)"
        )
    return ""


def redact(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every non-empty secret replaced by ``[secret]``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[secret]")
    return text


def describe(error: BaseException, secrets: Sequence[str]) -> str:
    """``CODE: details`` of a failure, safe to put in an exception message."""
    code, details = grpc_status(error)
    prefix = code.name if code is not None else type(error).__name__
    return redact(f"{prefix}: {details}".strip(), secrets)


def failure(
    what: str, address: str, error: BaseException, secrets: Sequence[str], hint: str = ""
) -> PachdError:
    """``error`` (a gRPC or connection failure) as a :class:`PachdError`, credentials redacted.

    The message is ``<what> failed at <address>: <CODE>: <details><hint>``, plus what to change
    after a failed TLS handshake. Raise it ``from None``: the dynamic provider host prints
    tracebacks, and a chained RpcError could carry request text.
    """
    code, _ = grpc_status(error)
    hints = redact(hint + tls_hint(error, address), secrets)
    return PachdError(f"{what} failed at {address}: {describe(error, secrets)}{hints}", code=code)


def wait_until_ready(
    connection: Connection,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[int, int, int]:
    """Wait until pachd answers GetVersion; return its ``(major, minor, micro)``.

    Retries while pachd is unreachable or not serving, doubling the pause from 0.1 s up to 2 s,
    until ``ready_timeout_seconds`` have passed; then raises :class:`PachdUnavailableError` naming
    the address and the last gRPC status.
    """
    deadline = clock() + connection.ready_timeout_seconds
    pause = READY_BACKOFF_START_SECONDS
    attempts = 0
    while True:
        attempts += 1
        try:
            with pachd_client(connection) as client:
                version = client.get_version()
            return int(version.major), int(version.minor), int(version.micro)
        except (grpc.RpcError, ConnectionError) as error:
            code, _ = grpc_status(error)
            last_status = describe(error, [connection.root_token])
            not_ready = code in _NOT_READY_CODES or isinstance(error, ConnectionError)
            if not not_ready or tls_hint(error, connection.endpoint):
                raise failure(
                    "version GetVersion", connection.endpoint, error, [connection.root_token]
                ) from None
        remaining = deadline - clock()
        if remaining <= 0:
            raise PachdUnavailableError(
                f"pachd at {connection.endpoint} did not become ready within "
                f"{connection.ready_timeout_seconds:g} s ({attempts} attempts); last status: "
                f"{last_status}. {_unready_hint(connection)}",
                code=grpc.StatusCode.UNAVAILABLE,
            )
        sleep(min(pause, remaining))
        pause = min(pause * 2, READY_BACKOFF_CAP_SECONDS)


def _unready_hint(connection: Connection) -> str:
    if connection.port_forward is not None:
        return "Check that the Helm release is up and its pachd pod becomes ready."
    return (
        "Check that the Helm release is up and that the address is reachable from where "
        "`pulumi up` runs (pachyderm-okta:pachdAddress overrides it; pachyderm-okta:pachdAccess: "
        "portForward reaches pachd through the Kubernetes API instead, needing no DNS record, "
        "load balancer or exposed port)."
    )


def unless_gone(action: Callable[[], T], gone_when: str | None = None) -> T | None:
    """``action()``, or ``None`` when pachd answers that auth, or the object, no longer exists.

    ``gone_when`` is the fragment of pachd's "not found" details for this kind of object.
    """
    try:
        return action()
    except (grpc.RpcError, ConnectionError) as error:
        if not_activated(error) or (gone_when is not None and gone_when in grpc_status(error)[1]):
            return None
        raise


# pachd refuses identity API writes while the chart supplies identity through its environment
# (the disabled-RPC errors of pachyderm/pachyderm src/server/identity/server/api_server.go);
# 2.11.x words SetIdentityServerConfig's refusal "is disable when".
_ENV_MANAGED_REFUSALS = ("is disabled when the Identity", "is disable when the Identity")


def env_managed_hint(error: BaseException) -> str:
    """Why pachd refuses identity changes when its Helm release manages identity."""
    details = grpc_status(error)[1]
    if any(refusal in details for refusal in _ENV_MANAGED_REFUSALS):
        return (
            " - the Helm release manages identity (oidc.mockIDP or oidc.upstreamIDPs is set); "
            "this program owns identity through pachd's API, so the release must set neither"
        )
    return ""
