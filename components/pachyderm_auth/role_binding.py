"""One principal's role binding on the CLUSTER resource.

Create reads what the principal held before (``roles_before``); delete gives exactly that back
(docs/decisions.md, decisions 35 and 42).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import pulumi
from pachyderm_sdk.api import auth
from pydantic import BaseModel, ConfigDict

from components.pachyderm_auth.base import PachdArgs, PachdProvider, PachdResource
from components.pachyderm_auth.pachd import pachd_client, unless_gone
from components.pachyderm_auth.props import PachdState, Props

_CLUSTER = auth.Resource(type=auth.ResourceType.CLUSTER)


class RoleBindingState(PachdState):
    """A principal (``group:admins``, ``allClusterUsers``, ...) and its cluster roles."""

    principal: str
    roles: list[str]


class _HeldBefore(BaseModel):
    """The stored ``roles_before``; absent in state written before it existed: nothing held."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    roles_before: list[str] | None = None


def _granted(binding: Any, principal: str) -> list[str]:
    """The roles ``binding`` (a CLUSTER ``RoleBinding``) grants ``principal``, sorted."""
    entry = binding.entries.get(principal) if binding is not None else None
    return sorted(role for role, granted in (entry.roles if entry else {}).items() if granted)


class RoleBindingProvider(PachdProvider[RoleBindingState]):
    """One principal's CLUSTER roles; delete gives back what the principal held before."""

    state_model = RoleBindingState
    resource_kind = "cluster role binding"
    replace_on = frozenset({"principal"})
    output_fields = ("roles_before",)

    def _id(self, props: Props[RoleBindingState]) -> str:
        return f"cluster/{props.state.principal}"

    def _modify(self, props: Props[RoleBindingState], roles: Sequence[str]) -> None:
        with pachd_client(props.connection) as client:
            client.auth.modify_role_binding(
                resource=_CLUSTER, principal=props.state.principal, roles=sorted(roles)
            )

    def _apply(
        self, props: Props[RoleBindingState], previous: Props[RoleBindingState] | None
    ) -> dict[str, Any]:
        if previous is not None:
            # roles_before stays what it was when the stack took the principal over.
            self._modify(props, props.state.roles)
            return {}
        principal = props.state.principal
        with pachd_client(props.connection) as client:
            held = self._call(
                f"reading the cluster role binding of {principal!r}",
                props,
                lambda: _granted(
                    client.auth.get_role_binding(resource=_CLUSTER).binding, principal
                ),
            )
        try:
            self._modify(props, props.state.roles)
        except (grpc.RpcError, ConnectionError):
            # pachd may have applied it and lost the answer: put the held roles back, so the
            # re-run reads them, not ours.
            with contextlib.suppress(grpc.RpcError, ConnectionError):
                self._modify(props, held)
            raise
        return {"roles_before": held}

    def _read(self, props: Props[RoleBindingState]) -> dict[str, Any] | None:
        with pachd_client(props.connection) as client:
            binding = unless_gone(lambda: client.auth.get_role_binding(resource=_CLUSTER).binding)
        if binding is None:
            return None
        roles = _granted(binding, props.state.principal)
        return {"roles": roles} if roles else None

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Give the principal back the roles it held before the stack bound it (none: unbind)."""
        before = _HeldBefore.model_validate(props).roles_before or []
        self._delete_with(props, lambda parsed: unless_gone(lambda: self._modify(parsed, before)))


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
