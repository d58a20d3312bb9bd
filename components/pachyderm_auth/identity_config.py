"""Dex's identity server config: issuer and both token expiries, always sent together.

pachd has no "unset": delete leaves the last config in place (docs/decisions.md, decision 43).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pachyderm_sdk.api import identity

from components.pachyderm_auth.base import PachdArgs, PachdProvider, PachdResource
from components.pachyderm_auth.pachd import env_managed_hint, pachd_client, unless_gone
from components.pachyderm_auth.props import PachdState, Props


class IdentityConfigState(PachdState):
    """Dex's issuer and token lifetimes (Go durations such as ``24h``)."""

    issuer: str
    id_token_expiry: str
    rotation_token_expiry: str


class IdentityConfigProvider(PachdProvider[IdentityConfigState]):
    """Dex's issuer and token expiries; delete leaves the last config in place."""

    state_model = IdentityConfigState
    resource_kind = "identity server config"

    def _id(self, props: Props[IdentityConfigState]) -> str:
        return "identity-server-config"

    def _apply(
        self, props: Props[IdentityConfigState], previous: Props[IdentityConfigState] | None
    ) -> dict[str, Any]:
        config = identity.IdentityServerConfig(**props.state.model_dump())
        with pachd_client(props.connection) as client:
            self._call(
                "setting the identity server config",
                props,
                lambda: client.identity.set_identity_server_config(config=config),
                env_managed_hint,
            )
        return {}

    def _read(self, props: Props[IdentityConfigState]) -> dict[str, Any] | None:
        with pachd_client(props.connection) as client:
            config = unless_gone(lambda: client.identity.get_identity_server_config().config)
        if config is None:
            return None
        return {
            "issuer": config.issuer,
            "id_token_expiry": config.id_token_expiry,
            "rotation_token_expiry": config.rotation_token_expiry,
        }

    def _remove(self, props: Props[IdentityConfigState]) -> None:
        return


@dataclass(frozen=True)
class IdentityConfigArgs(PachdArgs):
    """Inputs of :class:`IdentityServerConfig` beside the connection."""

    issuer: pulumi.Input[str]
    id_token_expiry: str
    rotation_token_expiry: str


class IdentityServerConfig(
    PachdResource[IdentityConfigArgs], module="pachyderm", name="IdentityServerConfig"
):
    """Dex's issuer and token expiries."""

    provider_type = IdentityConfigProvider
