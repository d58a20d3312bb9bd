"""Pulumi's mocks, recording: what a program registers, with parents, options and secretness.

Every registration (components included) is recorded with its type, name, inputs, parent,
provider, dependencies and options, every read (``Resource.get``) with its id and provider, and
any invoke a test did not declare fails the run instead of returning an empty answer. Used by
the ``mock_run`` fixture, the offline-up harness and the benchmarks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

PROJECT = "pachyderm-okta"
STACK = "dev"
T = TypeVar("T")

# The secret wrapper Pulumi's RPC layer puts around secret values (rpc._special_sig_key).
SECRET_SIG = rpc._special_sig_key
SECRET_VALUE = rpc._special_secret_sig


def is_secret(value: Any) -> bool:
    """True if a recorded input is wrapped as a Pulumi secret."""
    return isinstance(value, dict) and value.get(SECRET_SIG) == SECRET_VALUE


def unwrap(value: Any) -> Any:
    """The plain value of a recorded input, secret wrappers removed at every depth."""
    if is_secret(value):
        return unwrap(value["value"])
    if isinstance(value, dict):
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value


@dataclass(frozen=True)
class Registration:
    """One RegisterResource call, as the engine would have received it."""

    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    provider: str
    providers: dict[str, str]
    dependencies: tuple[str, ...]
    additional_secret_outputs: tuple[str, ...]
    protect: bool
    delete_before_replace: bool
    ignore_changes: tuple[str, ...]
    replace_on_changes: tuple[str, ...]
    retain_on_delete: bool = False
    """The engine skips the provider's Delete and shows ``delete[retain]``."""

    @property
    def plain_inputs(self) -> dict[str, Any]:
        """Inputs with secret wrappers removed."""
        result: dict[str, Any] = unwrap(self.inputs)
        return result


@dataclass(frozen=True)
class Read:
    """One ReadResource call (``Resource.get``): an existing cloud object read, never owned."""

    type: str
    name: str
    id: str
    urn: str
    parent: str
    provider: str


class InvokeRefusedError(Exception):
    """Raised by a declared invoke: the provider refuses the lookup with this reason."""


class _EngineInvokeError(grpc.RpcError):
    """A provider's refusal as the engine returns it to the SDK: gRPC UNKNOWN.

    Its details are ``invocation of <tok> returned an error: <reason>`` (pulumi/pulumi
    ``pkg/resource/deploy/source_eval.go``, ``ResourceMonitor.Invoke``).
    """

    def __init__(self, token: str, reason: str) -> None:
        super().__init__(reason)
        self._details = f"invocation of {token} returned an error: {reason}"

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNKNOWN

    def details(self) -> str:
        return self._details


class RecordingMocks(pulumi.runtime.Mocks):
    """Mocks whose resources echo inputs plus per-type outputs, and whose invokes are declared.

    ``outputs[type_token](args) -> dict`` adds outputs the real provider would compute (ids, client
    secrets, ...). ``invokes[token](args) -> dict`` answers a data-source call; an undeclared token
    raises, so a component cannot quietly depend on a lookup the test did not model.
    """

    def __init__(self) -> None:
        self.outputs: dict[str, Callable[[pulumi_mocks.MockResourceArgs], dict[str, Any]]] = {}
        self.invokes: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
        self.calls: list[tuple[str, dict[str, Any], str]] = []

    def new_resource(
        self, args: pulumi_mocks.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        """Echo the inputs plus the outputs declared for the type; the id defaults to name-id."""
        extra = self.outputs.get(args.typ, lambda _args: {})(args)
        resource_id = args.resource_id or f"{args.name}-id"
        return resource_id, {**args.inputs, **extra}

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """Answer a declared invoke; an undeclared one fails the run."""
        self.calls.append((args.token, dict(args.args), args.provider))
        if args.token not in self.invokes:
            raise AssertionError(f"unexpected invoke {args.token} with {args.args!r}")
        try:
            return self.invokes[args.token](dict(args.args)), []
        except InvokeRefusedError as refusal:
            raise _EngineInvokeError(args.token, str(refusal)) from None


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A MockMonitor that also records what MockResourceArgs leaves out (parent, options)."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []
        self.reads: list[Read] = []
        self.component_outputs: dict[str, dict[str, Any]] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        """Register as MockMonitor does, and record the request."""
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
            self.registrations.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=request.parent,
                    custom=request.custom,
                    inputs=dict(inputs),
                    provider=request.provider,
                    providers=dict(request.providers),
                    dependencies=tuple(request.dependencies),
                    additional_secret_outputs=tuple(request.additionalSecretOutputs),
                    protect=request.protect,
                    delete_before_replace=request.deleteBeforeReplace,
                    ignore_changes=tuple(request.ignoreChanges),
                    replace_on_changes=tuple(request.replaceOnChanges),
                    retain_on_delete=request.retainOnDelete,
                )
            )
        return response

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        """Read as MockMonitor does (a ``.get()`` of an existing resource), and record it."""
        response = super().ReadResource(request)
        self.reads.append(
            Read(
                type=request.type,
                name=request.name,
                id=request.id,
                urn=response.urn,
                parent=request.parent,
                provider=request.provider,
            )
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        """Record a component's registered outputs."""
        outputs = rpc.deserialize_properties(request.outputs, keep_unknowns=True)
        self.component_outputs[request.urn] = dict(outputs)
        return super().RegisterResourceOutputs(request)


@dataclass
class MockRun:
    """A configured mocks runtime: run programs in it, then inspect what they registered."""

    mocks: RecordingMocks
    monitor: RecordingMonitor
    config: dict[str, str] = field(default_factory=dict)

    @property
    def registrations(self) -> list[Registration]:
        """Every registration so far, in order."""
        return list(self.monitor.registrations)

    def run(self, program: Callable[[], T]) -> T:
        """Run ``program`` inside the Pulumi runtime and wait for every registration to finish."""
        result: list[T] = []
        _sync_await(run_pulumi_func(lambda: result.append(program())))
        return result[0]

    def resolve(self, output: pulumi.Output[Any]) -> tuple[Any, bool, bool]:
        """``(value, is_known, is_secret)`` of an Output once the run has finished."""
        value = _sync_await(output.future())
        known = _sync_await(output.is_known())
        secret = _sync_await(output.is_secret())
        return value, known, secret

    @property
    def reads(self) -> list[Read]:
        """Every read of an existing resource (``Resource.get``) so far, in order."""
        return list(self.monitor.reads)

    def of_type(self, type_token: str) -> list[Registration]:
        """Registrations of one type token, in order."""
        return [r for r in self.monitor.registrations if r.type == type_token]

    def one(self, type_token: str, name: str | None = None) -> Registration:
        """The single registration of a type (and name); fails if there are none or several."""
        found = [r for r in self.of_type(type_token) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {type_token} {name or ''}, found {len(found)}"
        return found[0]

    def by_urn(self, urn: str) -> Registration:
        """The registration with this URN."""
        return next(r for r in self.monitor.registrations if r.urn == urn)


def set_stack_config(config: Mapping[str, str], secret_keys: list[str] | None = None) -> None:
    """Install stack config the way the language host does (no environment writes)."""
    pulumi.runtime.set_all_config(dict(config), secret_keys or [])


def start_mock_run(*, preview: bool = False) -> MockRun:
    """Install a fresh recording mocks runtime (project ``pachyderm-okta``, stack ``dev``)."""
    mocks = RecordingMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.settings.SETTINGS.rpc_manager.clear()
    pulumi.runtime.settings.SETTINGS.outputs.clear()
    # A new root stack resource each run, as each `pulumi up` has: set_mocks keeps an existing
    # one, whose exports would then outlive the run that made them.
    pulumi.runtime.settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=STACK, preview=preview, monitor=monitor)
    return MockRun(mocks=mocks, monitor=monitor)


class OktaGroupLookupError(InvokeRefusedError):
    """What ``getGroup`` fails with when the search is empty or ambiguous (the provider's words)."""


@dataclass(frozen=True)
class OktaGroups:
    """Okta's groups as pulumi-okta's ``getGroup`` finds them by name, fuzzy match included.

    Models terraform-provider-okta ``okta/services/idaas/data_source_okta_group.go``
    (``findGroup``): the lookup lists ``/api/v1/groups?q=<name>``, which Okta answers with a
    starts-with match on the group name (Okta Groups API, ``q``). Of several results only an exact
    name is taken, else the lookup fails; a single result is returned whatever its name ("a fuzzy
    match is acceptable if query only returns one group"), with that group's own ``name``.
    """

    names: tuple[str, ...]
    """The names of the groups in the org."""

    @staticmethod
    def group_id(name: str) -> str:
        """The id Okta gives the group ``name`` in these mocks."""
        return f"00g-{name}"

    def get_group(self, args: dict[str, Any]) -> dict[str, Any]:
        """Answer ``okta:group/getGroup:getGroup`` as the provider would."""
        wanted = args["name"]
        found = [name for name in self.names if name.startswith(wanted)]
        if len(found) > 1:
            found = [name for name in found if name == wanted]
            if not found:
                raise OktaGroupLookupError(
                    f"group starting with name {wanted!r} matches several groups, "
                    "select a more precise name parameter"
                )
        if not found:
            raise OktaGroupLookupError(f"group with name {wanted!r} does not exist")
        (name,) = found
        return {
            "id": self.group_id(name),
            "name": name,
            "type": "OKTA_GROUP",
            "description": "",
            "includeUsers": args.get("includeUsers", False),
        }
