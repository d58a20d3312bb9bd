"""The lifecycle every Pachyderm auth provider shares: parse, compare pachd state, reach pachd.

A provider's props are one flat bag on the wire: the
:class:`~components.pachyderm_auth.pachd.Connection` (how pachd is reached) and its
``state_model`` (the pachd state it owns, the only fields ``diff`` compares). Why, and how a new
root token is carried: docs/decisions-provider.md, sections 1 and 2.

Rules every provider keeps: no state of its own (a client is opened inside each method);
``check`` and ``diff`` never call pachd and accept unknowns; ``update`` returns full outputs;
``read`` returns live state so drift shows on refresh; props are parsed by pydantic in every
method (the wire turns ints into floats and drops ``None`` keys); no message carries a credential.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar, Generic, TypeVar, cast

import grpc
import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)
from pydantic import BaseModel, ValidationError

from components.pachyderm_auth.credentials import credential_fields
from components.pachyderm_auth.pachd import Connection, PachdError, failure
from components.pachyderm_auth.port_forward_errors import PortForwardError, cluster_gone
from components.pachyderm_auth.props import (
    PachdState,
    Props,
    S,
    field_errors,
    is_unknown,
    normalised,
)
from components.pachyderm_auth.stack_connection import StackConnection

# pachd answers that a credential is refused, or cannot be reached at that address: the stored
# connection may still work where the configured one does not (or the other way round).
_WRONG_CONNECTION = frozenset({grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.UNAVAILABLE})

T = TypeVar("T")


class PachdProvider(ResourceProvider, Generic[S]):
    """Shared lifecycle; subclasses declare their state and implement ``_apply``/``_read``/...

    They may raise gRPC errors: :meth:`_run` turns them into redacted :class:`PachdError`.
    """

    state_model: ClassVar[type[PachdState]]
    resource_kind: ClassVar[str] = "resource"
    replace_on: ClassVar[frozenset[str]] = frozenset()
    """State fields whose change needs a new object in pachd."""
    delete_before_replace: ClassVar[bool] = False
    local_fields: ClassVar[frozenset[str]] = frozenset()
    """State Pulumi keeps that pachd never sees (what delete does): an update without a call."""
    output_fields: ClassVar[tuple[str, ...]] = ()
    """Outputs pachd computes; kept from the stored outputs when an update calls nothing, and
    never compared with the inputs (which cannot hold them)."""

    @classmethod
    def secret_outputs(cls) -> list[str]:
        """Outputs holding a credential: the resource's ``additional_secret_outputs``."""
        return list(
            dict.fromkeys([*credential_fields(Connection), *credential_fields(cls.state_model)])
        )

    def configure(self, req: ConfigureRequest) -> None:
        """Keep what the stack config says about the connection (called once per host)."""
        self._stack = StackConnection.from_config(req.config)

    @property
    def stack(self) -> StackConnection:
        """The configured connection; empty before ``configure`` (e.g. called directly)."""
        stack: StackConnection = getattr(self, "_stack", StackConnection())
        return stack

    def _parse(self, raw: Mapping[str, Any]) -> Props[S]:
        problems: list[tuple[str, str]] = []
        parsed: list[BaseModel] = []
        for model in (Connection, self.state_model):
            try:
                parsed.append(model.model_validate(dict(raw)))
            except ValidationError as error:
                problems.extend(field_errors(error))
        if problems:
            # pydantic's message quotes the input dict, root token and all: list fields only.
            listed = "; ".join(f"{field}: {message}" for field, message in dict.fromkeys(problems))
            raise ValueError(f"invalid {self.resource_kind} properties: {listed}")
        connection, state = parsed
        # The cluster credentials of a port-forward come from the stack config, never from state.
        connection = connection.model_copy(update={"kubernetes": self.stack.kubernetes})
        return Props(cast(Connection, connection), cast(S, state), tuple(self.stack.secrets))

    def _id(self, props: Props[S]) -> str:
        raise NotImplementedError

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate inputs without touching pachd; unknown values (preview) are accepted as is."""
        if is_unknown({k: v for k, v in news.items() if k != "__provider"}):
            return CheckResult(news, [])
        problems: list[tuple[str, str]] = []
        for model in (Connection, self.state_model):
            try:
                model.model_validate(dict(news))
            except ValidationError as error:
                problems.extend(field_errors(error))
        failures = [CheckFailure(field, message) for field, message in dict.fromkeys(problems)]
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Which pachd state differs between the stored outputs and the new inputs; no call.

        The default diff would also compare the pickled provider: any code change would update.
        """
        changed = [
            name
            for name in self.state_model.model_fields
            if name not in self.output_fields and _differs(olds, news, name)
        ]
        if "root_token" not in self.state_model.model_fields and self._credential_moves(
            olds.get("root_token"), news.get("root_token")
        ):
            changed.append("root_token")
        replaces = [name for name in changed if name in self.replace_on]
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            delete_before_replace=bool(replaces) and self.delete_before_replace,
        )

    def _credential_moves(self, stored: Any, new: Any) -> bool:
        """Whether a new root token must be stored: only if the stack config cannot supply it."""
        if is_unknown(new):
            return True
        return normalised(new) != normalised(stored) and new != self.stack.root_token

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Make pachd match the props; safe to re-run after any failure."""
        parsed = self._parse(props)
        extra = self._run(parsed, lambda: self._apply(parsed, None))
        return CreateResult(id_=self._id(parsed), outs={**parsed.outputs(), **extra})

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Make pachd match the new props if its state changed; returns every output."""
        previous = self._parse(olds)
        # The stored credentials (an old root token, an old client secret) stay redacted too.
        parsed = replace(self._parse(news), other_secrets=tuple(previous.secrets))
        outputs = {name: olds[name] for name in self.output_fields if name in olds}
        if self._pachd_changes(previous.state, parsed.state):
            outputs.update(self._run(parsed, lambda: self._apply(parsed, previous)))
        return UpdateResult(outs={**parsed.outputs(), **outputs})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Live state for ``pulumi refresh``; an object gone from pachd reads as deleted."""
        try:
            used, live = self._with_current_connection(self._parse(props), self._read)
        except PortForwardError as error:
            if not cluster_gone(error, self.stack.kubernetes.delete_unreachable):
                raise
            return ReadResult(None, {})
        if live is None:
            return ReadResult(None, {})
        kept = {name: props[name] for name in self.output_fields if name in props}
        return ReadResult(id_, {**used.outputs(), **kept, **live})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Remove what this resource owns from pachd; real failures raise."""
        self._delete_with(props, self._remove)

    def _delete_with(self, props: dict[str, Any], remove: Callable[[Props[S]], None]) -> None:
        """``remove`` with the current connection; a cluster that is gone took pachd with it."""
        try:
            self._with_current_connection(self._parse(props), remove)
        except PortForwardError as error:
            if not cluster_gone(error, self.stack.kubernetes.delete_unreachable):
                raise

    def _apply(self, props: Props[S], previous: Props[S] | None) -> dict[str, Any]:
        raise NotImplementedError

    def _read(self, props: Props[S]) -> dict[str, Any] | None:
        raise NotImplementedError

    def _remove(self, props: Props[S]) -> None:
        raise NotImplementedError

    def _pachd_changes(self, previous: PachdState, current: PachdState) -> list[str]:
        return [
            name
            for name in self.state_model.model_fields
            if name not in self.local_fields
            and name not in self.output_fields
            and normalised(getattr(previous, name)) != normalised(getattr(current, name))
        ]

    def _run(self, props: Props[S], action: Callable[[], T]) -> T:
        """Run ``action``; a pachd failure becomes a redacted :class:`PachdError`."""
        try:
            return action()
        except PachdError as error:
            raise error.redacted(props.secrets) from None
        except PortForwardError:
            raise  # already names the namespace, release, pod and the API's answer
        except (grpc.RpcError, ConnectionError) as error:
            what = f"{self.resource_kind} {self._id(props)!r}"
            raise failure(what, props.connection.endpoint, error, props.secrets) from None

    def _call(
        self,
        what: str,
        props: Props[S],
        action: Callable[[], T],
        hint: Callable[[BaseException], str] = lambda _error: "",
    ) -> T:
        """Run one named pachd call; on failure raise :func:`failure` for it (plus a hint)."""
        try:
            return action()
        except (grpc.RpcError, ConnectionError) as error:
            address = props.connection.endpoint
            raise failure(what, address, error, props.secrets, hint(error)) from None

    def _with_current_connection(
        self, stored: Props[S], action: Callable[[Props[S]], T]
    ) -> tuple[Props[S], T]:
        """``action`` with the connection the stack config names, then with the stored one.

        The stored one is tried only when pachd refused the credential or could not be reached.
        """
        current = replace(
            stored,
            connection=self.stack.over(stored.connection),
            other_secrets=tuple(stored.secrets),
        )
        first: PachdError | PortForwardError
        try:
            return current, self._run(current, lambda: action(current))
        except (PachdError, PortForwardError) as error:
            if current.connection == stored.connection or error.code not in _WRONG_CONNECTION:
                raise
            first = error
        try:
            return stored, self._run(stored, lambda: action(stored))
        except (PachdError, PortForwardError) as error:
            if error.code in _WRONG_CONNECTION:
                raise first from None
            raise


def _differs(olds: Mapping[str, Any], news: Mapping[str, Any], name: str) -> bool:
    new = news.get(name)
    return is_unknown(new) or normalised(new) != normalised(olds.get(name))


@dataclass(frozen=True)
class PachdArgs:
    """The inputs of one pachd object, typed as Pulumi inputs; field names are the wire names.

    Each resource module declares one subclass beside its provider's ``state_model``, which
    parses the same names on the provider side.
    """

    def props(self) -> dict[str, pulumi.Input[Any]]:
        """The fields as Pulumi stores them (shallow: Outputs stay Outputs)."""
        return {field.name: getattr(self, field.name) for field in fields(self)}


A = TypeVar("A", bound=PachdArgs)


class PachdResource(Resource, Generic[A]):
    """A pachd object: the connection plus its typed inputs in, the provider's outputs out.

    A subclass names its ``provider_type``. The outputs pachd computes (the provider's
    ``output_fields``) are registered as unknown placeholders so Pulumi returns them, and every
    credential the provider declares is an ``additional_secret_outputs`` entry
    (docs/decisions.md, decision 8).
    """

    provider_type: ClassVar[type[PachdProvider[Any]]]

    def __init__(
        self,
        name: str,
        connection: Mapping[str, pulumi.Input[Any]],
        args: A,
        opts: pulumi.ResourceOptions,
    ) -> None:
        provider = type(self).provider_type
        computed = dict.fromkeys(provider.output_fields)
        secret_outputs = pulumi.ResourceOptions(additional_secret_outputs=provider.secret_outputs())
        super().__init__(
            provider(),
            name,
            {**connection, **args.props(), **computed},
            pulumi.ResourceOptions.merge(opts, secret_outputs),
        )
