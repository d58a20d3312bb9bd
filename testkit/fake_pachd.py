"""A fake pachd: a real gRPC server that models pachd's auth, identity and license semantics.

The server speaks pachd's wire protocol (the full gRPC method names and the protobuf messages of
``pachyderm_sdk`` 2.12.2, (de)serialised with betterproto), so the real ``pachyderm_sdk.Client``
and everything built on it can be pointed at it. It models pachd 2.11.x/2.12.x as the
pachyderm/pachyderm sources implement it - src/server/auth/server/api_server.go (Activate,
RotateRootToken, ModifyRoleBinding, SetConfiguration), src/server/identity/server/api_server.go
and dex_api.go (identity config, connectors, clients, the env-managed refusals), the 2.11.x
src/server/license and src/server/enterprise services, src/internal/middleware/errors (codes and
wrapped details) - plus the Dex fork's client rules: the gRPC codes and detail strings, the order
of the checks, the connector version rule, the <= 2.11 enterprise gate, the env-managed refusals,
a readiness delay and injectable faults.

Only unary RPCs are modelled. Anything else answers UNIMPLEMENTED ("unknown method ..." or
"unknown service ...", like grpc-go).

Typical use::

    with FakePachd(version=(2, 12, 2)) as fake:
        client = Client(host="127.0.0.1", port=fake.port)
        ...
        assert fake.state.auth_active
        assert fake.writes() == ["auth.Activate", ...]

Every RPC the server receives is appended to ``calls`` (short names such as ``auth.Activate``),
including calls that fail - readiness failures, injected faults and modelled errors alike - so
tests can count attempts as well as effects.
"""

from __future__ import annotations

import collections
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

import betterproto
import betterproto.lib.google.protobuf as pb
import grpc
from pachyderm_sdk.api import admin, auth, enterprise, identity, license, pfs, pps, version

from components.settings.roles import roles_of
from testkit.serving import Serving
from testkit.tls import ServerCertificate

__all__ = [
    "ALREADY_ACTIVATED",
    "BAD_TOKEN",
    "ENTERPRISE_NOT_ACTIVE",
    "MODELLED_METHODS",
    "NOT_ACTIVATED",
    "NOT_READY",
    "NO_TOKEN",
    "FakePachd",
    "PachdError",
    "PachdState",
    "dict_to_struct",
    "full_name",
    "is_read",
    "iter_methods",
    "py_to_value",
    "short_name",
    "struct_to_dict",
    "value_to_py",
]

# --- detail strings (pachd's error texts; callers match them as substrings) ----------------------

NOT_ACTIVATED = "the auth service is not activated"
ALREADY_ACTIVATED = "the auth service is already activated"
NO_TOKEN = "no authentication token (try logging in)"
BAD_TOKEN = "provided auth token is corrupted or has expired (try logging in again)"
ENTERPRISE_NOT_ACTIVE = (
    "Pachyderm Enterprise is not active in this cluster, and the Pachyderm auth API is an "
    "Enterprise-level feature"
)
NOT_READY = "pachd is starting"
NO_ROLE_BINDING = "no role binding exists for"
DEFAULT_PROJECT = "default"

_PRINCIPAL_PREFIXES = ("user:", "group:", "robot:", "pipeline:", "pach:", "internal:")

# Dex connector types known to the pinned Dex fork (``dex_server.ConnectorsConfig``).
_CONNECTOR_TYPES = frozenset(
    {
        "oidc",
        "github",
        "gitlab",
        "google",
        "saml",
        "ldap",
        "oauth",
        "microsoft",
        "bitbucket-cloud",
        "openshift",
        "keystone",
        "atlassian-crowd",
        "gitea",
        "linkedin",
        "authproxy",
        "mockCallback",
        "mockPassword",
    }
)

_SERVICE_PREFIXES = {
    "auth_v2.API": "auth",
    "identity_v2.API": "identity",
    "pfs_v2.API": "pfs",
    "pps_v2.API": "pps",
    "license_v2.API": "license",
    "enterprise_v2.API": "enterprise",
    "admin_v2.API": "admin",
    "versionpb_v2.API": "version",
}
_PREFIX_SERVICES = {v: k for k, v in _SERVICE_PREFIXES.items()}
_LEGACY_SERVICES = frozenset({"license_v2.API", "enterprise_v2.API"})
_READ_PREFIXES = ("Get", "List", "Inspect")


def short_name(method: str) -> str:
    """Return the short name (``auth.Activate``) of a full gRPC path or an already-short name."""
    if not method.startswith("/"):
        return method
    service, _, name = method[1:].partition("/")
    prefix = _SERVICE_PREFIXES.get(service)
    if prefix is None:
        prefix = service.split(".", 1)[0].removesuffix("_v2")
    return f"{prefix}.{name}"


def full_name(method: str) -> str:
    """Return the full gRPC path (``/auth_v2.API/Activate``) of a short name or a full path."""
    if method.startswith("/"):
        return method
    prefix, _, name = method.partition(".")
    service = _PREFIX_SERVICES.get(prefix, f"{prefix}_v2.API")
    return f"/{service}/{name}"


def is_read(method: str) -> bool:
    """Classify an RPC: Get*/List*/Inspect*/WhoAmI are reads, everything else is a write."""
    name = short_name(method).rpartition(".")[2]
    return name.startswith(_READ_PREFIXES) or name == "WhoAmI"


class PachdError(Exception):
    """A gRPC error a handler returns: status code plus details text."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        """Build the error from a gRPC status code and the details text."""
        super().__init__(details)
        self.code = code
        self.details = details


def _unknown(details: str) -> PachdError:
    """Plain Go errors surface as UNKNOWN through pachd's error interceptor."""
    return PachdError(grpc.StatusCode.UNKNOWN, details)


# --- state ----------------------------------------------------------------------------------------


def _empty_identity_config() -> dict[str, str]:
    return {"issuer": "", "id_token_expiry": "", "rotation_token_expiry": ""}


@dataclass
class PachdState:
    """Everything pachd (and its embedded Dex) would persist. Tests may mutate it directly.

    Take ``lock`` when mutating while RPCs may be in flight.
    """

    # auth
    auth_active: bool = False
    root_token: str | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    """token -> subject (``pach:root``, ``user:alice@example.com``, ...)."""
    token_expiry: dict[str, datetime] = field(default_factory=dict)
    """token -> when it expires, for tokens minted with a TTL (robot tokens)."""
    cluster_role_bindings: dict[str, set[str]] = field(default_factory=dict)
    resource_role_bindings: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    """Project and repo bindings by pachd's key (``PROJECT:team-a``, ``REPO:team-a/raw``):
    principal -> roles. A key exists from the resource's creation (or auth activation) on."""
    user_groups: dict[str, set[str]] = field(default_factory=dict)
    """subject -> group principals (``group:admins``), used for permission checks."""
    auth_config: dict[str, Any] | None = None
    """issuer, client_id, client_secret, redirect_uri, scopes, localhost_issuer,
    user_accessible_issuer_host, require_email_verified."""
    pfs_auth_active: bool = False
    pps_auth_active: bool = False
    root_token_from_env: bool = False
    """Helm supplied AUTH_ROOT_TOKEN: RotateRootToken is refused."""

    # pfs
    projects: dict[str, str] = field(default_factory=lambda: {DEFAULT_PROJECT: ""})
    """name -> the subject that created it (``""`` before auth); pachd starts with ``default``."""
    repos: set[str] = field(default_factory=set)
    """``<project>/<repo>`` of every user repo."""

    # identity (Dex)
    identity_config: dict[str, str] = field(default_factory=_empty_identity_config)
    connectors: dict[str, dict[str, Any]] = field(default_factory=dict)
    """id -> {id, name, type, config_version: int, config: dict}."""
    oidc_clients: dict[str, dict[str, Any]] = field(default_factory=dict)
    """id -> {id, name, secret, redirect_uris: list, trusted_peers: list}."""
    env_managed_identity_config: bool = False
    env_managed_connectors: bool = False
    unreachable_issuers: set[str] = field(default_factory=set)
    """Upstream issuers Dex cannot reach: oidc connectors using them fail to open."""

    # license / enterprise (<= 2.11 only)
    license_code: str | None = None
    license_clusters: dict[str, dict[str, Any]] = field(default_factory=dict)
    """id -> {id, address, user_address, cluster_deployment_id, secret, enterprise_server}."""
    enterprise_state: str = "NONE"
    """NONE, ACTIVE, EXPIRED or HEARTBEAT_FAILED."""
    enterprise_config: dict[str, str] | None = None
    enterprise_license_code: str | None = None
    """The licence the enterprise service copied at its last heartbeat (enterprise.Activate; the
    hourly heartbeat is not modelled): what GetState reports, whatever license.Activate stored
    since (2.11.x src/server/enterprise/server/api_server.go, ``Activate``, ``GetState``)."""

    # cluster identity
    cluster_id: str = "fake-cluster"
    deployment_id: str = "fake-deployment"

    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)


# --- protobuf Struct <-> Python -------------------------------------------------------------------


def value_to_py(value: pb.Value) -> Any:
    """Convert a ``google.protobuf.Value`` to plain Python (numbers become floats)."""
    kind, inner = betterproto.which_one_of(value, "kind")
    if kind == "struct_value":
        return struct_to_dict(value.struct_value)
    if kind == "list_value":
        return [value_to_py(v) for v in value.list_value.values]
    if kind in ("null_value", ""):
        return None
    return inner


def struct_to_dict(struct: pb.Struct) -> dict[str, Any]:
    """Convert a ``google.protobuf.Struct`` to a plain dict."""
    return {k: value_to_py(v) for k, v in struct.fields.items()}


def py_to_value(obj: Any) -> pb.Value:
    """Convert plain Python (JSON-like) to a ``google.protobuf.Value``."""
    if obj is None:
        return pb.Value(null_value=pb.NullValue.NULL_VALUE)
    if isinstance(obj, bool):
        return pb.Value(bool_value=obj)
    if isinstance(obj, int | float):
        return pb.Value(number_value=float(obj))
    if isinstance(obj, str):
        return pb.Value(string_value=obj)
    if isinstance(obj, dict):
        return pb.Value(struct_value=dict_to_struct(obj))
    if isinstance(obj, list | tuple):
        return pb.Value(list_value=pb.ListValue(values=[py_to_value(v) for v in obj]))
    raise TypeError(f"cannot convert {type(obj).__name__} to google.protobuf.Value")


def dict_to_struct(obj: dict[str, Any]) -> pb.Struct:
    """Convert a plain dict to a ``google.protobuf.Struct``."""
    return pb.Struct(fields={str(k): py_to_value(v) for k, v in obj.items()})


def _json_roundtrip(obj: dict[str, Any]) -> dict[str, Any]:
    """Normalise a config the way protojson would (every number is a float)."""
    return struct_to_dict(dict_to_struct(obj))


# --- RPC table ------------------------------------------------------------------------------------

_Msg = Any
"""A response message. pachyderm_sdk ships no ``py.typed``, so its betterproto classes are Any."""

_Policy = Literal["open", "open_until_active", "user", "admin", "license", "license_open"]
"""open: no checks; open_until_active: no checks until auth is on, then a valid token; user: auth
active + valid token; admin: user + clusterAdmin; license: <= 2.11 only, admin when auth is on;
license_open: <= 2.11 only, no checks."""


@dataclass(frozen=True)
class _Spec:
    request: type[betterproto.Message]
    policy: _Policy
    handler: str


_METHODS: dict[str, _Spec] = {
    # auth_v2
    # pachd's interceptor lets Activate through without a token, but on an active cluster the
    # write transaction it opens first asks WhoAmI and fails with its refusal; only a valid
    # token hears "already activated" (src/internal/transactionenv/txncontext/context.go, New).
    "/auth_v2.API/Activate": _Spec(auth.ActivateRequest, "open_until_active", "_auth_activate"),
    "/auth_v2.API/Deactivate": _Spec(auth.DeactivateRequest, "admin", "_auth_deactivate"),
    "/auth_v2.API/GetConfiguration": _Spec(
        auth.GetConfigurationRequest, "admin", "_auth_get_configuration"
    ),
    "/auth_v2.API/SetConfiguration": _Spec(
        auth.SetConfigurationRequest, "admin", "_auth_set_configuration"
    ),
    "/auth_v2.API/WhoAmI": _Spec(auth.WhoAmIRequest, "user", "_auth_who_am_i"),
    "/auth_v2.API/ModifyRoleBinding": _Spec(
        auth.ModifyRoleBindingRequest, "user", "_auth_modify_role_binding"
    ),
    "/auth_v2.API/GetRoleBinding": _Spec(
        auth.GetRoleBindingRequest, "user", "_auth_get_role_binding"
    ),
    "/auth_v2.API/RotateRootToken": _Spec(
        auth.RotateRootTokenRequest, "admin", "_auth_rotate_root_token"
    ),
    "/auth_v2.API/GetRobotToken": _Spec(
        auth.GetRobotTokenRequest, "admin", "_auth_get_robot_token"
    ),
    "/auth_v2.API/RevokeAuthToken": _Spec(
        auth.RevokeAuthTokenRequest, "user", "_auth_revoke_auth_token"
    ),
    # pfs_v2 / pps_v2
    "/pfs_v2.API/ActivateAuth": _Spec(pfs.ActivateAuthRequest, "admin", "_pfs_activate_auth"),
    "/pps_v2.API/ActivateAuth": _Spec(pps.ActivateAuthRequest, "admin", "_pps_activate_auth"),
    # pfs_v2 projects and repos: a valid token once auth is on (pachd's own permission checks
    # beyond that are not modelled; the stack calls them as pach:root).
    "/pfs_v2.API/CreateProject": _Spec(
        pfs.CreateProjectRequest, "open_until_active", "_pfs_create_project"
    ),
    "/pfs_v2.API/InspectProject": _Spec(
        pfs.InspectProjectRequest, "open_until_active", "_pfs_inspect_project"
    ),
    "/pfs_v2.API/DeleteProject": _Spec(
        pfs.DeleteProjectRequest, "open_until_active", "_pfs_delete_project"
    ),
    "/pfs_v2.API/CreateRepo": _Spec(pfs.CreateRepoRequest, "open_until_active", "_pfs_create_repo"),
    "/pfs_v2.API/DeleteRepo": _Spec(pfs.DeleteRepoRequest, "open_until_active", "_pfs_delete_repo"),
    # identity_v2
    "/identity_v2.API/SetIdentityServerConfig": _Spec(
        identity.SetIdentityServerConfigRequest, "admin", "_identity_set_config"
    ),
    "/identity_v2.API/GetIdentityServerConfig": _Spec(
        identity.GetIdentityServerConfigRequest, "admin", "_identity_get_config"
    ),
    "/identity_v2.API/CreateIDPConnector": _Spec(
        identity.CreateIdpConnectorRequest, "admin", "_identity_create_connector"
    ),
    "/identity_v2.API/UpdateIDPConnector": _Spec(
        identity.UpdateIdpConnectorRequest, "admin", "_identity_update_connector"
    ),
    "/identity_v2.API/GetIDPConnector": _Spec(
        identity.GetIdpConnectorRequest, "admin", "_identity_get_connector"
    ),
    "/identity_v2.API/ListIDPConnectors": _Spec(
        identity.ListIdpConnectorsRequest, "admin", "_identity_list_connectors"
    ),
    "/identity_v2.API/DeleteIDPConnector": _Spec(
        identity.DeleteIdpConnectorRequest, "admin", "_identity_delete_connector"
    ),
    "/identity_v2.API/CreateOIDCClient": _Spec(
        identity.CreateOidcClientRequest, "admin", "_identity_create_client"
    ),
    "/identity_v2.API/UpdateOIDCClient": _Spec(
        identity.UpdateOidcClientRequest, "admin", "_identity_update_client"
    ),
    "/identity_v2.API/GetOIDCClient": _Spec(
        identity.GetOidcClientRequest, "admin", "_identity_get_client"
    ),
    "/identity_v2.API/ListOIDCClients": _Spec(
        identity.ListOidcClientsRequest, "admin", "_identity_list_clients"
    ),
    "/identity_v2.API/DeleteOIDCClient": _Spec(
        identity.DeleteOidcClientRequest, "admin", "_identity_delete_client"
    ),
    "/identity_v2.API/DeleteAll": _Spec(identity.DeleteAllRequest, "admin", "_identity_delete_all"),
    # license_v2 (<= 2.11)
    "/license_v2.API/Activate": _Spec(license.ActivateRequest, "license", "_license_activate"),
    "/license_v2.API/GetActivationCode": _Spec(
        license.GetActivationCodeRequest, "license", "_license_get_activation_code"
    ),
    "/license_v2.API/AddCluster": _Spec(
        license.AddClusterRequest, "license", "_license_add_cluster"
    ),
    "/license_v2.API/UpdateCluster": _Spec(
        license.UpdateClusterRequest, "license", "_license_update_cluster"
    ),
    "/license_v2.API/DeleteCluster": _Spec(
        license.DeleteClusterRequest, "license", "_license_delete_cluster"
    ),
    "/license_v2.API/ListClusters": _Spec(
        license.ListClustersRequest, "license", "_license_list_clusters"
    ),
    "/license_v2.API/DeleteAll": _Spec(license.DeleteAllRequest, "license", "_license_delete_all"),
    # enterprise_v2 (<= 2.11)
    "/enterprise_v2.API/Activate": _Spec(
        enterprise.ActivateRequest, "license", "_enterprise_activate"
    ),
    "/enterprise_v2.API/GetState": _Spec(
        enterprise.GetStateRequest, "license_open", "_enterprise_get_state"
    ),
    "/enterprise_v2.API/GetActivationCode": _Spec(
        enterprise.GetActivationCodeRequest, "license", "_enterprise_get_activation_code"
    ),
    "/enterprise_v2.API/Deactivate": _Spec(
        enterprise.DeactivateRequest, "license", "_enterprise_deactivate"
    ),
    # admin_v2 / versionpb_v2
    "/admin_v2.API/InspectCluster": _Spec(
        admin.InspectClusterRequest, "open", "_admin_inspect_cluster"
    ),
    "/versionpb_v2.API/GetVersion": _Spec(pb.Empty, "open", "_version_get_version"),
}

MODELLED_METHODS: tuple[str, ...] = tuple(short_name(m) for m in _METHODS)
"""Short names of every RPC the fake models."""


@dataclass
class _Fault:
    code: grpc.StatusCode
    details: str
    times: int
    after: bool
    echo_request: bool = False


class _CatchAllHandler:
    """A generic RPC handler that routes every method to the fake (duck-typed for grpc)."""

    def __init__(self, dispatch: Callable[[str, bytes, Any], bytes]) -> None:
        self._dispatch = dispatch

    def service(self, handler_call_details: Any) -> Any:
        """Return a raw-bytes unary handler bound to the called method."""
        method: str = handler_call_details.method

        def behaviour(request: bytes, context: Any) -> bytes:
            return self._dispatch(method, request, context)

        return grpc.unary_unary_rpc_method_handler(behaviour)


class FakePachd(Serving):
    """A pachd stand-in: a real gRPC server on 127.0.0.1 with pachd's auth semantics."""

    def __init__(
        self,
        *,
        version: tuple[int, int, int] = (2, 12, 2),
        ready_after: float = 0.0,
        env_managed_identity: bool = False,
        tls: ServerCertificate | None = None,
    ) -> None:
        """Configure the fake; ``start()`` binds the port and starts serving.

        ``version`` selects the product: minor <= 11 has the license/enterprise services and the
        enterprise gate on ``auth.Activate``; 2.12+ has neither. Every RPC fails UNAVAILABLE until
        ``ready_after`` seconds after ``start()``. ``env_managed_identity`` models a chart that
        manages the identity config and connectors through the environment. With ``tls`` it
        serves TLS only, with that certificate, on localhost, and ``address`` is
        ``grpcs://localhost:<port>`` (the name a test certificate carries).
        """
        self.version = version
        self.tls = tls
        self.ready_after = ready_after
        self.env_managed_identity = env_managed_identity
        self.unready_details = NOT_READY
        """Details of the UNAVAILABLE answer while not ready. Set it to contain "failed to
        connect to all addresses" to have the SDK raise ``ConnectionError`` instead."""
        self.state = PachdState(
            env_managed_identity_config=env_managed_identity,
            env_managed_connectors=env_managed_identity,
        )
        self.calls: list[str] = []
        self.port = 0
        self.address = ""
        self._faults: dict[str, list[_Fault]] = collections.defaultdict(list)
        self._meta_lock = threading.Lock()
        self._ready_at = 0.0
        self._server: Any = None
        self._current_token: str | None = None
        """The token of the call being handled (handlers run one at a time, under the lock)."""

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> FakePachd:
        """Bind 127.0.0.1 on a free port and start serving; returns self."""
        if self._server is not None:
            raise RuntimeError("FakePachd is already started")
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="pachd"))
        server.add_generic_rpc_handlers((_CatchAllHandler(self._dispatch),))
        if self.tls is None:
            port = server.add_insecure_port("127.0.0.1:0")
        else:
            credentials = grpc.ssl_server_credentials(
                [(self.tls.private_key, self.tls.certificate_chain)]
            )
            # Every address localhost resolves to (127.0.0.1, and ::1 where it does): a client
            # tries them all, and its error must come from this server's handshake.
            port = server.add_secure_port("localhost:0", credentials)
        if not port:
            raise RuntimeError("FakePachd could not bind a loopback port")
        self._ready_at = time.monotonic() + self.ready_after
        server.start()
        self._server = server
        self.port = port
        self.address = (
            f"grpc://127.0.0.1:{port}" if self.tls is None else f"grpcs://localhost:{port}"
        )
        return self

    def stop(self) -> None:
        """Stop serving (in-flight RPCs are cancelled). Safe to call twice."""
        server, self._server = self._server, None
        if server is not None:
            server.stop(grace=None).wait()

    def delay_readiness(self, seconds: float) -> None:
        """Answer UNAVAILABLE for the next ``seconds`` (a pachd restart; state is kept)."""
        self._ready_at = time.monotonic() + seconds

    @property
    def ready(self) -> bool:
        """Whether the server currently answers RPCs."""
        return time.monotonic() >= self._ready_at

    @property
    def legacy(self) -> bool:
        """True for pachd <= 2.11 (license/enterprise services and the enterprise gate)."""
        return self.version < (2, 12, 0)

    # --- convenience -----------------------------------------------------------------------------

    def client(self, auth_token: str | None = None) -> Any:
        """Return a real ``pachyderm_sdk.Client`` pointed at this server (plaintext only)."""
        from pachyderm_sdk import Client

        return Client(host="127.0.0.1", port=self.port, auth_token=auth_token)

    # --- faults and the call log ------------------------------------------------------------------

    def inject(
        self,
        method: str,
        code: grpc.StatusCode,
        details: str = "injected fault",
        *,
        times: int = 1,
        after: bool = False,
        echo_request: bool = False,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail with ``code``/``details``.

        ``method`` is a short name (``identity.CreateIDPConnector``) or a full path. With
        ``after=True`` the call's effect is applied first and only the response is lost (like a
        pachd restart mid-call); such a fault is consumed only by a call that succeeded. With
        ``echo_request=True`` the details end with the request's JSON, secrets and all, as a
        server that quotes a bad request does. Faults for one method queue up in injection order.
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._meta_lock:
            self._faults[short_name(method)].append(
                _Fault(code, details, times, after, echo_request)
            )

    def pending_faults(self) -> dict[str, int]:
        """Short name -> number of injected failures not yet delivered."""
        with self._meta_lock:
            return {k: sum(f.times for f in v) for k, v in self._faults.items() if v}

    def call_counts(self) -> collections.Counter[str]:
        """Count of calls per short name."""
        with self._meta_lock:
            return collections.Counter(self.calls)

    def reads(self) -> list[str]:
        """Return the calls (in order) that are reads: Get*, List*, Inspect*, WhoAmI."""
        with self._meta_lock:
            return [c for c in self.calls if is_read(c)]

    def writes(self) -> list[str]:
        """Return the calls (in order) that are writes (everything not a read)."""
        with self._meta_lock:
            return [c for c in self.calls if not is_read(c)]

    def reset_calls(self) -> None:
        """Forget the call log (faults stay armed)."""
        with self._meta_lock:
            self.calls.clear()

    def wipe(self) -> None:
        """Back to a freshly installed pachd at the same address: new state, no calls or faults."""
        with self._meta_lock:
            self.state = PachdState(
                env_managed_identity_config=self.env_managed_identity,
                env_managed_connectors=self.env_managed_identity,
            )
            self.calls.clear()
            self._faults.clear()

    def _take_fault(self, method: str, raw: bytes, *, after: bool) -> PachdError | None:
        with self._meta_lock:
            queue = self._faults.get(short_name(method))
            if not queue or queue[0].after != after:
                return None
            fault = queue[0]
            fault.times -= 1
            if fault.times == 0:
                queue.pop(0)
        details = fault.details
        spec = _METHODS.get(method)
        if fault.echo_request and spec is not None:
            details = f"{details}: {spec.request().parse(raw).to_json()}"
        return PachdError(fault.code, details)

    # --- dispatch ---------------------------------------------------------------------------------

    def _dispatch(self, method: str, raw: bytes, context: Any) -> bytes:
        short = short_name(method)
        with self._meta_lock:
            self.calls.append(short)
        outcome = self._handle(method, short, raw, context)
        if isinstance(outcome, PachdError):
            context.abort(outcome.code, outcome.details)
            raise AssertionError("unreachable: context.abort raises")  # pragma: no cover
        return outcome

    def _handle(self, method: str, short: str, raw: bytes, context: Any) -> bytes | PachdError:
        if not self.ready:
            return PachdError(grpc.StatusCode.UNAVAILABLE, self.unready_details)
        fault = self._take_fault(method, raw, after=False)
        if fault is not None:
            return fault
        service, _, name = method.lstrip("/").partition("/")
        if service in _LEGACY_SERVICES and not self.legacy:
            return PachdError(grpc.StatusCode.UNIMPLEMENTED, f"unknown service {service}")
        spec = _METHODS.get(method)
        if spec is None:
            if service in _SERVICE_PREFIXES:
                details = f"unknown method {name} for service {service}"
            else:
                details = f"unknown service {service}"
            return PachdError(grpc.StatusCode.UNIMPLEMENTED, details)
        token = _token_from(context)
        try:
            request = spec.request().parse(raw)
            with self.state.lock:
                subject = self._authorize(spec.policy, token)
                self._current_token = token
                response: _Msg = getattr(self, spec.handler)(request, subject)
        except PachdError as err:
            return err
        fault = self._take_fault(method, raw, after=True)
        if fault is not None:
            return fault
        return bytes(response)

    # --- authentication and authorisation ---------------------------------------------------------

    def _subject(self, token: str | None) -> str:
        """Resolve the caller's token (auth must be active)."""
        if not token:
            raise PachdError(grpc.StatusCode.UNAUTHENTICATED, NO_TOKEN)
        subject = self.state.tokens.get(token)
        expires = self.state.token_expiry.get(token)
        if subject is None or (expires is not None and expires <= datetime.now(UTC)):
            raise PachdError(grpc.StatusCode.UNAUTHENTICATED, BAD_TOKEN)
        return subject

    def _roles_of(self, subject: str) -> set[str]:
        bindings = self.state.cluster_role_bindings
        roles = set(bindings.get(subject, set())) | set(bindings.get("allClusterUsers", set()))
        for group in self.state.user_groups.get(subject, set()):
            roles |= bindings.get(group, set())
        return roles

    def _require_admin(self, subject: str) -> None:
        if subject == "pach:root" or "clusterAdmin" in self._roles_of(subject):
            return
        raise PachdError(
            grpc.StatusCode.PERMISSION_DENIED,
            f"{subject} is not authorized to perform this operation - needs permissions "
            "[CLUSTER_ADMIN] on CLUSTER",
        )

    def _authorize(self, policy: _Policy, token: str | None) -> str | None:
        """Apply the method's policy; return the caller's subject when known."""
        if policy in ("open", "license_open"):
            return None
        if policy == "open_until_active":
            return self._subject(token) if self.state.auth_active else None
        if policy == "license":
            if not self.state.auth_active:
                return None
            subject = self._subject(token)
            self._require_admin(subject)
            return subject
        if not self.state.auth_active:
            raise PachdError(grpc.StatusCode.UNIMPLEMENTED, NOT_ACTIVATED)
        subject = self._subject(token)
        if policy == "admin":
            self._require_admin(subject)
        return subject

    # --- auth_v2 ----------------------------------------------------------------------------------

    def _auth_activate(self, req: Any, subject: str | None) -> _Msg:
        st = self.state
        if self.legacy and st.enterprise_state != "ACTIVE":
            raise _unknown(ENTERPRISE_NOT_ACTIVE)
        if st.auth_active:
            raise PachdError(grpc.StatusCode.UNIMPLEMENTED, ALREADY_ACTIVATED)
        token = req.root_token or uuid.uuid4().hex
        st.auth_active = True
        st.root_token = token
        st.tokens[token] = "pach:root"
        st.cluster_role_bindings = {
            "pach:root": {"clusterAdmin"},
            "internal:auth-server": {"clusterAdmin"},
            "allClusterUsers": {"projectCreator"},
        }
        return auth.ActivateResponse(pach_token=token)

    def _auth_deactivate(self, req: Any, subject: str | None) -> _Msg:
        st = self.state
        st.auth_active = False
        st.root_token = None
        st.tokens.clear()
        st.cluster_role_bindings.clear()
        st.resource_role_bindings.clear()
        st.user_groups.clear()
        st.auth_config = None
        st.pfs_auth_active = False
        st.pps_auth_active = False
        st.connectors.clear()
        st.oidc_clients.clear()
        return auth.DeactivateResponse()

    def _auth_get_configuration(self, req: Any, subject: str | None) -> _Msg:
        cfg = self.state.auth_config
        if cfg is None:
            # pachd sends an empty configuration, present on the wire.
            empty = auth.OidcConfig()
            empty._serialized_on_wire = True
            return auth.GetConfigurationResponse(configuration=empty)
        return auth.GetConfigurationResponse(
            configuration=auth.OidcConfig(
                issuer=cfg["issuer"],
                client_id=cfg["client_id"],
                client_secret=cfg["client_secret"],
                redirect_uri=cfg["redirect_uri"],
                scopes=list(cfg["scopes"]),
                require_email_verified=cfg["require_email_verified"],
                localhost_issuer=cfg["localhost_issuer"],
                user_accessible_issuer_host=cfg["user_accessible_issuer_host"],
            )
        )

    def _auth_set_configuration(self, req: Any, subject: str | None) -> _Msg:
        cfg = req.configuration
        if not cfg.client_id:
            raise _unknown("OIDC configuration must have a non-empty client_id")
        dex_issuer = self.state.identity_config.get("issuer", "")
        # With localhost_issuer pachd asks its own Dex, which serves discovery at its issuer's
        # path only (pachyderm src/server/auth/server/oidc.go, newOIDCConfig).
        if cfg.localhost_issuer and _path(cfg.issuer) != _path(dex_issuer):
            raise _unknown(
                "provided OIDC issuer does not implement OIDC protocol: 404 Not Found: "
                "404 page not found\n"
            )
        if cfg.issuer != dex_issuer:
            raise _unknown(
                "provided OIDC issuer does not implement OIDC protocol: oidc: issuer did not "
                f'match the issuer returned by provider, expected "{cfg.issuer}" got '
                f'"{dex_issuer}"'
            )
        self.state.auth_config = {
            "issuer": cfg.issuer,
            "client_id": cfg.client_id,
            "client_secret": cfg.client_secret,
            "redirect_uri": cfg.redirect_uri,
            "scopes": list(cfg.scopes),
            "localhost_issuer": cfg.localhost_issuer,
            "user_accessible_issuer_host": cfg.user_accessible_issuer_host,
            "require_email_verified": cfg.require_email_verified,
        }
        return auth.SetConfigurationResponse()

    def _auth_who_am_i(self, req: Any, subject: str | None) -> _Msg:
        token = self._current_token
        return auth.WhoAmIResponse(
            username=subject or "", expiration=self.state.token_expiry.get(token or "")
        )

    def _auth_get_robot_token(self, req: Any, subject: str | None) -> _Msg:
        # src/server/auth/server/api_server.go, GetRobotToken: a redundant prefix is dropped.
        name = req.robot.removeprefix("robot:")
        if ":" in name:
            raise _unknown("robot names cannot contain colons (':')")
        token = uuid.uuid4().hex
        self.state.tokens[token] = f"robot:{name}"
        if req.ttl > 0:
            self.state.token_expiry[token] = datetime.now(UTC) + timedelta(seconds=req.ttl)
        return auth.GetRobotTokenResponse(token=token)

    def _auth_revoke_auth_token(self, req: Any, subject: str | None) -> _Msg:
        revoked = int(self.state.tokens.pop(req.token, None) is not None)
        self.state.token_expiry.pop(req.token, None)
        return auth.RevokeAuthTokenResponse(number=revoked)

    def _auth_modify_role_binding(self, req: Any, subject: str | None) -> _Msg:
        # The order of pachd's checks (ModifyRoleBindingInTransaction and
        # setUserRoleBindingInTransaction, src/server/auth/server/api_server.go).
        principal: str = req.principal
        if principal != "allClusterUsers":
            prefix, colon, _ = principal.partition(":")
            if not colon:
                raise _unknown("subject has no prefix, must be of the form <type>:<name>")
            if f"{prefix}:" not in _PRINCIPAL_PREFIXES:
                raise _unknown(f"subject has unrecognized prefix: {prefix}:")
        rtype = req.resource.type
        if principal.startswith("pach:") and rtype == auth.ResourceType.CLUSTER:
            raise _unknown("cannot modify cluster role bindings for pach: users")
        if rtype not in _BINDABLE_TYPES:
            raise _unknown(f"unknown resource type {_resource_type_name(rtype)}")
        self._require_admin(subject or "")
        # The roles of the emulated release (``getRole``, src/server/auth/server/roles.go);
        # where a role may be bound (``CanBeBoundTo``) pachd does not check.
        known = roles_of(self.version)
        for role in req.roles:
            if role not in known:
                raise _unknown(f'unknown role "{role}"')
        bindings = self._bindings_of(req.resource)
        if bindings is None:
            raise _unknown(f"{NO_ROLE_BINDING} {_resource_type_name(rtype)} {req.resource.name}")
        if req.roles:
            bindings[principal] = set(req.roles)
        else:
            bindings.pop(principal, None)
        return auth.ModifyRoleBindingResponse()

    def _bindings_of(self, resource: Any) -> dict[str, set[str]] | None:
        """The live binding of ``resource``; ``None`` when pachd has no row for it."""
        if resource.type == auth.ResourceType.CLUSTER:
            return self.state.cluster_role_bindings
        return self.state.resource_role_bindings.get(_resource_key(resource.type, resource.name))

    def _auth_get_role_binding(self, req: Any, subject: str | None) -> _Msg:
        bindings = self._bindings_of(req.resource) or {}
        entries = {
            p: auth.Roles(roles=dict.fromkeys(sorted(roles), True)) for p, roles in bindings.items()
        }
        return auth.GetRoleBindingResponse(binding=auth.RoleBinding(entries=entries))

    def _auth_rotate_root_token(self, req: Any, subject: str | None) -> _Msg:
        st = self.state
        if st.root_token_from_env:
            raise _unknown(
                "RotateRootToken() is disabled when the root token is configured in the environment"
            )
        token = req.root_token or uuid.uuid4().hex
        st.tokens = {t: s for t, s in st.tokens.items() if s != "pach:root"}
        st.tokens[token] = "pach:root"
        st.root_token = token
        return auth.RotateRootTokenResponse(root_token=token)

    # --- pfs_v2 / pps_v2 --------------------------------------------------------------------------

    def _pfs_activate_auth(self, req: Any, subject: str | None) -> _Msg:
        # Bindings for what existed before auth: allClusterUsers writes to `default`, nobody
        # holds the rest (ActivateAuthInTransaction, src/server/pfs/server/api_server.go).
        st = self.state
        for project in st.projects:
            roles = {"allClusterUsers": {"projectWriter"}} if project == DEFAULT_PROJECT else {}
            st.resource_role_bindings.setdefault(_resource_key(_PROJECT, project), roles)
        for repo in st.repos:
            st.resource_role_bindings.setdefault(_resource_key(_REPO, repo), {})
        st.pfs_auth_active = True
        return pfs.ActivateAuthResponse()

    def _owned_by(self, subject: str | None, kind: Any, name: str, role: str) -> None:
        """pachd makes the creator ``role`` of what it creates while auth is on."""
        if self.state.auth_active and subject:
            key = _resource_key(kind, name)
            self.state.resource_role_bindings.setdefault(key, {subject: {role}})

    def _pfs_create_project(self, req: Any, subject: str | None) -> _Msg:
        # createProjectInTransaction, src/server/pfs/server/server_project.go.
        name = req.project.name
        if name != DEFAULT_PROJECT and not _PACHD_NAME.fullmatch(name):
            raise _unknown(
                f"invalid project name: name ({name}) invalid: only alphanumeric characters, "
                "underscores, and dashes are allowed"
            )
        if name in self.state.projects:
            raise PachdError(
                grpc.StatusCode.ALREADY_EXISTS,
                f'project "{name}" already exists\nproject {name} already exists',
            )
        self._owned_by(subject, _PROJECT, name, "projectOwner")
        self.state.projects[name] = subject or ""
        return pb.Empty()

    def _pfs_inspect_project(self, req: Any, subject: str | None) -> _Msg:
        name = req.project.name
        if name not in self.state.projects:
            raise PachdError(
                grpc.StatusCode.NOT_FOUND,
                f'error getting project "{name}": get project by name: project "{name}" not found',
            )
        return pfs.ProjectInfo(project=pfs.Project(name=name), created_by=self.state.projects[name])

    def _pfs_delete_project(self, req: Any, subject: str | None) -> _Msg:
        name = req.project.name
        if name not in self.state.projects:
            raise PachdError(
                grpc.StatusCode.NOT_FOUND,
                f'delete project "{name}": project "{name}" not found',
            )
        held = sorted(repo for repo in self.state.repos if repo.partition("/")[0] == name)
        if held:
            raise PachdError(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"cannot delete project {name}: repo {held[0]} still exists",
            )
        del self.state.projects[name]
        self.state.resource_role_bindings.pop(_resource_key(_PROJECT, name), None)
        return pb.Empty()

    def _pfs_create_repo(self, req: Any, subject: str | None) -> _Msg:
        repo = f"{req.repo.project.name or DEFAULT_PROJECT}/{req.repo.name}"
        if repo in self.state.repos:
            raise PachdError(grpc.StatusCode.ALREADY_EXISTS, f"repo {repo} already exists")
        self._owned_by(subject, _REPO, repo, "repoOwner")
        self.state.repos.add(repo)
        return pb.Empty()

    def _pfs_delete_repo(self, req: Any, subject: str | None) -> _Msg:
        repo = f"{req.repo.project.name or DEFAULT_PROJECT}/{req.repo.name}"
        deleted = repo in self.state.repos
        self.state.repos.discard(repo)
        self.state.resource_role_bindings.pop(_resource_key(_REPO, repo), None)
        return pfs.DeleteRepoResponse(deleted=deleted)

    def _pps_activate_auth(self, req: Any, subject: str | None) -> _Msg:
        self.state.pps_auth_active = True
        return pps.ActivateAuthResponse()

    # --- identity_v2: server config ---------------------------------------------------------------

    def _identity_set_config(self, req: Any, subject: str | None) -> _Msg:
        if self.state.env_managed_identity_config:
            # 2.11.x says "is disable when" (src/server/identity/server/api_server.go).
            verb = "disable" if self.legacy else "disabled"
            raise _unknown(
                f"identity.SetIdentityServerConfig() is {verb} when the Identity Config is set "
                "via environment."
            )
        cfg = req.config
        self.state.identity_config = {
            "issuer": cfg.issuer,
            "id_token_expiry": cfg.id_token_expiry,
            "rotation_token_expiry": cfg.rotation_token_expiry,
        }
        return identity.SetIdentityServerConfigResponse()

    def _identity_get_config(self, req: Any, subject: str | None) -> _Msg:
        cfg = self.state.identity_config
        return identity.GetIdentityServerConfigResponse(
            config=identity.IdentityServerConfig(
                issuer=cfg.get("issuer", ""),
                id_token_expiry=cfg.get("id_token_expiry", ""),
                rotation_token_expiry=cfg.get("rotation_token_expiry", ""),
            )
        )

    # --- identity_v2: connectors ------------------------------------------------------------------

    def _refuse_env_connectors(self, rpc: str) -> None:
        if self.state.env_managed_connectors:
            raise _unknown(
                f"identity.{rpc}() is disabled when the Identity Connectors are set via "
                "environment."
            )

    @staticmethod
    def _pick_config(conn: Any) -> dict[str, Any] | None:
        """``identityutil.PickConfig``: the Struct if it has fields, else jsonConfig, else None."""
        if conn.config.fields:
            return struct_to_dict(conn.config)
        raw = conn.json_config
        if raw and raw != "null":
            try:
                parsed = json.loads(raw)
            except ValueError as err:
                raise _unknown(f"unable to deserialize JSON: {err}") from err
            if not isinstance(parsed, dict):
                raise _unknown("unable to deserialize JSON: config is not a JSON object")
            return _json_roundtrip(parsed)
        return None

    def _validate_connector(self, conn_type: str, config: dict[str, Any]) -> None:
        """Fail the way Dex's ``Open()`` would for an obviously broken config."""
        if conn_type not in _CONNECTOR_TYPES:
            raise _unknown(f'unknown connector type "{conn_type}"')
        if conn_type != "oidc":
            return
        issuer = config.get("issuer")
        if not isinstance(issuer, str) or not issuer:
            raise _unknown(
                "unable to open connector: failed to get provider: Get "
                '"/.well-known/openid-configuration": unsupported protocol scheme ""'
            )
        if issuer in self.state.unreachable_issuers:
            where = urlsplit(issuer)
            port = where.port or (443 if where.scheme == "https" else 80)
            raise _unknown(
                "unable to open connector: failed to get provider: Get "
                f'"{issuer.rstrip("/")}/.well-known/openid-configuration": dial tcp '
                f"{where.hostname}:{port}: connect: connection refused"
            )

    def _identity_create_connector(self, req: Any, subject: str | None) -> _Msg:
        self._refuse_env_connectors("CreateIDPConnector")
        conn = req.connector
        if not conn.id:
            raise _unknown("no id specified")
        if not conn.type:
            raise _unknown("no type specified")
        if not conn.name:
            raise _unknown("no name specified")
        config = self._pick_config(conn)
        if config is None:
            raise _unknown("no configs are defined")
        self._validate_connector(conn.type, config)
        if conn.id in self.state.connectors:
            raise PachdError(grpc.StatusCode.INTERNAL, "ID already exists")
        self.state.connectors[conn.id] = {
            "id": conn.id,
            "name": conn.name,
            "type": conn.type,
            "config_version": int(conn.config_version),
            "config": config,
        }
        return identity.CreateIdpConnectorResponse()

    def _identity_update_connector(self, req: Any, subject: str | None) -> _Msg:
        self._refuse_env_connectors("UpdateIDPConnector")
        conn = req.connector
        stored = self.state.connectors.get(conn.id)
        if stored is None:
            raise _unknown("not found")
        expected = stored["config_version"] + 1
        if int(conn.config_version) != expected:
            raise _unknown(f"new config version is {conn.config_version}, expected {expected}")
        name = conn.name or stored["name"]
        conn_type = conn.type or stored["type"]
        new_config = self._pick_config(conn)
        config = stored["config"] if new_config is None else new_config
        self._validate_connector(conn_type, config)
        stored.update(config_version=expected, name=name, type=conn_type, config=config)
        return identity.UpdateIdpConnectorResponse()

    @staticmethod
    def _connector_message(stored: dict[str, Any]) -> Any:
        return identity.IdpConnector(
            id=stored["id"],
            name=stored["name"],
            type=stored["type"],
            config_version=int(stored["config_version"]),
            config=dict_to_struct(stored["config"]),
        )

    def _identity_get_connector(self, req: Any, subject: str | None) -> _Msg:
        stored = self.state.connectors.get(req.id)
        if stored is None:
            raise PachdError(grpc.StatusCode.INTERNAL, "ID does not exist")
        return identity.GetIdpConnectorResponse(connector=self._connector_message(stored))

    def _identity_list_connectors(self, req: Any, subject: str | None) -> _Msg:
        return identity.ListIdpConnectorsResponse(
            connectors=[self._connector_message(c) for c in self.state.connectors.values()]
        )

    def _identity_delete_connector(self, req: Any, subject: str | None) -> _Msg:
        self._refuse_env_connectors("DeleteIDPConnector")
        if self.state.connectors.pop(req.id, None) is None:
            raise _unknown("not found")
        return identity.DeleteIdpConnectorResponse()

    # --- identity_v2: OIDC clients ----------------------------------------------------------------

    @staticmethod
    def _client_message(stored: dict[str, Any]) -> Any:
        return identity.OidcClient(
            id=stored["id"],
            name=stored["name"],
            secret=stored["secret"],
            redirect_uris=list(stored["redirect_uris"]),
            trusted_peers=list(stored["trusted_peers"]),
        )

    def _identity_create_client(self, req: Any, subject: str | None) -> _Msg:
        client = req.client
        if not client.name:
            raise _unknown("no client name specified")
        if not client.id:
            raise _unknown("no client id specified")
        if client.id in self.state.oidc_clients:
            raise PachdError(grpc.StatusCode.INTERNAL, "ID already exists")
        stored = {
            "id": client.id,
            "name": client.name,
            "secret": client.secret or secrets.token_urlsafe(24),
            "redirect_uris": list(client.redirect_uris),
            "trusted_peers": list(client.trusted_peers),
        }
        self.state.oidc_clients[client.id] = stored
        return identity.CreateOidcClientResponse(client=self._client_message(stored))

    def _identity_update_client(self, req: Any, subject: str | None) -> _Msg:
        client = req.client
        stored = self.state.oidc_clients.get(client.id)
        if stored is None:
            raise _unknown(f'unable to find OIDC client with id "{client.id}"')
        # Dex's UpdateClient: empty fields keep the old values; the secret never changes.
        if client.name:
            stored["name"] = client.name
        if client.redirect_uris:
            stored["redirect_uris"] = list(client.redirect_uris)
        if client.trusted_peers:
            stored["trusted_peers"] = list(client.trusted_peers)
        return identity.UpdateOidcClientResponse()

    def _identity_get_client(self, req: Any, subject: str | None) -> _Msg:
        stored = self.state.oidc_clients.get(req.id)
        if stored is None:
            raise PachdError(grpc.StatusCode.INTERNAL, "ID does not exist")
        return identity.GetOidcClientResponse(client=self._client_message(stored))

    def _identity_list_clients(self, req: Any, subject: str | None) -> _Msg:
        return identity.ListOidcClientsResponse(
            clients=[self._client_message(c) for c in self.state.oidc_clients.values()]
        )

    def _identity_delete_client(self, req: Any, subject: str | None) -> _Msg:
        if self.state.oidc_clients.pop(req.id, None) is None:
            raise _unknown(f'unable to find OIDC client with id "{req.id}"')
        return identity.DeleteOidcClientResponse()

    def _identity_delete_all(self, req: Any, subject: str | None) -> _Msg:
        self.state.connectors.clear()
        self.state.oidc_clients.clear()
        return identity.DeleteAllResponse()

    # --- license_v2 (<= 2.11) ---------------------------------------------------------------------

    @staticmethod
    def _token_info() -> Any:
        return enterprise.TokenInfo(expires=datetime.now(UTC) + timedelta(days=365))

    def _license_activate(self, req: Any, subject: str | None) -> _Msg:
        if not req.activation_code:
            raise _unknown("error validating activation code: activation code is empty")
        self.state.license_code = req.activation_code
        return license.ActivateResponse(info=self._token_info())

    def _license_get_activation_code(self, req: Any, subject: str | None) -> _Msg:
        code = self.state.license_code
        if code is None:
            return license.GetActivationCodeResponse(state=enterprise.State.NONE)
        return license.GetActivationCodeResponse(
            state=enterprise.State.ACTIVE, info=self._token_info(), activation_code=code
        )

    def _require_license(self) -> None:
        if self.state.license_code is None:
            raise _unknown("enterprise license is not valid - NONE")

    def _license_add_cluster(self, req: Any, subject: str | None) -> _Msg:
        self._require_license()
        if not req.id or not req.address:
            raise _unknown("no id/address provided for cluster")
        if req.id in self.state.license_clusters:
            raise PachdError(grpc.StatusCode.UNIMPLEMENTED, "cluster ID is not unique")
        secret = req.secret or secrets.token_urlsafe(23)[:30]
        self.state.license_clusters[req.id] = {
            "id": req.id,
            "address": req.address,
            "user_address": req.user_address,
            "cluster_deployment_id": req.cluster_deployment_id,
            "secret": secret,
            "enterprise_server": req.enterprise_server,
        }
        return license.AddClusterResponse(secret=secret)

    def _license_update_cluster(self, req: Any, subject: str | None) -> _Msg:
        # 2.11.x src/server/license/server/api_server.go ``UpdateCluster``: no licence check, an
        # SQL UPDATE of the fields given (none is an error), no error for an unknown id.
        keys = ("address", "user_address", "cluster_deployment_id", "secret")
        values = {key: getattr(req, key) for key in keys if getattr(req, key)}
        if not values:
            raise _unknown("No cluster fields were provided to the UpdateCluster RPC")
        stored = self.state.license_clusters.get(req.id)
        if stored is not None:
            stored.update(values)
        return license.UpdateClusterResponse()

    def _license_delete_cluster(self, req: Any, subject: str | None) -> _Msg:
        self.state.license_clusters.pop(req.id, None)
        return license.DeleteClusterResponse()

    def _license_list_clusters(self, req: Any, subject: str | None) -> _Msg:
        return license.ListClustersResponse(
            clusters=[
                license.ClusterStatus(id=c["id"], address=c["address"])
                for c in self.state.license_clusters.values()
            ]
        )

    def _license_delete_all(self, req: Any, subject: str | None) -> _Msg:
        self.state.license_code = None
        self.state.license_clusters.clear()
        return license.DeleteAllResponse()

    # --- enterprise_v2 (<= 2.11) ------------------------------------------------------------------

    def _enterprise_activate(self, req: Any, subject: str | None) -> _Msg:
        cluster = self.state.license_clusters.get(req.id)
        if self.state.license_code is None:
            raise _unknown(
                "heartbeat failed: rpc error: code = Unknown desc = enterprise license is not "
                "valid - NONE"
            )
        if cluster is None or cluster["secret"] != req.secret:
            raise _unknown(
                "heartbeat failed: rpc error: code = Unimplemented desc = cluster ID or secret "
                "is not valid"
            )
        self.state.enterprise_state = "ACTIVE"
        self.state.enterprise_license_code = self.state.license_code
        self.state.enterprise_config = {
            "license_server": req.license_server,
            "id": req.id,
            "secret": req.secret,
        }
        return enterprise.ActivateResponse()

    def _enterprise_state_message(self) -> tuple[Any, Any, str]:
        st = enterprise.State.from_string(self.state.enterprise_state)
        if self.state.enterprise_state == "NONE":
            return st, enterprise.TokenInfo(), ""
        return st, self._token_info(), self.state.enterprise_license_code or ""

    def _enterprise_get_state(self, req: Any, subject: str | None) -> _Msg:
        state, info, code = self._enterprise_state_message()
        return enterprise.GetStateResponse(state=state, info=info, activation_code=code)

    def _enterprise_get_activation_code(self, req: Any, subject: str | None) -> _Msg:
        state, info, code = self._enterprise_state_message()
        return enterprise.GetActivationCodeResponse(state=state, info=info, activation_code=code)

    def _enterprise_deactivate(self, req: Any, subject: str | None) -> _Msg:
        self.state.enterprise_state = "NONE"
        self.state.enterprise_config = None
        self.state.enterprise_license_code = None
        return enterprise.DeactivateResponse()

    # --- admin_v2 / versionpb_v2 ------------------------------------------------------------------

    def _admin_inspect_cluster(self, req: Any, subject: str | None) -> _Msg:
        return admin.ClusterInfo(
            id=self.state.cluster_id, deployment_id=self.state.deployment_id, warnings_ok=True
        )

    def _version_get_version(self, req: Any, subject: str | None) -> _Msg:
        major, minor, micro = self.version
        return version.Version(
            major=major,
            minor=minor,
            micro=micro,
            git_commit="fakepachd",
            go_version="go1.22",
            platform="linux/amd64",
        )


_PROJECT = auth.ResourceType.PROJECT
_REPO = auth.ResourceType.REPO
_BINDABLE_TYPES = (auth.ResourceType.CLUSTER, _PROJECT, _REPO)
# ancestry.ValidateName, src/internal/ancestry/ancestry.go.
_PACHD_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")


def _resource_key(kind: Any, name: str) -> str:
    """pachd's key of a resource's binding (``authdb.ResourceKey``): ``PROJECT:team-a``."""
    return f"{_resource_type_name(kind)}:{name}"


def _path(url: str) -> str:
    return urlsplit(url).path.rstrip("/")


def _token_from(context: Any) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key == "authn-token":
            return str(value)
    return None


def _resource_type_name(value: Any) -> str:
    # betterproto parses an enum field off the wire as a plain int.
    name = getattr(value, "name", None)
    if not name and isinstance(value, int):
        name = auth.ResourceType(value).name
    return str(name) if name else str(value)


def iter_methods() -> Iterator[str]:
    """Yield the full gRPC paths the fake models."""
    yield from _METHODS
