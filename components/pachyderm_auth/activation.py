"""Auth activation: auth on with the stack's root token (2.11: license and enterprise first).

The activation is the one resource that owns the root token in pachd: a new token is rotated
with ``RotateRootToken``. Delete leaves auth active unless the stack asks otherwise.

Sequences follow ``pachctl auth activate`` (``ActivateCmd``, pachyderm/pachyderm
src/server/auth/cmds/cmds.go) and, on 2.11, ``pachctl license activate`` (2.11.x
src/server/license/cmds/cmds.go): the server checks the caller's token before it says "already
activated" (``activateInTransaction``, src/server/auth/server/api_server.go).
"""

from __future__ import annotations

from typing import Annotated, Any

import grpc
import pulumi
from pachyderm_sdk.api import enterprise
from pulumi.dynamic import Resource

from components.pachyderm_auth.base import PachdProvider, with_secret_outputs
from components.pachyderm_auth.credentials import SECRET
from components.pachyderm_auth.pachd import (
    PachdError,
    describe,
    failure,
    is_status,
    not_activated,
    pachd_client,
    unless_gone,
    wait_until_ready,
)
from components.pachyderm_auth.props import PachdState, Props

# The peer address pachd uses for its own license server on a single cluster, as
# `pachctl license activate` passes it: interpreted inside the pod (2.11.x
# src/server/license/cmds/cmds.go).
LICENSE_SERVER_ADDRESS = "grpc://localhost:1653"
LICENSE_CLUSTER_ID = "localhost"
ROOT_PRINCIPAL = "pach:root"


class ActivationState(PachdState):
    """What the activation owns: the root token, the 2.11 licence, and what delete does."""

    root_token: Annotated[str, SECRET]
    license_key: Annotated[str, SECRET] = ""
    enterprise_secret: Annotated[str, SECRET] = ""
    deactivate_on_delete: bool = False


def foreign_token_message(address: str, status: str) -> str:
    """How to recover when auth is active under a root token this stack does not hold."""
    return (
        f"pachd at {address} already has auth active and rejects this stack's root token "
        f"({status}). Pachyderm never returns an existing root token, so either adopt the cluster "
        "with its current root token: `pulumi config set --secret pachyderm-okta:rootToken "
        "<token>`, or, logged in as a cluster admin, rotate it with `pachctl auth "
        "rotate-root-token` and store the token it prints the same way."
    )


class ActivationProvider(PachdProvider[ActivationState]):
    """Activates auth with the stack's root token and rotates it when it changes."""

    state_model = ActivationState
    resource_kind = "auth activation"
    local_fields = frozenset({"deactivate_on_delete"})
    output_fields = ("pachd_version",)

    def _id(self, props: Props[ActivationState]) -> str:
        return "pachyderm-auth"

    def _apply(
        self, props: Props[ActivationState], previous: Props[ActivationState] | None
    ) -> dict[str, Any]:
        if previous is not None:
            old, new = previous.state, props.state
            licence_changed = (old.license_key, old.enterprise_secret) != (
                new.license_key,
                new.enterprise_secret,
            )
            if old.root_token != new.root_token:
                still_active = self._rotate_root_token(props, old.root_token)
                if still_active and not licence_changed:
                    return {}
        return self._activate(props)

    def _rotate_root_token(self, props: Props[ActivationState], old_token: str) -> bool:
        """Rotate to the new token; ``False`` if auth turned out to be off (nothing to rotate)."""
        wait_until_ready(props.connection)
        with_old_token = props.connection.model_copy(update={"root_token": old_token})
        address = props.connection.endpoint
        with pachd_client(with_old_token) as client:
            try:
                client.auth.rotate_root_token(root_token=props.state.root_token)
                return True
            except (grpc.RpcError, ConnectionError) as error:
                if not_activated(error):
                    # Deactivated behind Pulumi's back: the activation that follows uses the
                    # new token.
                    return False
                if not is_status(error, grpc.StatusCode.UNAUTHENTICATED):
                    raise failure(
                        "rotating the root token", address, error, props.secrets
                    ) from None
                status = describe(error, props.secrets)
        # The old token is refused: an earlier update rotated it and failed further on (the
        # engine then keeps the old outputs). Resume if the new token already is the root.
        with pachd_client(props.connection) as client:
            try:
                username = client.auth.who_am_i().username
            except (grpc.RpcError, ConnectionError):
                username = ""
        if username != ROOT_PRINCIPAL:
            raise PachdError(
                foreign_token_message(address, status), code=grpc.StatusCode.UNAUTHENTICATED
            )
        return True

    def _activate(self, props: Props[ActivationState]) -> dict[str, Any]:
        major, minor, micro = wait_until_ready(props.connection)
        with pachd_client(props.connection) as client:
            if (major, minor) < (2, 12):
                self._activate_enterprise(client, props)
            self._activate_auth(client, props)
        return {"pachd_version": f"{major}.{minor}.{micro}"}

    def _activate_enterprise(self, client: Any, props: Props[ActivationState]) -> None:
        """Pachyderm 2.11 refuses auth until enterprise is ACTIVE (2.11.x ``Activate``)."""
        state = props.state
        if self._call("enterprise GetState", props, client.enterprise.get_state).state == (
            enterprise.State.ACTIVE
        ):
            return
        if not state.license_key:
            raise PachdError(
                f"pachd at {props.connection.endpoint} is Pachyderm 2.11, which needs an "
                "enterprise license before auth: set `pulumi config set --secret "
                "pachyderm-okta:licenseKey`"
            )
        self._call(
            "license Activate",
            props,
            lambda: client.license.activate(activation_code=state.license_key),
        )
        cluster = self._call("admin InspectCluster", props, client.admin.inspect_cluster)
        registration = {
            "id": LICENSE_CLUSTER_ID,
            "address": LICENSE_SERVER_ADDRESS,
            "user_address": LICENSE_SERVER_ADDRESS,
            "cluster_deployment_id": cluster.deployment_id,
            "secret": state.enterprise_secret,
        }
        try:
            client.license.add_cluster(enterprise_server=True, **registration)
        except (grpc.RpcError, ConnectionError) as error:
            # A re-run after a failure further on: the cluster is registered with our secret.
            if not is_status(error, grpc.StatusCode.UNIMPLEMENTED, "cluster ID is not unique"):
                raise
            self._call(
                "license UpdateCluster",
                props,
                lambda: client.license.update_cluster(**registration),
            )
        self._call(
            "enterprise Activate",
            props,
            lambda: client.enterprise.activate(
                license_server=LICENSE_SERVER_ADDRESS,
                id=LICENSE_CLUSTER_ID,
                secret=state.enterprise_secret,
            ),
        )

    def _activate_auth(self, client: Any, props: Props[ActivationState]) -> None:
        address = props.connection.endpoint
        try:
            client.auth.activate(root_token=props.state.root_token)
        except (grpc.RpcError, ConnectionError) as error:
            if is_status(error, grpc.StatusCode.UNAUTHENTICATED):
                status = describe(error, props.secrets)
                raise PachdError(
                    foreign_token_message(address, status), code=grpc.StatusCode.UNAUTHENTICATED
                ) from None
            if not is_status(error, grpc.StatusCode.UNIMPLEMENTED, "already activated"):
                raise
            # pachd checks the caller's token before saying "already activated", so our token is
            # valid; it must also be the root token, or we would manage a cluster with someone
            # else's credentials.
            username = self._call("auth WhoAmI", props, client.auth.who_am_i).username
            if username != ROOT_PRINCIPAL:
                raise PachdError(
                    f"pachd at {address} accepts this stack's root token as {username!r}, not "
                    f"{ROOT_PRINCIPAL!r}: set pachyderm-okta:rootToken to the cluster's root token"
                ) from None
        # Idempotent in pachd ("exists" errors are ignored, ``ActivateAuthInTransaction`` in
        # src/server/pfs/server/api_server.go), and the only way to finish after a failure
        # between Activate and here.
        self._call("pfs ActivateAuth", props, client.pfs.activate_auth)
        self._call("pps ActivateAuth", props, client.pps.activate_auth)

    def _read(self, props: Props[ActivationState]) -> dict[str, Any] | None:
        with pachd_client(props.connection) as client:
            try:
                username = client.auth.who_am_i().username
            except (grpc.RpcError, ConnectionError) as error:
                if not_activated(error):
                    return None
                if is_status(error, grpc.StatusCode.UNAUTHENTICATED):
                    status = describe(error, props.secrets)
                    raise PachdError(
                        foreign_token_message(props.connection.endpoint, status),
                        code=grpc.StatusCode.UNAUTHENTICATED,
                    ) from None
                raise
        return {"root_principal": username}

    def _remove(self, props: Props[ActivationState]) -> None:
        if not props.state.deactivate_on_delete:
            # Deactivation wipes every role binding, token, Dex client and connector: only when
            # the stack asks for it.
            return
        with pachd_client(props.connection) as client:
            # What `pachctl auth deactivate` does (``DeactivateCmd``, src/server/auth/cmds/
            # cmds.go): identity.DeleteAll, then auth.Deactivate.
            unless_gone(lambda: (client.identity.delete_all(), client.auth.deactivate()))


class AuthActivation(Resource, module="pachyderm", name="AuthActivation"):
    """Pachyderm auth, activated with the stack's root token."""

    pachd_version: pulumi.Output[str]
    """The pachd version that was activated, e.g. ``2.12.2``."""

    def __init__(
        self, name: str, props: dict[str, pulumi.Input[Any]], opts: pulumi.ResourceOptions
    ) -> None:
        super().__init__(
            ActivationProvider(),
            name,
            {**props, "pachd_version": None},
            with_secret_outputs(ActivationProvider, opts),
        )
