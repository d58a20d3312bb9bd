"""The Okta connector in pachd's Dex, and what pachd's refusal of it means.

An update must carry the stored ``config_version`` + 1, so every update reads the connector
first (docs/decisions.md, decisions 40 and 43).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any

import betterproto
import grpc
import pulumi
from pachyderm_sdk.api import identity

from components.pachyderm_auth.base import PachdArgs, PachdProvider, PachdResource
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


# -- what pachd's refusal to open the connector means (docs/decisions.md, 39) --------------------

# pachd's wording for a connector Dex could not open (dex_api.go `validateConnector`).
_UNABLE_TO_OPEN = "unable to open connector"
# go-oidc `NewProvider`: the discovery document names another issuer.
_ISSUER_MISMATCH = re.compile(
    r'issuer did not match the issuer returned by provider, expected "[^"]*" got "(?P<got>[^"]*)"'
)
# go-oidc `NewProvider`: Okta answered the discovery URL with a non-200 status.
_HTTP_STATUS = re.compile(r"failed to get provider: (?P<status>[1-5]\d\d [^:]*):")
# net/http's client error: the request never got an answer.
_TRANSPORT = re.compile(r'failed to get provider: Get "[^"]*": (?P<reason>.+)$')

# The stack keys that decide the issuer the connector tries.
ISSUER_KEYS = ("okta:orgName", "okta:baseUrl", "pachyderm-okta:okta.authorizationServer")
# The Helm values that give pachd a way out through an HTTP proxy (the chart's `global.proxy`,
# `global.noProxy`, and `global.customCaCerts` for a proxy that re-signs TLS).
EGRESS_KEYS = (
    "pachyderm-okta:pachyderm.values.global.proxy",
    "pachyderm-okta:pachyderm.values.global.noProxy",
    "pachyderm-okta:pachyderm.values.global.customCaCerts",
)


def connector_refusal_message(connector_id: str, issuer: str, details: str) -> str | None:
    """Explain pachd's refusal to open connector ``connector_id``, or ``None`` for other errors.

    ``issuer`` is the issuer the connector tried; ``details`` is pachd's error text (gRPC
    details, possibly prefixed with the status code), already free of secrets.
    """
    if _UNABLE_TO_OPEN not in details:
        return None
    discovery_url = f"{issuer.rstrip('/')}/.well-known/openid-configuration"
    mismatch = _ISSUER_MISMATCH.search(details)
    http_status = _HTTP_STATUS.search(details)
    transport = _TRANSPORT.search(details)
    if mismatch:
        what = (
            f"Okta's discovery document at {discovery_url} names the issuer "
            f'"{mismatch.group("got")}", not "{issuer}", and Dex compares the two byte for byte'
        )
    elif http_status:
        what = f"Okta answered {discovery_url} with {http_status.group('status')}"
    elif transport:
        what = f"the pachd pod could not fetch {discovery_url}: {transport.group('reason')}"
    else:
        what = f"OIDC discovery at {discovery_url} failed"
    issuer_cause = (
        f"the issuer does not match what Okta reports: it is decided by {', '.join(ISSUER_KEYS)} "
        "and, for a custom authorization server, by that server's issuer mode in Okta "
        "(ORG_URL or CUSTOM_URL); check them and run `pulumi up` again"
    )
    route_cause = (
        "the pachd pods have no route to Okta: Dex runs inside pachd, so the cluster must allow "
        f"egress from the pachd pods to {_host(issuer)}:443 (NetworkPolicy, firewall, DNS); "
        f"behind an HTTP proxy set {', '.join(EGRESS_KEYS)}"
    )
    causes = (
        [route_cause, issuer_cause] if transport and not mismatch else [issuer_cause, route_cause]
    )
    return (
        f"pachd could not open IDP connector {connector_id!r} with issuer {issuer!r}: "
        f"pachd opens it by OIDC discovery from inside its pod, and {what}. "
        f"The two usual causes: (1) {causes[0]}; (2) {causes[1]}."
    )


def _host(issuer: str) -> str:
    """The host part of an issuer URL (the issuer itself if it has no ``scheme://``)."""
    _, separator, rest = issuer.partition("://")
    return rest.split("/", 1)[0] if separator else issuer


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
        # json_config, not config: betterproto's Struct would arrive empty (decision 43).
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
        (:func:`connector_refusal_message` for "unable to open connector").
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


@dataclass(frozen=True)
class ConnectorArgs(PachdArgs):
    """Inputs of :class:`IdpConnector` beside the connection; ``config`` is a secret."""

    connector_id: str
    name: str
    type: str
    config: pulumi.Input[dict[str, Any]]


class IdpConnector(PachdResource[ConnectorArgs], module="pachyderm", name="IdpConnector"):
    """The Okta connector in pachd's Dex."""

    provider_type = ConnectorProvider
    config_version: pulumi.Output[int]
    """The connector's ``configVersion`` in pachd after the last create or update."""
