"""The Okta connector in pachd's Dex (``identity_v2`` IDP connector).

pachd accepts an update only with exactly the stored ``config_version`` + 1, so every update
reads the connector first; someone may have changed it outside Pulumi (``updateConnector``,
pachyderm/pachyderm src/server/identity/server/dex_api.go). Create adopts a connector left by a
run whose response was lost. Every create/update makes pachd open the connector, which for
``oidc`` means OIDC discovery against Okta (``validateConnector``, same file).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import betterproto
import grpc
import pulumi
from pachyderm_sdk.api import identity
from pulumi.dynamic import Resource

from components.connector_errors import connector_refusal_message
from components.pachyderm_auth.base import PachdProvider, with_secret_outputs
from components.pachyderm_auth.credentials import Credential
from components.pachyderm_auth.pachd import (
    PachdError,
    describe,
    env_managed_hint,
    failure,
    is_status,
    pachd_client,
    unless_gone,
)
from components.pachyderm_auth.props import PachdState, Props


class ConnectorState(PachdState):
    """The connector as pachd stores it; ``config`` carries the Okta client secret."""

    connector_id: str
    name: str
    type: str = "oidc"
    config: Annotated[dict[str, Any], Credential(keys=("clientSecret",))]


def _struct_value(value: Any) -> Any:
    """A ``google.protobuf.Value`` (betterproto) as plain Python; numbers come back as floats."""
    kind, item = betterproto.which_one_of(value, "kind")
    if kind == "struct_value" and item is not None:
        return {key: _struct_value(field) for key, field in item.fields.items()}
    if kind == "list_value" and item is not None:
        return [_struct_value(element) for element in item.values]
    if kind == "null_value":
        return None
    return item


def connector_config(connector: Any) -> dict[str, Any]:
    """The config of a connector as pachd returns it (a Struct, never ``json_config``)."""
    if connector.config is not None and connector.config.fields:
        return {key: _struct_value(value) for key, value in connector.config.fields.items()}
    return dict(json.loads(connector.json_config or "{}"))


def refusal_hint(props: Props[ConnectorState], error: BaseException) -> str:
    """What to add to pachd's refusal of a connector create or update; ``""`` if nothing."""
    state = props.state
    refusal = connector_refusal_message(
        state.connector_id, str(state.config.get("issuer", "")), describe(error, props.secrets)
    )
    return env_managed_hint(error) + (f" - {refusal}" if refusal else "")


class ConnectorProvider(PachdProvider[ConnectorState]):
    """The Okta connector in pachd's Dex; updates send the stored version + 1."""

    state_model = ConnectorState
    resource_kind = "IDP connector"
    replace_on = frozenset({"connector_id"})
    delete_before_replace = True
    output_fields = ("config_version",)

    def _id(self, props: Props[ConnectorState]) -> str:
        return props.state.connector_id

    def _connector(self, state: ConnectorState, version: int) -> Any:
        # json_config, not config: betterproto's Struct.from_dict silently yields an EMPTY Struct,
        # which pachd rejects on create and ignores on update (``PickConfig``,
        # src/server/identityutil/identityutil.go).
        return identity.IdpConnector(
            id=state.connector_id,
            name=state.name,
            type=state.type,
            config_version=version,
            json_config=json.dumps(state.config, sort_keys=True),
        )

    def _apply(
        self, props: Props[ConnectorState], previous: Props[ConnectorState] | None
    ) -> dict[str, Any]:
        state = props.state
        with pachd_client(props.connection) as client:
            if previous is None:
                try:
                    client.identity.create_idp_connector(connector=self._connector(state, 0))
                except (grpc.RpcError, ConnectionError) as error:
                    # Left over by a run whose response was lost, or made by hand: adopt it.
                    if not is_status(error, grpc.StatusCode.INTERNAL, "ID already exists"):
                        raise self.refused(props, "creating", error) from None
                else:
                    return {"config_version": 0}
            stored = self._call(
                f"reading IDP connector {state.connector_id!r}",
                props,
                lambda: client.identity.get_idp_connector(id=state.connector_id).connector,
            )
            version = int(stored.config_version) + 1
            try:
                client.identity.update_idp_connector(connector=self._connector(state, version))
            except (grpc.RpcError, ConnectionError) as error:
                raise self.refused(props, "updating", error) from None
        return {"config_version": version}

    def refused(self, props: Props[ConnectorState], verb: str, error: BaseException) -> PachdError:
        """The error for a connector create or update pachd refused: the one place it is built.

        Explanations of pachd's refusals belong in :func:`refusal_hint`
        (:func:`components.connector_errors.connector_refusal_message` for "unable to open
        connector").
        """
        what = f"{verb} IDP connector {props.state.connector_id!r}"
        address = props.connection.endpoint
        return failure(what, address, error, props.secrets, refusal_hint(props, error))

    def _read(self, props: Props[ConnectorState]) -> dict[str, Any] | None:
        connector_id = props.state.connector_id
        with pachd_client(props.connection) as client:
            connector = unless_gone(
                lambda: client.identity.get_idp_connector(id=connector_id).connector,
                gone_when="ID does not exist",
            )
        if connector is None:
            return None
        return {
            "name": connector.name,
            "type": connector.type,
            "config": connector_config(connector),
            "config_version": int(connector.config_version),
        }

    def _remove(self, props: Props[ConnectorState]) -> None:
        connector_id = props.state.connector_id
        with pachd_client(props.connection) as client:
            unless_gone(
                lambda: client.identity.delete_idp_connector(id=connector_id),
                gone_when="not found",
            )


class IdpConnector(Resource, module="pachyderm", name="IdpConnector"):
    """The Okta connector in pachd's Dex."""

    config_version: pulumi.Output[int]
    """The connector's ``configVersion`` in pachd after the last create or update."""

    def __init__(
        self, name: str, props: dict[str, pulumi.Input[Any]], opts: pulumi.ResourceOptions
    ) -> None:
        super().__init__(
            ConnectorProvider(),
            name,
            {**props, "config_version": None},
            with_secret_outputs(ConnectorProvider, opts),
        )
