"""Talking to pachd from the dynamic provider: one client per call site, timeouts, a ready-wait.

The dynamic provider host ignores ``custom_timeouts`` (pulumi-notes.md D2) and a
``pachyderm_sdk.Client`` cannot be pickled (D5), so every provider method opens its own client
here, every RPC carries a deadline, and waiting for pachd to come up retries with capped
exponential backoff until a deadline, then fails with a message naming the address and the last
gRPC status. Nothing in this module ever puts a secret into an exception message.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import grpc
from pachyderm_sdk import Client
from pachyderm_sdk.errors import AuthServiceNotActivated
from pydantic import BaseModel, ConfigDict

T = TypeVar("T")

# Backoff of the ready-wait: first retry after 0.1 s, doubling, never more than 2 s apart.
READY_BACKOFF_START_SECONDS = 0.1
READY_BACKOFF_CAP_SECONDS = 2.0
# Codes that mean "pachd is not serving yet" (pod starting, Service without endpoints, proxy up
# before pachd): retried by the ready-wait. Anything else is a real answer and fails at once.
_NOT_READY_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


class PachdError(Exception):
    """A pachd call failed; the message says what was attempted and what pachd answered."""


class PachdUnavailableError(PachdError):
    """pachd did not answer before the ready-wait deadline."""


class Connection(BaseModel):
    """How the provider reaches pachd: address, root token and time limits."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    pachd_address: str
    root_token: str
    call_timeout_seconds: float = 30.0
    ready_timeout_seconds: float = 600.0


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
    ``PACH_PYTHON_AUTH_TOKEN`` from the provider process's environment.
    """
    client = Client.from_pachd_address(connection.pachd_address, auth_token=connection.root_token)
    # The stubs are bound to the channel in _init_api(), so wrap the channel, then rebind them.
    client._channel = grpc.intercept_channel(
        client._channel, _DeadlineInterceptor(connection.call_timeout_seconds)
    )
    client._init_api()
    try:
        yield client
    finally:
        client._channel.close()


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

    pachd puts wrapped error text in the details, so matching is by substring (pachyderm-auth.md 1).
    """
    actual_code, details = grpc_status(error)
    return actual_code == code and all(fragment in details for fragment in fragments)


def not_activated(error: BaseException) -> bool:
    """True if pachd answered that auth is not active."""
    return (
        isinstance(error, AuthServiceNotActivated)
        or "the auth service is not activated" in (grpc_status(error)[1])
    )


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


def call(what: str, connection: Connection, fn: Callable[[], T], *secrets: str) -> T:
    """Run one pachd call; on failure raise :class:`PachdError` naming ``what`` and the status.

    ``from None`` drops the gRPC exception chain: the dynamic provider host prints tracebacks,
    and a chained RpcError could carry request text.
    """
    try:
        return fn()
    except (grpc.RpcError, ConnectionError) as error:
        status = describe(error, [connection.root_token, *secrets])
        raise PachdError(f"{what} failed at {connection.pachd_address}: {status}") from None


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
            if code not in _NOT_READY_CODES and not isinstance(error, ConnectionError):
                raise PachdError(
                    f"pachd at {connection.pachd_address} answered GetVersion with {last_status}"
                ) from None
        remaining = deadline - clock()
        if remaining <= 0:
            raise PachdUnavailableError(
                f"pachd at {connection.pachd_address} did not become ready within "
                f"{connection.ready_timeout_seconds:g} s ({attempts} attempts); last status: "
                f"{last_status}. Check that the Helm release is up and that the address is "
                "reachable from where `pulumi up` runs (pachyderm-okta:pachdAddress overrides it)."
            )
        sleep(min(pause, remaining))
        pause = min(pause * 2, READY_BACKOFF_CAP_SECONDS)
