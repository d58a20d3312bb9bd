"""How the provider talks to pachd (``components.pachyderm_auth.pachd``).

Regressions guarded: the dynamic provider host passes no timeout to the provider
(``pulumi/dynamic/__main__.py``), so a call without its own deadline or a ready-wait
without a deadline hangs ``pulumi up`` forever; the ready-wait must retry with capped exponential
backoff (0.1 s doubling to 2 s, the last pause cut to what is left) and then fail naming the
address and the last gRPC status; a real answer (not "not serving yet") must fail at once; no
message may carry a secret; and the client must always send *our* root token, never whatever
``PACH_PYTHON_AUTH_TOKEN`` holds in the deployer's environment.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, TypeVar

import grpc
import pytest
from pachyderm_sdk.errors import AuthServiceNotActivated

from components.pachyderm_auth import pachd
from components.pachyderm_auth.identity_config import IdentityConfigProvider, IdentityConfigState
from components.pachyderm_auth.pachd import (
    Connection,
    PachdError,
    PachdUnavailableError,
    _DeadlineInterceptor,
    describe,
    grpc_status,
    is_status,
    not_activated,
    pachd_client,
    redact,
    wait_until_ready,
)
from components.pachyderm_auth.props import Props
from testkit.clock import FakeTime
from testkit.fake_pachd import NOT_READY, FakePachd, _token_from

ROOT = "test-root-token-connection-0001"
OTHER_SECRET = "test-other-secret-connection-0002"
ENV_TOKEN = "test-env-token-must-not-be-used-0003"

T = TypeVar("T")


class _Recorded(NamedTuple):
    method: str
    token: str | None
    time_remaining: float


class RecordingPachd(FakePachd):
    """A FakePachd that records each call's token and deadline, and can hold calls open."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.recorded: list[_Recorded] = []
        self.hold: set[str] = set()
        self.release = threading.Event()

    def _dispatch(self, method: str, raw: bytes, context: Any) -> bytes:
        self.recorded.append(
            _Recorded(method, _token_from(context), float(context.time_remaining()))
        )
        if any(method.endswith(name) for name in self.hold):
            # Held longer than any call timeout used here; released at teardown (<= 0.5 s).
            self.release.wait(0.5)
        return super()._dispatch(method, raw, context)


@pytest.fixture
def fake() -> Iterator[RecordingPachd]:
    server = RecordingPachd()
    with server:
        yield server
        server.release.set()


def _call(what: str, connection: Connection, action: Callable[[], T], *secrets: str) -> T:
    """One named pachd call the way every provider makes it (``PachdProvider._call``)."""
    state = IdentityConfigState(issuer="", id_token_expiry="", rotation_token_expiry="")
    props = Props(connection, state, secrets)
    return IdentityConfigProvider()._call(what, props, action)


def _connection(address: str, **overrides: Any) -> Connection:
    values: dict[str, Any] = {
        "pachd_address": address,
        "root_token": ROOT,
        "call_timeout_seconds": 2.0,
        "ready_timeout_seconds": 2.0,
    }
    values.update(overrides)
    return Connection(**values)


def _closed_port_address() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"grpc://127.0.0.1:{port}"


class _RpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self._code = code
        self._details = details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


# --- the ready-wait -----------------------------------------------------------------------------


def test_ready_wait_succeeds_after_the_readiness_delay() -> None:
    with FakePachd(version=(2, 11, 6), ready_after=0.3) as server:
        version = wait_until_ready(_connection(server.address))
        assert version == (2, 11, 6)
        attempts = server.call_counts()["version.GetVersion"]
        assert attempts >= 2  # at least one UNAVAILABLE answer was retried
        assert set(server.calls) == {"version.GetVersion"}


def test_ready_wait_returns_at_once_when_ready(fake: RecordingPachd) -> None:
    time = FakeTime()
    assert wait_until_ready(_connection(fake.address), sleep=time.sleep, clock=time.clock) == (
        2,
        12,
        2,
    )
    assert time.pauses == []
    assert fake.calls == ["version.GetVersion"]


def test_never_ready_fails_naming_address_and_last_status() -> None:
    with FakePachd(ready_after=3600) as server:
        with pytest.raises(PachdUnavailableError) as raised:
            wait_until_ready(_connection(server.address, ready_timeout_seconds=0.25))
    message = str(raised.value)
    assert server.address in message
    assert f"last status: UNAVAILABLE: {NOT_READY}" in message
    assert "within 0.25 s" in message
    assert ROOT not in message


def test_closed_port_fails_naming_the_address() -> None:
    address = _closed_port_address()
    with pytest.raises(PachdUnavailableError) as raised:
        wait_until_ready(_connection(address, ready_timeout_seconds=0.25))
    assert address in str(raised.value)
    assert "UNAVAILABLE" in str(raised.value)
    assert ROOT not in str(raised.value)


def test_backoff_doubles_from_100ms_caps_at_2s_and_cuts_the_last_pause() -> None:
    time = FakeTime()
    with FakePachd(ready_after=3600) as server:
        with pytest.raises(PachdUnavailableError) as raised:
            wait_until_ready(
                _connection(server.address, ready_timeout_seconds=10.0),
                sleep=time.sleep,
                clock=time.clock,
            )
        attempts = server.call_counts()["version.GetVersion"]
    assert time.pauses == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0, 0.9])
    assert sum(time.pauses) == pytest.approx(10.0)
    assert attempts == len(time.pauses) + 1
    assert f"({attempts} attempts)" in str(raised.value)


def test_backoff_constants() -> None:
    assert pachd.READY_BACKOFF_START_SECONDS == 0.1
    assert pachd.READY_BACKOFF_CAP_SECONDS == 2.0


def test_backoff_stays_at_the_cap_for_a_long_deadline() -> None:
    time = FakeTime()
    with FakePachd(ready_after=3600) as server:
        with pytest.raises(PachdUnavailableError):
            wait_until_ready(
                _connection(server.address, ready_timeout_seconds=20.0),
                sleep=time.sleep,
                clock=time.clock,
            )
    assert time.pauses[:5] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6])
    assert all(pause == 2.0 for pause in time.pauses[5:-1])
    assert max(time.pauses) == 2.0
    assert sum(time.pauses) == pytest.approx(20.0)


@pytest.mark.parametrize(
    "code",
    [grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNIMPLEMENTED],
)
def test_non_retryable_answer_fails_at_once(fake: RecordingPachd, code: grpc.StatusCode) -> None:
    time = FakeTime()
    fake.inject("version.GetVersion", code, f"nope {ROOT}")
    with pytest.raises(PachdError) as raised:
        wait_until_ready(_connection(fake.address), sleep=time.sleep, clock=time.clock)
    assert not isinstance(raised.value, PachdUnavailableError)
    assert time.pauses == []
    assert fake.calls == ["version.GetVersion"]
    message = str(raised.value)
    assert fake.address in message
    assert code.name in message
    assert ROOT not in message
    assert "[secret]" in message


def test_deadline_exceeded_is_retried(fake: RecordingPachd) -> None:
    time = FakeTime()
    fake.inject("version.GetVersion", grpc.StatusCode.DEADLINE_EXCEEDED, "slow", times=2)
    assert wait_until_ready(_connection(fake.address), sleep=time.sleep, clock=time.clock)
    assert time.pauses == pytest.approx([0.1, 0.2])
    assert fake.calls == ["version.GetVersion"] * 3


# --- deadlines on every call --------------------------------------------------------------------


class _Details(NamedTuple):
    method: str
    timeout: float | None
    metadata: Any
    credentials: Any
    wait_for_ready: Any
    compression: Any


def test_deadline_interceptor_sets_the_timeout_on_the_call_details() -> None:
    seen: list[_Details] = []

    def continuation(details: _Details, request: object) -> str:
        seen.append(details)
        assert request == "request"
        return "response"

    details = _Details("/auth_v2.API/WhoAmI", None, [("authn-token", "x")], None, None, None)
    result = _DeadlineInterceptor(7.5).intercept_unary_unary(
        continuation,
        details,
        "request",
    )
    assert result == "response"
    assert seen == [details._replace(timeout=7.5)]


def test_every_call_reaches_pachd_with_a_deadline(fake: RecordingPachd) -> None:
    connection = _connection(fake.address, call_timeout_seconds=3.0)
    wait_until_ready(connection)
    with pachd_client(connection) as client:
        client.auth.activate(root_token=ROOT)
        client.pfs.activate_auth()
        client.auth.who_am_i()
        client.identity.list_oidc_clients()
    assert [r.method.rsplit("/", 1)[1] for r in fake.recorded] == [
        "GetVersion",
        "Activate",
        "ActivateAuth",
        "WhoAmI",
        "ListOIDCClients",
    ]
    for record in fake.recorded:
        assert 0 < record.time_remaining <= 3.05, record  # clock granularity


def test_a_hung_call_fails_after_the_call_timeout(fake: RecordingPachd) -> None:
    connection = _connection(fake.address, call_timeout_seconds=0.1)
    fake.hold = {"/WhoAmI"}
    with pachd_client(connection) as client:
        with pytest.raises(PachdError) as raised:
            _call("auth WhoAmI", connection, lambda: client.auth.who_am_i())
    assert "DEADLINE_EXCEEDED" in str(raised.value)
    assert fake.address in str(raised.value)


def test_ready_wait_against_a_hung_pachd_ends_at_its_deadline(fake: RecordingPachd) -> None:
    fake.hold = {"/GetVersion"}
    with pytest.raises(PachdUnavailableError) as raised:
        wait_until_ready(
            _connection(fake.address, call_timeout_seconds=0.05, ready_timeout_seconds=0.2)
        )
    assert "last status: DEADLINE_EXCEEDED" in str(raised.value)


# --- tokens ----------------------------------------------------------------------------------


def test_client_sends_our_token_not_pach_python_auth_token(
    fake: RecordingPachd, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PACH_PYTHON_AUTH_TOKEN", ENV_TOKEN)
    connection = _connection(fake.address)
    with pachd_client(connection) as client:
        client.auth.activate(root_token=ROOT)
        username = client.auth.who_am_i().username
    assert username == "pach:root"
    assert fake.state.root_token == ROOT
    assert [r.token for r in fake.recorded] == [ROOT, ROOT]
    assert ENV_TOKEN not in fake.state.tokens


# --- redaction and status helpers ---------------------------------------------------------------


def test_redact_replaces_every_non_empty_secret() -> None:
    text = f"a {ROOT} b {OTHER_SECRET} c {ROOT}"
    assert redact(text, [ROOT, "", OTHER_SECRET]) == "a [secret] b [secret] c [secret]"
    assert redact("nothing here", [""]) == "nothing here"


def test_describe_redacts_rpc_errors() -> None:
    error = _RpcError(grpc.StatusCode.UNAUTHENTICATED, f"token {ROOT} and {OTHER_SECRET}")
    text = describe(error, [ROOT, OTHER_SECRET])
    assert text == "UNAUTHENTICATED: token [secret] and [secret]"


def test_describe_unwraps_the_sdk_connection_error() -> None:
    cause = _RpcError(grpc.StatusCode.UNAVAILABLE, f"failed to connect ({ROOT})")
    wrapper = ConnectionError("Could not connect to pachyderm instance")
    wrapper.__cause__ = cause
    assert grpc_status(wrapper) == (grpc.StatusCode.UNAVAILABLE, f"failed to connect ({ROOT})")
    assert describe(wrapper, [ROOT]) == "UNAVAILABLE: failed to connect ([secret])"


def test_describe_of_a_plain_error_names_its_type_without_secrets() -> None:
    assert describe(ConnectionError(f"boom {ROOT}"), [ROOT]) == "ConnectionError: boom [secret]"


def test_auth_not_activated_is_recognised() -> None:
    error = AuthServiceNotActivated("the auth service is not activated")
    assert grpc_status(error)[0] == grpc.StatusCode.UNIMPLEMENTED
    assert not_activated(error)
    assert not_activated(
        _RpcError(grpc.StatusCode.UNIMPLEMENTED, "the auth service is not activated")
    )
    assert not not_activated(_RpcError(grpc.StatusCode.UNIMPLEMENTED, "already activated"))


def test_is_status_matches_code_and_every_fragment() -> None:
    error = _RpcError(grpc.StatusCode.INTERNAL, "ID already exists")
    assert is_status(error, grpc.StatusCode.INTERNAL, "already exists")
    assert not is_status(error, grpc.StatusCode.UNKNOWN, "already exists")
    assert not is_status(error, grpc.StatusCode.INTERNAL, "already exists", "missing")


def test_a_named_call_wraps_failures_without_secrets_or_chain() -> None:
    connection = _connection("grpc://pachd.example:30650")

    def failing() -> None:
        raise _RpcError(grpc.StatusCode.INTERNAL, f"echo {ROOT} {OTHER_SECRET}")

    with pytest.raises(PachdError) as raised:
        _call("doing a thing", connection, failing, OTHER_SECRET)
    assert str(raised.value) == (
        "doing a thing failed at grpc://pachd.example:30650: INTERNAL: echo [secret] [secret]"
    )
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


def test_a_named_call_returns_the_result() -> None:
    assert _call("x", _connection("grpc://h:1"), lambda: 42) == 42


def test_connection_parses_ints_sent_as_floats_and_ignores_extra_keys() -> None:
    connection = Connection.model_validate(
        {
            "pachd_address": "grpc://h:30650",
            "root_token": ROOT,
            "call_timeout_seconds": 5,
            "ready_timeout_seconds": 60.0,
            "__provider": "pickled",
        }
    )
    assert connection.call_timeout_seconds == 5.0
    assert connection.ready_timeout_seconds == 60.0
