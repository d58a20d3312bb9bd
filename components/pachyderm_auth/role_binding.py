"""One principal's role binding on the CLUSTER resource.

``ModifyRoleBinding`` replaces the principal's whole role set and an empty list deletes the
binding (``ModifyRoleBindingInTransaction``, pachyderm/pachyderm
src/server/auth/server/api_server.go), so neither update nor delete needs a read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
from pachyderm_sdk.api import auth
from pulumi.dynamic import Resource

from components.pachyderm_auth.base import PachdProvider, with_secret_outputs
from components.pachyderm_auth.pachd import pachd_client, unless_gone
from components.pachyderm_auth.props import PachdState, Props

_CLUSTER = auth.Resource(type=auth.ResourceType.CLUSTER)


class RoleBindingState(PachdState):
    """A principal (``group:admins``, ``allClusterUsers``, ...) and its cluster roles."""

    principal: str
    roles: list[str]


class RoleBindingProvider(PachdProvider[RoleBindingState]):
    """One principal's CLUSTER roles; delete removes exactly that principal's binding."""

    state_model = RoleBindingState
    resource_kind = "cluster role binding"
    replace_on = frozenset({"principal"})

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
        self._modify(props, props.state.roles)
        return {}

    def _read(self, props: Props[RoleBindingState]) -> dict[str, Any] | None:
        with pachd_client(props.connection) as client:
            binding = unless_gone(lambda: client.auth.get_role_binding(resource=_CLUSTER).binding)
        if binding is None:
            return None
        entry = binding.entries.get(props.state.principal)
        roles = sorted(role for role, granted in (entry.roles if entry else {}).items() if granted)
        return {"roles": roles} if roles else None

    def _remove(self, props: Props[RoleBindingState]) -> None:
        unless_gone(lambda: self._modify(props, []))


class ClusterRoleBinding(Resource, module="pachyderm", name="ClusterRoleBinding"):
    """One principal's roles on the CLUSTER resource."""

    def __init__(
        self, name: str, props: dict[str, pulumi.Input[Any]], opts: pulumi.ResourceOptions
    ) -> None:
        super().__init__(
            RoleBindingProvider(), name, dict(props), with_secret_outputs(RoleBindingProvider, opts)
        )
