"""pachd's OIDC configuration; delete leaves it, as pachd has no "unset" (decision 43)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import pulumi
from pachyderm_sdk.api import auth

from components.pachyderm_auth.base import PachdArgs, PachdProvider, PachdResource
from components.pachyderm_auth.credentials import SECRET
from components.pachyderm_auth.pachd import pachd_client, unless_gone
from components.pachyderm_auth.props import PachdState, Props


class AuthConfigState(PachdState):
    """pachd's OIDC client settings; ``client_secret`` is the ``pachd`` Dex client's."""

    issuer: str
    client_id: str
    client_secret: Annotated[str, SECRET]
    redirect_uri: str
    scopes: list[str]
    localhost_issuer: bool = True
    user_accessible_issuer_host: str = ""
    require_email_verified: bool = False


class AuthConfigProvider(PachdProvider[AuthConfigState]):
    """pachd's OIDC client configuration; delete leaves it (it goes with deactivation)."""

    state_model = AuthConfigState
    resource_kind = "auth OIDC configuration"

    def _id(self, props: Props[AuthConfigState]) -> str:
        return "auth-oidc-config"

    def _apply(
        self, props: Props[AuthConfigState], previous: Props[AuthConfigState] | None
    ) -> dict[str, Any]:
        configuration = auth.OidcConfig(**props.state.model_dump())
        with pachd_client(props.connection) as client:
            self._call(
                "auth SetConfiguration",
                props,
                lambda: client.auth.set_configuration(configuration=configuration),
            )
        return {}

    def _read(self, props: Props[AuthConfigState]) -> dict[str, Any] | None:
        with pachd_client(props.connection) as client:
            live = unless_gone(lambda: client.auth.get_configuration().configuration)
        if live is None:
            return None
        return {name: getattr(live, name) for name in AuthConfigState.model_fields} | {
            "scopes": list(live.scopes)
        }

    def _remove(self, props: Props[AuthConfigState]) -> None:
        return


@dataclass(frozen=True)
class AuthConfigArgs(PachdArgs):
    """Inputs of :class:`AuthConfig` beside the connection."""

    issuer: pulumi.Input[str]
    client_id: str
    client_secret: pulumi.Input[str]
    redirect_uri: pulumi.Input[str]
    scopes: list[str]
    localhost_issuer: bool
    user_accessible_issuer_host: pulumi.Input[str]
    require_email_verified: bool


class AuthConfig(PachdResource[AuthConfigArgs], module="pachyderm", name="AuthConfig"):
    """pachd's OIDC configuration."""

    provider_type = AuthConfigProvider
