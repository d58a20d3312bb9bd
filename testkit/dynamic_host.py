"""Run Pulumi's real Python dynamic-provider host and drive it like the engine does.

The Pulumi engine runs Python dynamic resources in a separate process: the plugin shim
``pulumi-resource-pulumi-python`` executes ``python -u -m pulumi.dynamic`` (from the ``pulumi``
pip package) with the project directory as working directory. That process prints its gRPC port
on the first stdout line and serves ``pulumirpc.ResourceProvider``. For every call it
``dill``-loads the provider pickled in the ``__provider`` property (classes in importable modules
are pickled *by reference*, so the project root must be importable from ``cwd``), calls
``configure`` once per pickled string, then the ``check``/``diff``/``create``/``read``/
``update``/``delete`` method.

:class:`DynamicProviderHost` starts that exact process and talks to it with
``pulumi.runtime.proto.provider_pb2_grpc.ResourceProviderStub``. Properties are marshalled with
``pulumi.runtime.rpc.serialize_properties`` into a ``google.protobuf.Struct`` (so ``int`` becomes
``float`` and ``None``-valued keys vanish, exactly as in a real deployment), secret wrappers are
stripped because the host answers ``acceptSecrets: False`` (as the engine does), and unknowns
travel as Pulumi's unknown sentinel string. No Pulumi CLI is needed.

Typical use::

    with DynamicProviderHost(cwd=PROJECT_ROOT) as host:
        host.configure({"pachyderm-okta:foo": "bar"})
        props = provider_props(MyProvider(), {"name": "x"})
        inputs, failures = host.check(urn(TYPE, "x"), {}, props)
        result = host.create(urn(TYPE, "x"), inputs)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import enum
import os
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

import grpc
from google.protobuf import (  # type: ignore[import-untyped,unused-ignore]
    empty_pb2,
    struct_pb2,
)
from pulumi.dynamic import ResourceProvider
from pulumi.dynamic import dynamic as _pulumi_dynamic
from pulumi.output import UNKNOWN as _UNKNOWN_VALUE
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from testkit.serving import Serving

__all__ = [
    "PROVIDER_KEY",
    "SECRET_SIG",
    "SIG_KEY",
    "UNKNOWN_SENTINEL",
    "DiffKind",
    "DynamicProviderHost",
    "HostDiff",
    "HostError",
    "HostResult",
    "HostStartError",
    "is_unknown",
    "marshal_properties",
    "provider_props",
    "serialize_provider",
    "strip_secrets",
    "unknown",
    "unmarshal_properties",
    "urn",
]

PROVIDER_KEY = "__provider"
"""The property holding the base64 dill pickle of the provider."""

UNKNOWN_SENTINEL: str = rpc.UNKNOWN
"""Wire form of an unknown value (``04da6b54-80e4-46f7-96ec-b56ff0331ba9``)."""

SIG_KEY = "4dabf18193072939515e22adb298388d"
"""Key that marks a special (secret, asset, resource ...) object on the wire."""

SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
"""Signature value of a secret wrapper."""

_T = TypeVar("_T")


class HostError(Exception):
    """The dynamic-provider host answered a call with a gRPC error.

    The host turns any exception raised by provider code into ``StatusCode.UNKNOWN`` whose
    ``details`` is the full traceback text (``_abort_with_traceback`` in ``__main__.py``).
    """

    def __init__(self, code: grpc.StatusCode, details: str, *, method: str = "") -> None:
        """Store the gRPC status ``code``, its ``details`` text and the RPC ``method`` name."""
        super().__init__(f"{method or 'call'} failed with {code.name}: {details}")
        self.code = code
        self.details = details
        self.method = method


class HostStartError(RuntimeError):
    """The host process did not come up (no port printed, or it exited early)."""


class DiffKind(enum.Enum):
    """``DiffResponse.changes`` as answered by the host."""

    UNKNOWN = provider_pb2.DiffResponse.DIFF_UNKNOWN
    NONE = provider_pb2.DiffResponse.DIFF_NONE
    SOME = provider_pb2.DiffResponse.DIFF_SOME


@dataclass(frozen=True)
class HostDiff:
    """A ``DiffResponse`` in python terms.

    ``stables`` and ``diffs`` are always empty with the Python dynamic host: its Diff servicer
    only forwards ``changes``, ``replaces`` and ``deleteBeforeReplace``.
    """

    kind: DiffKind
    replaces: list[str]
    delete_before_replace: bool
    diffs: list[str]
    stables: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class HostResult:
    """The id and unmarshalled output properties (``__provider`` included) of a resource.

    ``inputs`` is only set by ``read`` when the provider returned ``ReadResult.inputs``.
    """

    id: str
    outputs: dict[str, Any]
    inputs: dict[str, Any] | None = None


def urn(type_token: str, name: str, *, project: str = "pachyderm-okta", stack: str = "dev") -> str:
    """Build a resource URN the way the engine does (no parent type chain)."""
    return f"urn:pulumi:{stack}::{project}::{type_token}::{name}"


def _split_urn(value: str) -> tuple[str, str]:
    """Return ``(name, type)`` from a URN; empty strings when it is not a URN."""
    parts = value.split("::")
    if len(parts) < 4 or not parts[0].startswith("urn:pulumi:"):
        return "", ""
    qualified_type = parts[2]
    return "::".join(parts[3:]), qualified_type.rsplit("$", 1)[-1]


def unknown() -> object:
    """Return a value that marshals to the engine's unknown sentinel (as in a preview).

    It is ``pulumi.output.UNKNOWN``, the SDK's singleton ``Unknown`` instance.
    """
    return _UNKNOWN_VALUE


def is_unknown(value: object) -> bool:
    """Tell whether ``value`` is an unmarshalled unknown (or the raw sentinel string)."""
    return isinstance(value, Unknown) or value == UNKNOWN_SENTINEL


def strip_secrets(value: Any) -> Any:
    """Recursively unwrap Pulumi secret wrappers, as the engine does for the dynamic host.

    A wrapper is ``{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
    "value": ...}``. The dynamic host answers ``acceptSecrets: False`` to ``Configure``, so the
    engine sends it plain values only.
    """
    if isinstance(value, Mapping):
        if value.get(SIG_KEY) == SECRET_SIG:
            return strip_secrets(value.get("value"))
        return {key: strip_secrets(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [strip_secrets(item) for item in value]
    return value


def serialize_provider(provider: ResourceProvider) -> str:
    """Pickle ``provider`` exactly as ``pulumi.dynamic.Resource`` does for ``__provider``.

    Wraps ``pulumi.dynamic.dynamic.serialize_provider`` (dill, ``recurse=True``, sorted dicts,
    base64). ``Resource`` additionally marks the string secret; the engine strips that before
    the host sees it.
    """
    result: str = _pulumi_dynamic.serialize_provider(provider)
    return result


def provider_props(provider: ResourceProvider, props: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``props`` plus the ``__provider`` key a ``pulumi.dynamic.Resource`` registers."""
    if PROVIDER_KEY in props:
        raise ValueError("props must not already contain __provider")
    return {**props, PROVIDER_KEY: serialize_provider(provider)}


def _run_on_new_loop(coro: Coroutine[Any, Any, _T]) -> _T:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def _run(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coro`` on a private event loop, in a helper thread if this one runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _run_on_new_loop(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_run_on_new_loop, coro).result()


def marshal_properties(
    props: Mapping[str, Any], *, keep_secrets: bool = False
) -> struct_pb2.Struct:
    """Marshal python ``props`` into the ``Struct`` the engine would send.

    Uses ``pulumi.runtime.rpc.serialize_properties`` (the SDK's own marshaller): keys whose value
    is ``None`` are dropped, numbers become doubles, ``Unknown`` becomes the sentinel string.
    Unless ``keep_secrets`` is true, secret wrappers are stripped first.
    """
    plain = dict(props) if keep_secrets else strip_secrets(dict(props))
    return _run(rpc.serialize_properties(plain, {}))


def unmarshal_properties(struct: struct_pb2.Struct) -> dict[str, Any]:
    """Unmarshal a ``Struct`` answered by the host; unknowns become ``pulumi.output.Unknown``."""
    result = rpc.deserialize_properties(struct, keep_unknowns=True)
    if not isinstance(result, dict):  # an asset/archive/resource at top level: never for a bag
        raise TypeError(f"expected a property bag, got {type(result).__name__}")
    return result


def _pump(stream: IO[bytes], sink: list[bytes], lock: threading.Lock) -> None:
    """Copy ``stream`` into ``sink`` line by line until EOF (keeps the pipe from filling)."""
    for line in iter(stream.readline, b""):
        with lock:
            sink.append(line)


def _reap(proc: subprocess.Popen[bytes]) -> None:
    """Kill ``proc`` if it is still running; used as a finalizer so nothing leaks."""
    if proc.poll() is None:
        proc.kill()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - kill is not ignorable
            pass


class DynamicProviderHost(Serving):
    """A running ``python -m pulumi.dynamic`` subprocess plus a gRPC client for it.

    Use as a context manager (or call :meth:`start`/:meth:`stop`). Calls mirror what the engine
    sends; every gRPC error surfaces as :class:`HostError`. The engine always calls
    :meth:`configure` before anything else, and so should tests: the host configures a pickled
    provider only once per process, with whatever config it holds at that moment.
    """

    def __init__(
        self,
        *,
        cwd: str | Path,
        env: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        project: str = "pachyderm-okta",
        inherit_env: bool = True,
        python: str | None = None,
    ) -> None:
        """Prepare (but do not start) a host.

        ``cwd`` must be the project root so pickled-by-reference provider classes import.
        ``env`` is layered over ``os.environ`` (or used alone when ``inherit_env`` is false);
        ``PULUMI_PROJECT`` defaults to ``project``, which is what unqualified config keys and
        ``pulumi.get_project()`` resolve to inside the host. ``timeout`` bounds start-up and
        every RPC. ``python`` defaults to the running interpreter.
        """
        self.cwd = Path(cwd)
        self.timeout = timeout
        self.project = project
        base: dict[str, str] = dict(os.environ) if inherit_env else {}
        base.update(env or {})
        base.setdefault("PULUMI_PROJECT", project)
        self.env = base
        self.python = python or sys.executable
        self.port: int | None = None
        self.accept_secrets = False
        self.supports_preview = False
        self.accept_resources = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: provider_pb2_grpc.ResourceProviderStub | None = None
        self._stdout: list[bytes] = []
        self._stderr: list[bytes] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._finalizer: weakref.finalize[Any, Any] | None = None

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The host's process id while it runs."""
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        """Whether the host process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> DynamicProviderHost:
        """Start the host, read its port from stdout and connect; clean up if that fails."""
        if self._proc is not None:
            raise RuntimeError("host already started")
        # Same command line as the engine's plugin shim: `python -u -m pulumi.dynamic <engine>`
        # (the host ignores argv; it writes its port without an explicit flush, so keep `-u`).
        self._proc = subprocess.Popen(
            [self.python, "-u", "-m", "pulumi.dynamic", "127.0.0.1:0"],
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._finalizer = weakref.finalize(self, _reap, self._proc)
        try:
            self._connect()
        except BaseException:
            self.stop()
            raise
        return self

    def _connect(self) -> None:
        proc = self._proc
        if proc is None or proc.stdout is None or proc.stderr is None:
            raise HostStartError("host process is not running")
        for stream, sink in ((proc.stdout, self._stdout), (proc.stderr, self._stderr)):
            thread = threading.Thread(target=_pump, args=(stream, sink, self._lock), daemon=True)
            thread.start()
            self._threads.append(thread)
        deadline = time.monotonic() + self.timeout
        while True:
            with self._lock:
                first = self._stdout[0] if self._stdout else None
            if first is not None:
                break
            if proc.poll() is not None:
                for thread in self._threads:  # let the pumps drain what it wrote
                    thread.join(timeout=2)
                raise HostStartError(
                    f"dynamic provider host exited with {proc.returncode} before printing a "
                    f"port; stderr:\n{self.stderr_text()}"
                )
            if time.monotonic() > deadline:
                raise HostStartError(f"no port from dynamic provider host in {self.timeout}s")
            time.sleep(0.01)
        try:
            self.port = int(first.decode().strip())
        except ValueError as exc:
            raise HostStartError(f"unexpected first stdout line from host: {first!r}") from exc
        self._channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        grpc.channel_ready_future(self._channel).result(timeout=self.timeout)
        self._stub = provider_pb2_grpc.ResourceProviderStub(self._channel)

    def stop(self) -> None:
        """Close the channel and terminate (then kill) the host; safe to call repeatedly."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        self._stub = None
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
        if proc is not None:
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None

    # -- captured output -------------------------------------------------------------------

    def stderr_text(self) -> str:
        """Everything the host wrote to stderr so far (provider prints, pulumi.log fallbacks)."""
        with self._lock:
            data = b"".join(self._stderr)
        return data.decode(errors="replace")

    def stdout_text(self) -> str:
        """Everything the host wrote to stdout (the first line is its port)."""
        with self._lock:
            data = b"".join(self._stdout)
        return data.decode(errors="replace")

    # -- RPCs ------------------------------------------------------------------------------

    def _require_stub(self) -> provider_pb2_grpc.ResourceProviderStub:
        if self._stub is None:
            raise RuntimeError("host is not started")
        return self._stub

    def _call(self, method: str, request: Any) -> Any:
        stub = self._require_stub()
        try:
            return getattr(stub, method)(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            if isinstance(exc, grpc.Call):
                raise HostError(exc.code(), exc.details() or "", method=method) from None
            raise  # pragma: no cover - every sync unary error is also a grpc.Call

    def _marshal(self, props: Mapping[str, Any] | None) -> struct_pb2.Struct:
        return marshal_properties(props or {}, keep_secrets=self.accept_secrets)

    def plugin_info(self) -> str:
        """``GetPluginInfo`` version (the engine asks this first)."""
        info = self._call("GetPluginInfo", empty_pb2.Empty())
        version: str = info.version
        return version

    def configure(
        self, config: Mapping[str, str] | None = None, *, secret_keys: Iterable[str] = ()
    ) -> None:
        """Send ``Configure`` with stack config, as the engine does before any resource call.

        Keys without a namespace are qualified with the project (as ``pulumi config set`` does),
        so ``{"greeting": "hi"}`` is sent as ``pachyderm-okta:greeting``. Keys in
        ``secret_keys`` are sent wrapped as secrets (the host unwraps them). Remembers what the
        host answered in ``accept_secrets``/``supports_preview``/``accept_resources``.
        """
        secrets = {self._qualify(key) for key in secret_keys}
        args: dict[str, Any] = {}
        variables: dict[str, str] = {}
        for key, value in (config or {}).items():
            full = self._qualify(key)
            args[full] = rpc.wrap_rpc_secret(value) if full in secrets else value
            namespace, _, name = full.partition(":")
            variables[f"{namespace}:config:{name}"] = value
        request = provider_pb2.ConfigureRequest(
            variables=variables,
            args=marshal_properties(args, keep_secrets=True),
            acceptSecrets=True,
            acceptResources=True,
            sends_old_inputs=True,
            sends_old_inputs_to_delete=True,
        )
        response = self._call("Configure", request)
        self.accept_secrets = bool(response.acceptSecrets)
        self.supports_preview = bool(response.supportsPreview)
        self.accept_resources = bool(response.acceptResources)

    def _qualify(self, key: str) -> str:
        return key if ":" in key else f"{self.project}:{key}"

    def check(
        self, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """``Check``: return the checked inputs (``__provider`` included) and failures.

        ``olds`` are the previous inputs (``{}`` on create); ``news`` must hold ``__provider``.
        """
        name, type_ = _split_urn(urn)
        request = provider_pb2.CheckRequest(
            urn=urn,
            olds=self._marshal(olds),
            news=self._marshal(news),
            name=name,
            type=type_,
            randomSeed=os.urandom(32),
        )
        response = self._call("Check", request)
        failures = [(failure.property, failure.reason) for failure in response.failures]
        return unmarshal_properties(response.inputs), failures

    def diff(
        self,
        urn: str,
        id: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
        ignore_changes: Iterable[str] = (),
    ) -> HostDiff:
        """``Diff``: ``olds`` are the stored outputs, ``news`` the new checked inputs."""
        name, type_ = _split_urn(urn)
        request = provider_pb2.DiffRequest(
            id=id,
            urn=urn,
            olds=self._marshal(olds),
            news=self._marshal(news),
            old_inputs=self._marshal(old_inputs),
            ignoreChanges=list(ignore_changes),
            name=name,
            type=type_,
        )
        response = self._call("Diff", request)
        return HostDiff(
            kind=DiffKind(response.changes),
            replaces=list(response.replaces),
            delete_before_replace=bool(response.deleteBeforeReplace),
            diffs=list(response.diffs),
            stables=list(response.stables),
        )

    def create(self, urn: str, props: Mapping[str, Any], *, preview: bool = False) -> HostResult:
        """``Create`` with the checked inputs.

        The host ignores ``preview`` and runs ``provider.create`` anyway; the engine never sends
        a preview Create to it because Configure answers ``supportsPreview: False``.
        """
        name, type_ = _split_urn(urn)
        request = provider_pb2.CreateRequest(
            urn=urn, properties=self._marshal(props), preview=preview, name=name, type=type_
        )
        response = self._call("Create", request)
        return HostResult(id=response.id, outputs=unmarshal_properties(response.properties))

    def read(
        self,
        urn: str,
        id: str,
        props: Mapping[str, Any],
        inputs: Mapping[str, Any] | None = None,
    ) -> HostResult | None:
        """``Read`` as in ``pulumi refresh``: ``props`` are the stored outputs.

        Returns ``None`` when the provider says the resource is gone (empty id).
        ``HostResult.inputs`` is set when the provider returned new inputs.
        """
        name, type_ = _split_urn(urn)
        request = provider_pb2.ReadRequest(
            id=id,
            urn=urn,
            properties=self._marshal(props),
            inputs=self._marshal(inputs),
            name=name,
            type=type_,
        )
        response = self._call("Read", request)
        if not response.id:
            return None
        new_inputs = unmarshal_properties(response.inputs) if response.HasField("inputs") else None
        return HostResult(
            id=response.id, outputs=unmarshal_properties(response.properties), inputs=new_inputs
        )

    def update(
        self,
        urn: str,
        id: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
        preview: bool = False,
    ) -> HostResult:
        """``Update``: ``olds`` are the stored outputs, ``news`` the new checked inputs."""
        name, type_ = _split_urn(urn)
        request = provider_pb2.UpdateRequest(
            id=id,
            urn=urn,
            olds=self._marshal(olds),
            news=self._marshal(news),
            old_inputs=self._marshal(old_inputs),
            preview=preview,
            name=name,
            type=type_,
        )
        response = self._call("Update", request)
        return HostResult(id=id, outputs=unmarshal_properties(response.properties))

    def delete(
        self,
        urn: str,
        id: str,
        props: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
    ) -> None:
        """``Delete``: ``props`` are the stored outputs (their ``__provider`` is the old code)."""
        name, type_ = _split_urn(urn)
        request = provider_pb2.DeleteRequest(
            id=id,
            urn=urn,
            properties=self._marshal(props),
            old_inputs=self._marshal(old_inputs),
            name=name,
            type=type_,
        )
        self._call("Delete", request)
