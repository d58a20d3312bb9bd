"""A Dex OIDC client (``pachd``, ``console``) in pachd's identity service.

An update cannot change the secret or empty a list, so either replaces the client
(docs/decisions.md, decision 43).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import grpc
import pulumi
from pachyderm_sdk.api import identity
from pulumi.dynamic import DiffResult

from components.pachyderm_auth.base import PachdArgs, PachdProvider, PachdResource
from components.pachyderm_auth.credentials import SECRET
from components.pachyderm_auth.pachd import is_status, pachd_client, unless_gone
from components.pachyderm_auth.props import PachdState, Props


class OidcClientState(PachdState):
    """A Dex client; ``secret`` is minted by Pulumi."""

    client_id: str
    name: str
    secret: Annotated[str, SECRET]
    redirect_uris: list[str]
    trusted_peers: list[str] = []


class OidcClientProvider(PachdProvider[OidcClientState]):
    """A Dex OIDC client. Dex cannot change a client's secret, so a new secret replaces it."""

    state_model = OidcClientState
    resource_kind = "OIDC client"
    replace_on = frozenset({"client_id", "secret"})
    # Same client id before and after: the old client must go first.
    delete_before_replace = True

    def _id(self, props: Props[OidcClientState]) -> str:
        return props.state.client_id

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """As for every provider, plus: emptying a list replaces the client."""
        result = super().diff(_id, olds, news)
        emptied = [
            name
            for name in ("redirect_uris", "trusted_peers")
            if olds.get(name) and isinstance(news.get(name), list) and not news[name]
        ]
        if not emptied:
            return result
        return DiffResult(
            changes=True,
            replaces=sorted({*(result.replaces or []), *emptied}),
            delete_before_replace=True,
        )

    @staticmethod
    def _client(state: OidcClientState, *, with_secret: bool) -> Any:
        return identity.OidcClient(
            id=state.client_id,
            name=state.name,
            secret=state.secret if with_secret else "",
            redirect_uris=list(state.redirect_uris),
            trusted_peers=list(state.trusted_peers),
        )

    def _apply(
        self, props: Props[OidcClientState], previous: Props[OidcClientState] | None
    ) -> dict[str, Any]:
        state = props.state
        named = f"OIDC client {state.client_id!r}"
        with pachd_client(props.connection) as client:
            if previous is None:
                try:
                    client.identity.create_oidc_client(client=self._client(state, with_secret=True))
                    return {}
                except (grpc.RpcError, ConnectionError) as error:
                    if not is_status(error, grpc.StatusCode.INTERNAL, "ID already exists"):
                        raise
                existing = self._call(
                    f"reading {named}",
                    props,
                    lambda: client.identity.get_oidc_client(id=state.client_id).client,
                )
                if existing.secret != state.secret:
                    # Left with another secret: pachd and the console present Pulumi's.
                    self._call(
                        f"deleting stale {named}",
                        props,
                        lambda: client.identity.delete_oidc_client(id=state.client_id),
                    )
                    self._call(
                        f"creating {named}",
                        props,
                        lambda: client.identity.create_oidc_client(
                            client=self._client(state, with_secret=True)
                        ),
                    )
                    return {}
            self._call(
                f"updating {named}",
                props,
                lambda: client.identity.update_oidc_client(
                    client=self._client(state, with_secret=False)
                ),
            )
        return {}

    def _read(self, props: Props[OidcClientState]) -> dict[str, Any] | None:
        client_id = props.state.client_id
        with pachd_client(props.connection) as client:
            live = unless_gone(
                lambda: client.identity.get_oidc_client(id=client_id).client,
                gone_when="ID does not exist",
            )
        if live is None:
            return None
        return {
            "name": live.name,
            "secret": live.secret,
            "redirect_uris": list(live.redirect_uris),
            "trusted_peers": list(live.trusted_peers),
        }

    def _remove(self, props: Props[OidcClientState]) -> None:
        client_id = props.state.client_id
        with pachd_client(props.connection) as client:
            unless_gone(
                lambda: client.identity.delete_oidc_client(id=client_id),
                gone_when="unable to find OIDC client",
            )


@dataclass(frozen=True)
class OidcClientArgs(PachdArgs):
    """Inputs of :class:`OidcClient` beside the connection."""

    client_id: str
    name: str
    secret: pulumi.Input[str]
    redirect_uris: list[pulumi.Input[str]]
    trusted_peers: list[str]


class OidcClient(PachdResource[OidcClientArgs], module="pachyderm", name="OidcClient"):
    """A Dex OIDC client (``pachd`` or ``console``)."""

    provider_type = OidcClientProvider
