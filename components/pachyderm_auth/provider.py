"""Dynamic providers that own Pachyderm's auth state through pachd's API (DESIGN decision 1).

One provider per piece of state, each atomic, so a failure leaves every finished step in Pulumi's
state and a re-run resumes (a Python dynamic provider cannot report partial state,
pulumi-notes.md D3):

=====================  ===================================================================
``ActivationProvider``  (2.11: license + enterprise), ``auth.Activate`` with the minted root
                        token, PFS/PPS ``ActivateAuth``.
``IdentityConfigProvider``  Dex issuer and both expiries (Set overwrites all three).
``ConnectorProvider``   the Okta ``oidc`` connector; updates send stored version + 1.
``OidcClientProvider``  a Dex client (``pachd``, ``console``); a new secret replaces it.
``AuthConfigProvider``  pachd's OIDC configuration (``auth.SetConfiguration``).
``RoleBindingProvider``  one principal's CLUSTER role binding.
=====================  ===================================================================

The rules from DESIGN.md "The dynamic provider, rules that are not optional": providers hold no
state (a client is opened inside each method); ``check`` and ``diff`` are pure and tolerate
unknowns; ``update`` returns full outputs; ``read`` returns live state so drift shows on refresh;
props are parsed by pydantic in every method (ints arrive as floats, ``None`` keys vanish);
secrets never appear in a message.

Outputs keep the root token: the host hands ``read`` and ``delete`` the stored *outputs*, not the
inputs, and they must authenticate. The resources list every credential in
``additional_secret_outputs``, so state holds them encrypted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

import betterproto
import grpc
from pachyderm_sdk.api import auth, enterprise, identity
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown
from pydantic import ValidationError

from components.connector_errors import connector_refusal_message
from components.pachyderm_auth.pachd import (
    Connection,
    PachdError,
    call,
    describe,
    grpc_status,
    is_status,
    not_activated,
    pachd_client,
    redact,
    wait_until_ready,
)

# The peer address pachd uses for its own license server on a single cluster, as
# `pachctl license activate` passes it (pachyderm-auth.md 2): interpreted inside the pod.
LICENSE_SERVER_ADDRESS = "grpc://localhost:1653"
LICENSE_CLUSTER_ID = "localhost"
ROOT_PRINCIPAL = "pach:root"
_UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
_CLUSTER = auth.Resource(type=auth.ResourceType.CLUSTER)

P = TypeVar("P", bound=Connection)
T = TypeVar("T")


def _is_unknown(value: Any) -> bool:
    if isinstance(value, Unknown) or value == _UNKNOWN_SENTINEL:
        return True
    if isinstance(value, Mapping):
        return any(_is_unknown(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_is_unknown(item) for item in value)
    return False


def _normalised(value: Any) -> Any:
    """A value as it compares across the wire: integral floats as ints, tuples as lists."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {key: _normalised(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_normalised(item) for item in value]
    return value


def _field_errors(error: ValidationError) -> list[tuple[str, str]]:
    """``(field path, message)`` per problem; never the input, which holds the root token."""
    return [
        (".".join(str(part) for part in detail["loc"]), detail["msg"])
        for detail in error.errors(include_url=False, include_input=False)
    ]


def _unless_gone(action: Callable[[], T], gone_when: str | None = None) -> T | None:
    """``action()``, or ``None`` when pachd answers that auth, or the object, no longer exists.

    ``gone_when`` is the fragment of pachd's "not found" details for this kind of object.
    """
    try:
        return action()
    except (grpc.RpcError, ConnectionError) as error:
        if not_activated(error) or (gone_when is not None and gone_when in grpc_status(error)[1]):
            return None
        raise


class _PachdProvider(ResourceProvider, Generic[P]):
    """Shared shape of every provider: parse, compare, and wrap pachd failures.

    Subclasses set ``props_model`` (the inputs), ``replace_on`` (inputs whose change needs a new
    object in pachd), ``secret_fields`` (for redaction) and implement ``_apply``/``_read``/
    ``_remove``. ``_apply`` makes pachd match the props and returns extra outputs.
    """

    props_model: ClassVar[type[Connection]]
    replace_on: ClassVar[frozenset[str]] = frozenset()
    delete_before_replace: ClassVar[bool] = False
    secret_fields: ClassVar[tuple[str, ...]] = ("root_token",)
    resource_kind: ClassVar[str] = "resource"

    # -- parsing -----------------------------------------------------------------------------

    def _props(self, raw: Mapping[str, Any]) -> P:
        try:
            props: P = self.props_model.model_validate(dict(raw))  # type: ignore[assignment]
        except ValidationError as error:
            # pydantic's message quotes the input dict, root token and all: list fields only.
            problems = "; ".join(f"{field}: {message}" for field, message in _field_errors(error))
            raise ValueError(f"invalid {self.resource_kind} properties: {problems}") from None
        return props

    def _secrets(self, props: Connection) -> list[str]:
        return [str(getattr(props, name) or "") for name in self.secret_fields]

    def _outs(self, props: P, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return {**props.model_dump(mode="json"), **(extra or {})}

    def _id(self, props: P) -> str:
        raise NotImplementedError

    # -- engine entry points -------------------------------------------------------------------

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate inputs without touching pachd; unknown values (preview) are accepted as is."""
        if _is_unknown({k: v for k, v in news.items() if k != "__provider"}):
            return CheckResult(news, [])
        try:
            self.props_model.model_validate(dict(news))
        except ValidationError as error:
            failures = [CheckFailure(field, message) for field, message in _field_errors(error)]
            return CheckResult(news, failures)
        return CheckResult(news, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Compare the stored outputs with the new inputs, field by field; no pachd call.

        Written by hand: the default diff also compares the pickled provider, so any code change
        would look like an update (pulumi-notes.md D2).
        """
        changed = [
            name
            for name in self.props_model.model_fields
            if _is_unknown(news.get(name))
            or _normalised(news.get(name)) != _normalised(olds.get(name))
        ]
        replaces = [name for name in changed if name in self.replace_on]
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            delete_before_replace=bool(replaces) and self.delete_before_replace,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Make pachd match the props; safe to re-run after any failure."""
        parsed = self._props(props)
        extra = self._guarded(parsed, lambda: self._apply(parsed, None))
        return CreateResult(id_=self._id(parsed), outs=self._outs(parsed, extra))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Make pachd match the new props; returns every output (the default would wipe them)."""
        parsed = self._props(news)
        previous = self._props(olds)
        extra = self._guarded(parsed, lambda: self._apply(parsed, previous))
        return UpdateResult(outs=self._outs(parsed, extra))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Live state for ``pulumi refresh``; an object gone from pachd reads as deleted."""
        parsed = self._props(props)
        live = self._guarded(parsed, lambda: self._read(parsed))
        if live is None:
            return ReadResult(None, {})
        return ReadResult(id_, {**self._outs(parsed), **live})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Remove what this resource owns from pachd; real failures raise."""
        parsed = self._props(props)
        self._guarded(parsed, lambda: self._remove(parsed))

    # -- per-resource behaviour ------------------------------------------------------------------

    def _apply(self, props: P, previous: P | None) -> dict[str, Any]:
        raise NotImplementedError

    def _read(self, props: P) -> dict[str, Any] | None:
        raise NotImplementedError

    def _remove(self, props: P) -> None:
        raise NotImplementedError

    def _guarded(self, props: P, action: Callable[[], Any]) -> Any:
        """Run ``action``; any unexpected pachd failure becomes a redacted :class:`PachdError`."""
        try:
            return action()
        except PachdError as error:
            raise PachdError(redact(str(error), self._secrets(props))) from None
        except (grpc.RpcError, ConnectionError) as error:
            status = describe(error, self._secrets(props))
            raise PachdError(
                f"{self.resource_kind} {self._id(props)!r} at {props.pachd_address}: {status}"
            ) from None


# --- auth activation ---------------------------------------------------------------------------


class ActivationProps(Connection):
    """Inputs of :class:`ActivationProvider`."""

    license_key: str = ""
    enterprise_secret: str = ""
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


class ActivationProvider(_PachdProvider[ActivationProps]):
    """Activates auth with the Pulumi-minted root token; leaves it active on delete by default."""

    props_model = ActivationProps
    secret_fields = ("root_token", "license_key", "enterprise_secret")
    resource_kind = "auth activation"

    def _id(self, props: ActivationProps) -> str:
        return "pachyderm-auth"

    def _apply(self, props: ActivationProps, previous: ActivationProps | None) -> dict[str, Any]:
        if previous is not None and previous.root_token != props.root_token:
            self._rotate_root_token(previous, props)
        major, minor, micro = wait_until_ready(props)
        with pachd_client(props) as client:
            if (major, minor) < (2, 12):
                self._activate_enterprise(client, props)
            self._activate_auth(client, props)
        return {"pachd_version": f"{major}.{minor}.{micro}"}

    def _rotate_root_token(self, previous: ActivationProps, props: ActivationProps) -> None:
        wait_until_ready(previous)
        with pachd_client(previous) as client:
            try:
                client.auth.rotate_root_token(root_token=props.root_token)
                return
            except (grpc.RpcError, ConnectionError) as error:
                if not_activated(error):
                    # Auth was deactivated behind Pulumi's back: nothing to rotate, and the
                    # activation that follows uses the new token.
                    return
                status = describe(error, [previous.root_token, props.root_token])
                if not is_status(error, grpc.StatusCode.UNAUTHENTICATED):
                    raise PachdError(
                        f"rotating the root token failed at {previous.pachd_address}: {status}"
                    ) from None
        # The old token is refused: an earlier update rotated it and failed further on (the
        # engine then keeps the old outputs). Resume if the new token already is the root.
        with pachd_client(props) as client:
            try:
                username = client.auth.who_am_i().username
            except (grpc.RpcError, ConnectionError):
                username = ""
        if username != ROOT_PRINCIPAL:
            raise PachdError(foreign_token_message(props.pachd_address, status))

    def _activate_enterprise(self, client: Any, props: ActivationProps) -> None:
        """Pachyderm 2.11 gates auth on an ACTIVE enterprise state (pachyderm-auth.md 2)."""
        secrets = (props.license_key, props.enterprise_secret)
        state = call("enterprise GetState", props, lambda: client.enterprise.get_state(), *secrets)
        if state.state == enterprise.State.ACTIVE:
            return
        if not props.license_key:
            raise PachdError(
                f"pachd at {props.pachd_address} is Pachyderm 2.11, which needs an enterprise "
                "license before auth: set `pulumi config set --secret pachyderm-okta:licenseKey`"
            )
        call(
            "license Activate",
            props,
            lambda: client.license.activate(activation_code=props.license_key),
            *secrets,
        )
        deployment_id = call(
            "admin InspectCluster", props, lambda: client.admin.inspect_cluster()
        ).deployment_id
        registration = {
            "id": LICENSE_CLUSTER_ID,
            "address": LICENSE_SERVER_ADDRESS,
            "user_address": LICENSE_SERVER_ADDRESS,
            "cluster_deployment_id": deployment_id,
            "secret": props.enterprise_secret,
        }
        try:
            client.license.add_cluster(enterprise_server=True, **registration)
        except (grpc.RpcError, ConnectionError) as error:
            # A re-run after a failure further on: the cluster is registered with our secret.
            if not is_status(error, grpc.StatusCode.UNIMPLEMENTED, "cluster ID is not unique"):
                raise
            call(
                "license UpdateCluster",
                props,
                lambda: client.license.update_cluster(**registration),
                *secrets,
            )
        call(
            "enterprise Activate",
            props,
            lambda: client.enterprise.activate(
                license_server=LICENSE_SERVER_ADDRESS,
                id=LICENSE_CLUSTER_ID,
                secret=props.enterprise_secret,
            ),
            *secrets,
        )

    def _activate_auth(self, client: Any, props: ActivationProps) -> None:
        try:
            client.auth.activate(root_token=props.root_token)
        except (grpc.RpcError, ConnectionError) as error:
            if is_status(error, grpc.StatusCode.UNAUTHENTICATED):
                status = describe(error, self._secrets(props))
                raise PachdError(foreign_token_message(props.pachd_address, status)) from None
            if not is_status(error, grpc.StatusCode.UNIMPLEMENTED, "already activated"):
                raise
            # pachd checks the caller's token before saying "already activated" (pachyderm-auth.md
            # 1), so our token is valid; it must also be the root token, or we would manage a
            # cluster with someone else's credentials.
            username = call("auth WhoAmI", props, lambda: client.auth.who_am_i()).username
            if username != ROOT_PRINCIPAL:
                raise PachdError(
                    f"pachd at {props.pachd_address} accepts this stack's root token as "
                    f"{username!r}, not {ROOT_PRINCIPAL!r}: set pachyderm-okta:rootToken to the "
                    "cluster's root token"
                ) from None
        # Idempotent in pachd ("exists" errors are ignored), and the only way to finish after a
        # failure between Activate and here (pachyderm-auth.md 1).
        call("pfs ActivateAuth", props, lambda: client.pfs.activate_auth())
        call("pps ActivateAuth", props, lambda: client.pps.activate_auth())

    def _read(self, props: ActivationProps) -> dict[str, Any] | None:
        with pachd_client(props) as client:
            try:
                username = client.auth.who_am_i().username
            except (grpc.RpcError, ConnectionError) as error:
                if not_activated(error):
                    return None
                if is_status(error, grpc.StatusCode.UNAUTHENTICATED):
                    status = describe(error, self._secrets(props))
                    raise PachdError(foreign_token_message(props.pachd_address, status)) from None
                raise
        return {"root_principal": username}

    def _remove(self, props: ActivationProps) -> None:
        if not props.deactivate_on_delete:
            # Deactivation wipes every role binding, token, Dex client and connector
            # (pachyderm-auth.md 8.10): only when the stack asks for it explicitly.
            return
        with pachd_client(props) as client:
            # What `pachctl auth deactivate` does: identity.DeleteAll, then auth.Deactivate.
            _unless_gone(lambda: (client.identity.delete_all(), client.auth.deactivate()))


# --- identity server config --------------------------------------------------------------------


class IdentityConfigProps(Connection):
    """Inputs of :class:`IdentityConfigProvider`."""

    issuer: str
    id_token_expiry: str
    rotation_token_expiry: str


def _env_managed_hint(error: BaseException) -> str:
    if "is disabled when the Identity" in grpc_status(error)[1]:
        return (
            " - the Helm release manages identity (oidc.mockIDP or oidc.upstreamIDPs is set), "
            "which this program must own through the API instead (DESIGN decision 1)"
        )
    return ""


class IdentityConfigProvider(_PachdProvider[IdentityConfigProps]):
    """Dex's issuer and token expiries; delete leaves the last config in place."""

    props_model = IdentityConfigProps
    resource_kind = "identity server config"

    def _id(self, props: IdentityConfigProps) -> str:
        return "identity-server-config"

    def _apply(
        self, props: IdentityConfigProps, previous: IdentityConfigProps | None
    ) -> dict[str, Any]:
        config = identity.IdentityServerConfig(
            issuer=props.issuer,
            id_token_expiry=props.id_token_expiry,
            rotation_token_expiry=props.rotation_token_expiry,
        )
        with pachd_client(props) as client:
            try:
                client.identity.set_identity_server_config(config=config)
            except (grpc.RpcError, ConnectionError) as error:
                status = describe(error, self._secrets(props)) + _env_managed_hint(error)
                raise PachdError(f"setting the identity server config failed: {status}") from None
        return {}

    def _read(self, props: IdentityConfigProps) -> dict[str, Any] | None:
        with pachd_client(props) as client:
            config = _unless_gone(lambda: client.identity.get_identity_server_config().config)
        if config is None:
            return None
        return {
            "issuer": config.issuer,
            "id_token_expiry": config.id_token_expiry,
            "rotation_token_expiry": config.rotation_token_expiry,
        }

    def _remove(self, props: IdentityConfigProps) -> None:
        # pachd has no "unset": the config stays until auth is deactivated.
        return


# --- IDP connector -----------------------------------------------------------------------------


class ConnectorProps(Connection):
    """Inputs of :class:`ConnectorProvider`; ``config`` holds the Okta client secret."""

    connector_id: str
    name: str
    type: str = "oidc"
    config: dict[str, Any]


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


class ConnectorProvider(_PachdProvider[ConnectorProps]):
    """The Okta connector in pachd's Dex; updates send the stored version + 1."""

    props_model = ConnectorProps
    replace_on = frozenset({"connector_id"})
    delete_before_replace = True
    resource_kind = "IDP connector"

    def _id(self, props: ConnectorProps) -> str:
        return props.connector_id

    def _secrets(self, props: Connection) -> list[str]:
        config = getattr(props, "config", {}) or {}
        return [*super()._secrets(props), str(config.get("clientSecret", ""))]

    def _connector(self, props: ConnectorProps, version: int) -> Any:
        # json_config, not config: betterproto's Struct.from_dict silently yields an EMPTY
        # Struct, which pachd rejects on create and ignores on update (pachyderm-auth.md 7).
        return identity.IdpConnector(
            id=props.connector_id,
            name=props.name,
            type=props.type,
            config_version=version,
            json_config=json.dumps(props.config, sort_keys=True),
        )

    def _apply(self, props: ConnectorProps, previous: ConnectorProps | None) -> dict[str, Any]:
        with pachd_client(props) as client:
            if previous is None:
                try:
                    client.identity.create_idp_connector(connector=self._connector(props, 0))
                except (grpc.RpcError, ConnectionError) as error:
                    # Left over by a run whose response was lost, or made by hand: adopt it.
                    if not is_status(error, grpc.StatusCode.INTERNAL, "ID already exists"):
                        raise self._failure(props, "creating", error) from None
                else:
                    return {"config_version": 0}
            version = self._stored_version(client, props)
            try:
                client.identity.update_idp_connector(connector=self._connector(props, version + 1))
            except (grpc.RpcError, ConnectionError) as error:
                raise self._failure(props, "updating", error) from None
        return {"config_version": version + 1}

    def _stored_version(self, client: Any, props: ConnectorProps) -> int:
        # pachd accepts exactly stored + 1 (pachyderm-auth.md 3), so read it first, every time:
        # someone may have updated the connector outside Pulumi.
        connector = call(
            f"reading IDP connector {props.connector_id!r}",
            props,
            lambda: client.identity.get_idp_connector(id=props.connector_id).connector,
            *self._secrets(props),
        )
        return int(connector.config_version)

    def _failure(self, props: ConnectorProps, verb: str, error: BaseException) -> PachdError:
        status = describe(error, self._secrets(props)) + _env_managed_hint(error)
        refusal = connector_refusal_message(
            props.connector_id, str(props.config.get("issuer", "")), status
        )
        hint = f" - {refusal}" if refusal else ""
        return PachdError(
            f"{verb} IDP connector {props.connector_id!r} at {props.pachd_address} failed: "
            f"{status}{hint}"
        )

    def _read(self, props: ConnectorProps) -> dict[str, Any] | None:
        with pachd_client(props) as client:
            connector = _unless_gone(
                lambda: client.identity.get_idp_connector(id=props.connector_id).connector,
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

    def _remove(self, props: ConnectorProps) -> None:
        with pachd_client(props) as client:
            _unless_gone(
                lambda: client.identity.delete_idp_connector(id=props.connector_id),
                gone_when="not found",
            )


# --- OIDC clients ------------------------------------------------------------------------------


class OidcClientProps(Connection):
    """Inputs of :class:`OidcClientProvider`; ``secret`` is minted by Pulumi."""

    client_id: str
    name: str
    secret: str
    redirect_uris: list[str]
    trusted_peers: list[str] = []


class OidcClientProvider(_PachdProvider[OidcClientProps]):
    """A Dex OIDC client. Dex cannot change a client's secret, so a new secret replaces it."""

    props_model = OidcClientProps
    replace_on = frozenset({"client_id", "secret"})
    # Same client id before and after: the old client must go first.
    delete_before_replace = True
    secret_fields = ("root_token", "secret")
    resource_kind = "OIDC client"

    def _id(self, props: OidcClientProps) -> str:
        return props.client_id

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """As for every provider, plus: emptying a list replaces the client.

        Dex's UpdateClient keeps the old redirect URIs or trusted peers when the new list is
        empty, so an update could never clear them; only a new client can.
        """
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

    def _client(self, props: OidcClientProps, *, with_secret: bool) -> Any:
        return identity.OidcClient(
            id=props.client_id,
            name=props.name,
            secret=props.secret if with_secret else "",
            redirect_uris=list(props.redirect_uris),
            trusted_peers=list(props.trusted_peers),
        )

    def _apply(self, props: OidcClientProps, previous: OidcClientProps | None) -> dict[str, Any]:
        secrets = self._secrets(props)
        with pachd_client(props) as client:
            if previous is None:
                try:
                    client.identity.create_oidc_client(client=self._client(props, with_secret=True))
                    return {}
                except (grpc.RpcError, ConnectionError) as error:
                    if not is_status(error, grpc.StatusCode.INTERNAL, "ID already exists"):
                        raise
                existing = call(
                    f"reading OIDC client {props.client_id!r}",
                    props,
                    lambda: client.identity.get_oidc_client(id=props.client_id).client,
                    *secrets,
                )
                if existing.secret != props.secret:
                    # Left by the chart or by hand with another secret: replace it, since the
                    # console and pachd will present the secret Pulumi holds.
                    call(
                        f"deleting stale OIDC client {props.client_id!r}",
                        props,
                        lambda: client.identity.delete_oidc_client(id=props.client_id),
                    )
                    call(
                        f"creating OIDC client {props.client_id!r}",
                        props,
                        lambda: client.identity.create_oidc_client(
                            client=self._client(props, with_secret=True)
                        ),
                        *secrets,
                    )
                    return {}
            call(
                f"updating OIDC client {props.client_id!r}",
                props,
                lambda: client.identity.update_oidc_client(
                    client=self._client(props, with_secret=False)
                ),
                *secrets,
            )
        return {}

    def _read(self, props: OidcClientProps) -> dict[str, Any] | None:
        with pachd_client(props) as client:
            live = _unless_gone(
                lambda: client.identity.get_oidc_client(id=props.client_id).client,
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

    def _remove(self, props: OidcClientProps) -> None:
        with pachd_client(props) as client:
            _unless_gone(
                lambda: client.identity.delete_oidc_client(id=props.client_id),
                gone_when="unable to find OIDC client",
            )


# --- auth OIDC configuration -------------------------------------------------------------------


class AuthConfigProps(Connection):
    """Inputs of :class:`AuthConfigProvider`."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scopes: list[str]
    localhost_issuer: bool = True
    user_accessible_issuer_host: str = ""
    require_email_verified: bool = False


class AuthConfigProvider(_PachdProvider[AuthConfigProps]):
    """pachd's OIDC client configuration; delete leaves it (it goes with deactivation)."""

    props_model = AuthConfigProps
    secret_fields = ("root_token", "client_secret")
    resource_kind = "auth OIDC configuration"

    def _id(self, props: AuthConfigProps) -> str:
        return "auth-oidc-config"

    def _apply(self, props: AuthConfigProps, previous: AuthConfigProps | None) -> dict[str, Any]:
        configuration = auth.OidcConfig(
            issuer=props.issuer,
            client_id=props.client_id,
            client_secret=props.client_secret,
            redirect_uri=props.redirect_uri,
            scopes=list(props.scopes),
            require_email_verified=props.require_email_verified,
            localhost_issuer=props.localhost_issuer,
            user_accessible_issuer_host=props.user_accessible_issuer_host,
        )
        with pachd_client(props) as client:
            call(
                "auth SetConfiguration",
                props,
                lambda: client.auth.set_configuration(configuration=configuration),
                *self._secrets(props),
            )
        return {}

    def _read(self, props: AuthConfigProps) -> dict[str, Any] | None:
        with pachd_client(props) as client:
            live = _unless_gone(lambda: client.auth.get_configuration().configuration)
        if live is None:
            return None
        return {
            "issuer": live.issuer,
            "client_id": live.client_id,
            "client_secret": live.client_secret,
            "redirect_uri": live.redirect_uri,
            "scopes": list(live.scopes),
            "localhost_issuer": live.localhost_issuer,
            "user_accessible_issuer_host": live.user_accessible_issuer_host,
            "require_email_verified": live.require_email_verified,
        }

    def _remove(self, props: AuthConfigProps) -> None:
        return


# --- cluster role bindings ---------------------------------------------------------------------


class RoleBindingProps(Connection):
    """Inputs of :class:`RoleBindingProvider`."""

    principal: str
    roles: list[str]


class RoleBindingProvider(_PachdProvider[RoleBindingProps]):
    """One principal's CLUSTER roles; delete removes exactly that principal's binding."""

    props_model = RoleBindingProps
    replace_on = frozenset({"principal"})
    resource_kind = "cluster role binding"

    def _id(self, props: RoleBindingProps) -> str:
        return f"cluster/{props.principal}"

    def _modify(self, props: RoleBindingProps, roles: Sequence[str]) -> None:
        with pachd_client(props) as client:
            client.auth.modify_role_binding(
                resource=_CLUSTER, principal=props.principal, roles=sorted(roles)
            )

    def _apply(self, props: RoleBindingProps, previous: RoleBindingProps | None) -> dict[str, Any]:
        # ModifyRoleBinding replaces the principal's whole role set, so no read is needed.
        self._modify(props, props.roles)
        return {}

    def _read(self, props: RoleBindingProps) -> dict[str, Any] | None:
        with pachd_client(props) as client:
            binding = _unless_gone(lambda: client.auth.get_role_binding(resource=_CLUSTER).binding)
        if binding is None:
            return None
        entry = binding.entries.get(props.principal)
        roles = sorted(role for role, granted in (entry.roles if entry else {}).items() if granted)
        return {"roles": roles} if roles else None

    def _remove(self, props: RoleBindingProps) -> None:
        # An empty role list deletes the principal's binding (pachyderm-auth.md 1).
        _unless_gone(lambda: self._modify(props, []))
