"""Auth activation: auth on with the stack's root token (2.11: license and enterprise first).

The one resource that owns the root token in pachd: a new token is rotated. The sequences follow
``pachctl`` (docs/decisions.md, decision 43).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import grpc
import pulumi
from pachyderm_sdk.api import enterprise

from components.pachyderm_auth.base import PachdArgs, PachdProvider, PachdResource
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

# pachd's own license server on a single cluster, as seen from inside the pod.
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
        "with its current root token: `pulumi config set --secret pachyderm-okta:rootToken` "
        "(it asks for the token), or, logged in as a cluster admin, rotate it with `pachctl auth "
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
        version = wait_until_ready(props.connection)
        old = previous.state if previous is not None else None
        if old is None:
            return self._activate(props, version, None)
        if old.root_token != props.state.root_token and not self._rotate_root_token(
            props, old.root_token
        ):
            # Deactivated behind Pulumi's back: activate again, with the new token.
            return self._activate(props, version, old)
        if _needs_licence(version) and _licence(old) != _licence(props.state):
            with pachd_client(props.connection) as client:
                self._change_licence(client, props, old)
        return _version_output(version)

    def _rotate_root_token(self, props: Props[ActivationState], old_token: str) -> bool:
        """Rotate to the new token; ``False`` if auth turned out to be off (nothing to rotate)."""
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

    def _activate(
        self,
        props: Props[ActivationState],
        version: tuple[int, int, int],
        old: ActivationState | None,
    ) -> dict[str, Any]:
        with pachd_client(props.connection) as client:
            if _needs_licence(version):
                self._activate_enterprise(client, props, old)
            self._activate_auth(client, props)
        return _version_output(version)

    def _activate_enterprise(
        self, client: Any, props: Props[ActivationState], old: ActivationState | None
    ) -> None:
        """Pachyderm 2.11 refuses auth until enterprise is ACTIVE; ``old`` is the stored state.

        On a cluster whose enterprise is already ACTIVE when the stack first activates it (an
        adopted cluster, or a create resumed after a failure), the stack's licence and enterprise
        secret are registered all the same: a later licence change authenticates the heartbeat
        with the secret the stack holds (decision 29).
        """
        state = props.state
        if self._call("enterprise GetState", props, client.enterprise.get_state).state == (
            enterprise.State.ACTIVE
        ):
            if old is not None:
                if _licence(old) != _licence(state):
                    self._change_licence(client, props, old)
                return
            self._refuse_enterprise_member(client, props)
        if not state.license_key:
            raise PachdError(
                f"pachd at {props.connection.endpoint} is Pachyderm 2.11, which needs an "
                "enterprise license before auth: set `pulumi config set --secret "
                "pachyderm-okta:licenseKey`"
            )
        self._as_root(
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
            # A re-run after a failure further on: already registered with our secret.
            if not is_status(error, grpc.StatusCode.UNIMPLEMENTED, "cluster ID is not unique"):
                raise
            self._call(
                "license UpdateCluster",
                props,
                lambda: client.license.update_cluster(**registration),
            )
        self._activate_enterprise_licence(client, props)

    def _refuse_enterprise_member(self, client: Any, props: Props[ActivationState]) -> None:
        """A cluster licensed by another license server is not this stack's to license."""
        own = self._as_root("license GetActivationCode", props, client.license.get_activation_code)
        if own.state != enterprise.State.ACTIVE:
            raise PachdError(
                f"pachd at {props.connection.endpoint} has enterprise active, but its own "
                "license service holds no licence: it is an enterprise member, licensed by an "
                "enterprise server. This program licenses a standalone 2.11 cluster itself; "
                "deploy the cluster standalone, or upgrade to 2.12, which needs no licence"
            )

    def _as_root(self, what: str, props: Props[ActivationState], action: Any) -> Any:
        """One admin call; a refused root token is the adoption message, not a bare code."""
        try:
            return action()
        except (grpc.RpcError, ConnectionError) as error:
            if is_status(error, grpc.StatusCode.UNAUTHENTICATED):
                status = describe(error, props.secrets)
                raise PachdError(
                    foreign_token_message(props.connection.endpoint, status),
                    code=grpc.StatusCode.UNAUTHENTICATED,
                ) from None
            raise failure(what, props.connection.endpoint, error, props.secrets) from None

    def _change_licence(
        self, client: Any, props: Props[ActivationState], old: ActivationState
    ) -> None:
        """Apply a new licence key or enterprise secret at once, not at the next heartbeat.

        The registration gets a new secret first: the heartbeat authenticates with it (decision 29).
        """
        state = props.state
        if state.license_key != old.license_key:
            self._call(
                "license Activate",
                props,
                lambda: client.license.activate(activation_code=state.license_key),
            )
        if state.enterprise_secret != old.enterprise_secret:
            self._call(
                "license UpdateCluster",
                props,
                lambda: client.license.update_cluster(
                    id=LICENSE_CLUSTER_ID, secret=state.enterprise_secret
                ),
            )
        self._activate_enterprise_licence(client, props)

    def _activate_enterprise_licence(self, client: Any, props: Props[ActivationState]) -> None:
        """``enterprise.Activate``: enterprise takes its copy of the licence now (decision 29)."""
        self._call(
            "enterprise Activate",
            props,
            lambda: client.enterprise.activate(
                license_server=LICENSE_SERVER_ADDRESS,
                id=LICENSE_CLUSTER_ID,
                secret=props.state.enterprise_secret,
            ),
        )

    def _activate_auth(self, client: Any, props: Props[ActivationState]) -> None:
        address = props.connection.endpoint
        try:
            client.auth.activate(root_token=props.state.root_token)
        except (grpc.RpcError, ConnectionError) as error:
            if is_status(error, grpc.StatusCode.UNAUTHENTICATED):
                # Auth is on, and pachd checks the caller's token before it says so (decision 30).
                status = describe(error, props.secrets)
                raise PachdError(
                    foreign_token_message(address, status), code=grpc.StatusCode.UNAUTHENTICATED
                ) from None
            if not is_status(error, grpc.StatusCode.UNIMPLEMENTED, "already activated"):
                raise
            # Said to any caller: only WhoAmI tells whether our token is the root token.
            username = self._who_am_i(client, props)
            if username != ROOT_PRINCIPAL:
                raise PachdError(
                    f"pachd at {address} accepts this stack's root token as {username!r}, not "
                    f"{ROOT_PRINCIPAL!r}: set pachyderm-okta:rootToken to the cluster's root token"
                ) from None
        # Idempotent, and the only way to finish after a failure since Activate (decision 43).
        self._call("pfs ActivateAuth", props, client.pfs.activate_auth)
        self._call("pps ActivateAuth", props, client.pps.activate_auth)

    def _who_am_i(self, client: Any, props: Props[ActivationState]) -> str | None:
        """Whom pachd takes the stack's token for; ``None`` when auth is off."""
        address = props.connection.endpoint
        try:
            return str(client.auth.who_am_i().username)
        except (grpc.RpcError, ConnectionError) as error:
            if not_activated(error):
                return None
            if is_status(error, grpc.StatusCode.UNAUTHENTICATED):
                status = describe(error, props.secrets)
                raise PachdError(
                    foreign_token_message(address, status), code=grpc.StatusCode.UNAUTHENTICATED
                ) from None
            raise failure("auth WhoAmI", address, error, props.secrets) from None

    def _read(self, props: Props[ActivationState]) -> dict[str, Any] | None:
        with pachd_client(props.connection) as client:
            username = self._who_am_i(client, props)
        return None if username is None else {"root_principal": username}

    def _remove(self, props: Props[ActivationState]) -> None:
        if not props.state.deactivate_on_delete:
            # Deactivation wipes every binding, token, client and connector: only on request.
            return
        with pachd_client(props.connection) as client:
            # What `pachctl auth deactivate` does.
            unless_gone(lambda: (client.identity.delete_all(), client.auth.deactivate()))


def _needs_licence(version: tuple[int, int, int]) -> bool:
    """Pachyderm 2.12 removed the licence and enterprise services (docs/decisions.md, 7)."""
    return version[:2] < (2, 12)


def _licence(state: ActivationState) -> tuple[str, str]:
    return state.license_key, state.enterprise_secret


def _version_output(version: tuple[int, int, int]) -> dict[str, Any]:
    return {"pachd_version": ".".join(map(str, version))}


@dataclass(frozen=True)
class ActivationArgs(PachdArgs):
    """Inputs of :class:`AuthActivation` beside the connection (which carries the root token)."""

    license_key: pulumi.Input[str]
    enterprise_secret: pulumi.Input[str]
    deactivate_on_delete: bool


class AuthActivation(PachdResource[ActivationArgs], module="pachyderm", name="AuthActivation"):
    """Pachyderm auth, activated with the stack's root token."""

    provider_type = ActivationProvider
    pachd_version: pulumi.Output[str]
    """The pachd version that was activated, e.g. ``2.12.2``."""
