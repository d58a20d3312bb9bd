"""One principal's role binding on one pachd resource; here, the CLUSTER.

Create reads what the principal held before (``roles_before``); delete gives exactly that back
(docs/decisions.md, decisions 35 and 42). :class:`BindingProvider` is that lifecycle for any
resource; the project and repo bindings (``resource_binding.py``) name their resource and what to
do when pachd has none.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
import pulumi
from pachyderm_sdk.api import auth
from pydantic import BaseModel, ConfigDict

from components.pachyderm_auth.base import PachdArgs, PachdProvider, PachdResource
from components.pachyderm_auth.pachd import (
    PachdError,
    grpc_status,
    pachd_client,
    unless_gone,
)
from components.pachyderm_auth.props import PachdState, Props

_CLUSTER = auth.Resource(type=auth.ResourceType.CLUSTER)
# pachd's answer to ModifyRoleBinding on a project or repo it has no binding for, i.e. one that
# does not exist (``ErrNoRoleBinding``, src/auth/auth.go); GetRoleBinding answers it with an
# empty binding instead (docs/decisions.md, decision 48).
NO_ROLE_BINDING = "no role binding exists for"


class RoleBindingState(PachdState):
    """A principal (``group:admins``, ``allClusterUsers``, ...) and its roles on the resource."""

    principal: str
    roles: list[str]


B = TypeVar("B", bound=RoleBindingState)


class _HeldBefore(BaseModel):
    """The stored ``roles_before``; absent in state written before it existed: nothing held."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    roles_before: list[str] | None = None


def _granted(binding: Any, principal: str) -> list[str]:
    """The roles ``binding`` (a ``RoleBinding``) grants ``principal``, sorted."""
    entry = binding.entries.get(principal) if binding is not None else None
    return sorted(role for role, granted in (entry.roles if entry else {}).items() if granted)


def _no_binding(error: BaseException) -> bool:
    return NO_ROLE_BINDING in grpc_status(error)[1]


class BindingProvider(PachdProvider[B]):
    """One principal's roles on :meth:`_resource`; delete gives back what it held before.

    ``roles`` is the principal's whole set (``ModifyRoleBinding`` replaces it); ``[]`` holds none.
    """

    output_fields = ("roles_before",)

    def _resource(self, state: B) -> auth.Resource:
        raise NotImplementedError

    def _missing(self, state: B) -> str:
        """What to do about a resource pachd lacks; the cluster always exists."""
        return ""

    def _modify(self, props: Props[B], roles: Sequence[str]) -> None:
        with pachd_client(props.connection) as client:
            client.auth.modify_role_binding(
                resource=self._resource(props.state),
                principal=props.state.principal,
                roles=sorted(roles),
            )

    def _apply(self, props: Props[B], previous: Props[B] | None) -> dict[str, Any]:
        if previous is not None:
            # roles_before stays what it was when the stack took the principal over.
            self._bind(props, props.state.roles, held=None)
            return {}
        principal = props.state.principal
        resource = self._resource(props.state)
        with pachd_client(props.connection) as client:
            held = self._call(
                f"reading the {self.resource_kind} of {principal!r}",
                props,
                lambda: _granted(
                    client.auth.get_role_binding(resource=resource).binding, principal
                ),
            )
        self._bind(props, props.state.roles, held=held)
        return {"roles_before": held}

    def _bind(self, props: Props[B], roles: Sequence[str], held: Sequence[str] | None) -> None:
        """Set the principal's roles; a create's failure first puts ``held`` back."""
        try:
            self._modify(props, roles)
        except (grpc.RpcError, ConnectionError) as error:
            missing = self._missing(props.state)
            if missing and _no_binding(error):
                # Nothing was applied: pachd refuses before it writes.
                code, _ = grpc_status(error)
                raise PachdError(missing, code=code) from None
            if held is not None:
                # pachd may have applied it and lost the answer: put the held roles back, so
                # the re-run reads them, not ours.
                with contextlib.suppress(grpc.RpcError, ConnectionError):
                    self._modify(props, held)
            raise

    def _read(self, props: Props[B]) -> dict[str, Any] | None:
        resource = self._resource(props.state)
        with pachd_client(props.connection) as client:
            binding = unless_gone(lambda: client.auth.get_role_binding(resource=resource).binding)
        if binding is None:
            return None
        roles = _granted(binding, props.state.principal)
        # A binding that holds no roles is the absence of an entry; one that should hold some
        # and holds none was removed.
        return {"roles": roles} if roles or not props.state.roles else None

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Give the principal back the roles it held before the stack bound it (none: unbind)."""
        before = _HeldBefore.model_validate(props).roles_before or []
        self._delete_with(
            props, lambda parsed: unless_gone(lambda: self._modify(parsed, before), NO_ROLE_BINDING)
        )


class RoleBindingProvider(BindingProvider[RoleBindingState]):
    """One principal's CLUSTER roles; delete gives back what the principal held before."""

    state_model = RoleBindingState
    resource_kind = "cluster role binding"
    replace_on = frozenset({"principal"})

    def _id(self, props: Props[RoleBindingState]) -> str:
        return f"cluster/{props.state.principal}"

    def _resource(self, state: RoleBindingState) -> auth.Resource:
        return _CLUSTER


@dataclass(frozen=True)
class RoleBindingArgs(PachdArgs):
    """Inputs of :class:`ClusterRoleBinding` beside the connection."""

    principal: str
    roles: list[str]


class ClusterRoleBinding(
    PachdResource[RoleBindingArgs], module="pachyderm", name="ClusterRoleBinding"
):
    """One principal's roles on the CLUSTER resource."""

    provider_type = RoleBindingProvider
    roles_before: pulumi.Output[list[str]]
    """The principal's cluster roles before this binding was created; destroy restores them."""
