"""The stack's settings as frozen ``extra="forbid"`` pydantic models, keyed as in stack files.

:class:`StackSettings` has one field per config namespace the program reads; each model's field
aliases are the camelCase keys of ``Pulumi.<stack>.yaml``. Rules that involve more than one
setting live in :mod:`components.settings.rules`; reading the config is
:mod:`components.settings.loader`.
"""

from __future__ import annotations

from typing import Annotated, Any, get_args

from pydantic import AfterValidator, BaseModel, Field, field_validator

from components import helm_owned_values, urls
from components.settings.fields import (
    AUTH_SERVER_ID,
    CONNECTOR_ID,
    DEFAULT_CHART_VERSION,
    CaCertificates,
    ChartVersion,
    DeployTarget,
    DnsLabel,
    GoDuration,
    GroupsClaim,
    NonBlank,
    PachdAccess,
    PachdAddress,
    Principal,
    ProjectName,
    RefreshTokenRotation,
    RepoPath,
    Role,
    Secret,
    ServiceType,
    TlsServerName,
    UniqueNames,
    chart_version_tuple,
    check_public_url,
    check_unique,
)
from components.settings.frozen import Frozen as _Frozen
from components.settings.namespaces import KUBERNETES, OKTA, PROJECT, why_not_ignorable
from components.settings.problems import problem
from components.settings.provider_config import KubernetesConfig, OktaOrgConfig
from components.settings.robots import RobotName, RobotSettings


def _check_ignorable(namespace: str) -> str:
    reason = why_not_ignorable(namespace)
    if reason is not None:
        raise problem(reason)
    return namespace


UniqueRobotNames = Annotated[tuple[RobotName, ...], AfterValidator(check_unique)]

IgnoredNamespaces = Annotated[
    tuple[Annotated[str, AfterValidator(_check_ignorable)], ...], AfterValidator(check_unique)
]


# --- pachyderm-okta:* ------------------------------------------------------------------------


class OktaAppSettings(_Frozen):
    """``pachyderm-okta:okta``: the Okta OIDC app and who may use it."""

    app_label: NonBlank = Field(
        default="Pachyderm",
        description="Label of the Okta app, and name of its access policy on a custom "
        "authorization server (unique per server).",
    )
    authorization_server: str = Field(
        default="org",
        description="`org`, or the **id** of a custom authorization server (`default`, "
        "`aus1abc...`). On a custom server the program also creates an access policy and rule "
        "for the app; the server's issuer is read from Okta, so servers in CUSTOM_URL issuer mode "
        "work.",
    )
    groups: UniqueNames = Field(
        default=(),
        description="Okta groups assigned to the app, by exact name. They must exist in Okta "
        "unless `createGroups` is true.",
    )
    users: UniqueNames = Field(default=(), description="Okta user logins assigned to the app.")
    create_groups: bool = Field(
        default=False,
        description="Create the listed groups instead of looking them up (destroy deletes them).",
    )
    groups_claim: GroupsClaim = Field(
        default=True,
        description="Put the user's groups in ID tokens, filtered to exactly the groups this stack "
        "names (`groups`, and every `group:` principal of `auth`): pachd stores every group a "
        "login brings. `all`: every group of the user, for groups bound by hand in pachd. `false`: "
        "no groups claim. On the org server this needs `okta:apiToken`.",
    )
    refresh_token_rotation: RefreshTokenRotation = Field(
        default="STATIC", description="Refresh-token rotation of the Okta app."
    )

    @property
    def has_groups_claim(self) -> bool:
        """Whether tokens carry a groups claim (of the named groups, or of every group)."""
        return self.groups_claim is not False

    @field_validator("authorization_server")
    @classmethod
    def _authorization_server(cls, value: str) -> str:
        if value != "org" and not AUTH_SERVER_ID.fullmatch(value):
            raise problem("must be `org` or a custom authorization server id such as `default`")
        return value


class PachydermSettings(_Frozen):
    """``pachyderm-okta:pachyderm``: the Helm release."""

    namespace: DnsLabel = Field(
        default="pachyderm", description="Kubernetes namespace of the release (DNS-1123 label)."
    )
    release_name: DnsLabel = Field(default="pachyderm", description="Helm release name.")
    chart_version: ChartVersion = Field(
        default=DEFAULT_CHART_VERSION,
        description="Pinned Pachyderm chart version (2.11 or newer); `pachctl` should match it.",
    )
    deploy_target: DeployTarget = Field(
        default="LOCAL",
        description="The chart's `deployTarget`. Anything but `LOCAL` stores data in object "
        "storage and needs `pachyderm-okta:pachyderm.values.pachd.storage.storageURL` "
        "(`s3://<bucket>`, `gs://<bucket>`, `wasb://<container>@<account>`); a stack without it "
        "is refused at validation, because the chart refuses to render without it.",
    )
    service_type: ServiceType = Field(
        default="NodePort",
        description="Type of the proxy's Service. With `NodePort` the port of `publicUrl` is the "
        "node port (30000-32767); with `LoadBalancer` it is the Service port; with `ClusterIP` "
        "your ingress owns the public port.",
    )
    local_host_path: NonBlank = Field(
        default="/var/pachyderm/",
        description="LOCAL storage path on the node, pinned (the chart randomises a blank one "
        "per render).",
    )
    helm_timeout_seconds: int = Field(
        default=900, ge=60, le=3600, description="How long Helm waits for the release, seconds."
    )
    values: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra Helm values, deep-merged last; keys the program owns are refused, "
        "naming the setting that owns them (docs/operations.md).",
    )

    @property
    def chart_minor(self) -> tuple[int, int]:
        """``(major, minor)`` of the pinned chart, which is pachd's version too."""
        return chart_version_tuple(self.chart_version)[:2]

    @field_validator("local_host_path")
    @classmethod
    def _local_host_path(cls, value: str) -> str:
        if not value.startswith("/") or not value.endswith("/"):
            raise problem("must be an absolute path ending in '/', as the chart expects")
        return value

    @field_validator("values")
    @classmethod
    def _values_leave_owned_keys_alone(cls, values: dict[str, Any]) -> dict[str, Any]:
        owned = helm_owned_values.owned_values_set(values)
        if owned:
            raise problem("sets Helm values the program owns: " + "; ".join(owned))
        return values


def _unique_roles(value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    for roles in value.values():
        check_unique(roles)
    return value


RoleBindings = Annotated[dict[Principal, tuple[Role, ...]], AfterValidator(_unique_roles)]
"""Principal to its whole role set on one resource; ``[]``: none while the stack holds it."""


_BINDINGS_MEANING = (
    "A principal's list is its whole role set there (pachd's ModifyRoleBinding replaces it); "
    "`[]` takes every role away while the stack holds the binding. Destroy gives each principal "
    "back the roles it held before."
)


class ProjectAccess(_Frozen):
    """``pachyderm-okta:auth.projects.<name>``: one project's role bindings."""

    create: bool = Field(
        default=False,
        description="Create the project when pachd lacks it (pachd makes the creator, "
        "`pach:root`, its projectOwner); destroy never deletes it, since it holds data. "
        "`false`: a project pachd lacks fails `up`, naming it.",
    )
    role_bindings: RoleBindings = Field(
        default_factory=dict,
        description="Principal to a list of roles on the project: `projectViewer`, "
        "`projectWriter`, `projectOwner`, `repoReader`, `repoWriter` or `repoOwner` (the roles "
        "pachd's roles.go lets a project hold). " + _BINDINGS_MEANING,
    )


class RepoAccess(_Frozen):
    """``pachyderm-okta:auth.repos.<project>/<repo>``: one repo's role bindings."""

    role_bindings: RoleBindings = Field(
        default_factory=dict,
        description="Principal to a list of roles on the repo: `repoReader`, `repoWriter` or "
        "`repoOwner`. The repo must exist: repos belong to pipelines and users, not to this "
        "stack. " + _BINDINGS_MEANING,
    )


class AuthSettings(_Frozen):
    """``pachyderm-okta:auth``: the Dex connector, OIDC settings and cluster role bindings."""

    connector_id: str = Field(default="okta", description="Id of the Dex connector.")
    connector_name: NonBlank = Field(
        default="Okta", description="Name of the Dex connector, on Dex's login page."
    )
    cluster_admins: tuple[Principal, ...] = Field(
        default=(),
        description="Principals bound to `clusterAdmin`: `group:<okta group>`, `user:<email>`, "
        "`robot:<name>` or `allClusterUsers`.",
    )
    role_bindings: RoleBindings = Field(
        default_factory=dict,
        description="Principal to a list of cluster roles: Pachyderm role names of the chart "
        "version (`jobAdmin` only from 2.12). A principal also in `clusterAdmins` gets one binding "
        "with both role sets. `allClusterUsers: []` takes pachd's default `projectCreator` away "
        "(a locked-down cluster); destroy gives it back.",
    )
    projects: dict[ProjectName, ProjectAccess] = Field(
        default_factory=dict,
        description="Project name to its role bindings and whether the stack creates it "
        "(`create`). `default` is the project pachd makes, where it binds `allClusterUsers` "
        "to `projectWriter` at activation.",
    )
    repos: dict[RepoPath, RepoAccess] = Field(
        default_factory=dict,
        description="`<project>/<repo>` to its role bindings; the repo must exist in pachd.",
    )
    robots: dict[RobotName, RobotSettings] = Field(
        default_factory=dict,
        description="Robot name to its token's lifetime, rotation and Kubernetes Secret "
        "(docs/operations.md, Robot accounts); bind roles to `robot:<name>`.",
    )
    external_robots: UniqueRobotNames = Field(
        default=(),
        description="Robots made outside this stack (e.g. `pachctl auth get-robot-token`) that "
        "bindings may name; a binding to any other undeclared robot is refused.",
    )
    skip_email_verified: bool = Field(
        default=True,
        description="true: any email signs in, `email_verified` or not (Dex "
        "`insecureSkipEmailVerified`); false: only a verified one (pachd "
        "`require_email_verified`).",
    )
    id_token_expiry: GoDuration = Field(default="24h", description="Dex ID token lifetime.")
    rotation_token_expiry: GoDuration = Field(
        default="48h", description="Dex refresh-token rotation window."
    )
    pachd_ready_timeout_seconds: float = Field(
        default=600, gt=0, le=3600, description="How long to wait for pachd to answer, seconds."
    )
    call_timeout_seconds: float = Field(
        default=30, gt=0, le=600, description="Timeout of every pachd call, in seconds."
    )
    deactivate_on_delete: bool = Field(
        default=False,
        description="`pulumi destroy` deactivates auth, which wipes every role binding, token, "
        "Dex client and connector (docs/operations.md).",
    )

    @field_validator("connector_id")
    @classmethod
    def _connector_id(cls, value: str) -> str:
        if not CONNECTOR_ID.fullmatch(value):
            raise problem("must be lower-case letters, digits and '-', e.g. okta")
        return value

    @field_validator("cluster_admins")
    @classmethod
    def _unique_admins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return check_unique(value)

    def cluster_role_bindings(self) -> dict[str, tuple[str, ...]]:
        """One entry per principal: ``roleBindings`` plus ``clusterAdmin`` for each admin.

        pachd's ModifyRoleBinding replaces a principal's whole role set, so a principal listed in
        both places must become one binding, not two resources fighting over it.
        """
        merged: dict[str, set[str]] = {p: set(r) for p, r in self.role_bindings.items()}
        for admin in self.cluster_admins:
            merged.setdefault(admin, set()).add("clusterAdmin")
        return {principal: tuple(sorted(merged[principal])) for principal in sorted(merged)}


class ProjectConfig(_Frozen):
    """The ``pachyderm-okta:*`` keys."""

    public_url: urls.PublicUrl = Field(
        description="Where browsers and `pachctl` reach Pachyderm's proxy: "
        "`http(s)://host[:port]`, no path; https unless the host is local or private. Every "
        "address but Okta's issuer derives from it."
    )
    pachd_address: PachdAddress | None = Field(
        default=None,
        description="gRPC address `make up` uses to reach pachd (`grpc://`, `grpcs://`, "
        "`http://`, `https://` + host:port); unset, derived from `publicUrl`.",
    )
    okta: OktaAppSettings = Field(
        default_factory=OktaAppSettings, description="The Okta OIDC app and who may use it."
    )
    pachyderm: PachydermSettings = Field(
        default_factory=PachydermSettings, description="The Pachyderm Helm release."
    )
    auth: AuthSettings = Field(
        default_factory=AuthSettings,
        description="Pachyderm auth: the Dex connector, OIDC settings and cluster role bindings.",
    )
    license_key: Secret | None = Field(
        default=None,
        description="Enterprise activation code: required for chart 2.11.x, refused for 2.12; a "
        "new one is applied by the next `up`.",
    )
    pachd_ca_cert: CaCertificates | None = Field(
        default=None,
        description="PEM text of the CA certificate(s) that sign pachd's TLS certificate, for a "
        "`grpcs://`/`https://` pachd address signed by an in-house CA; not a file path, so refresh "
        "and destroy work from any machine: pipe the file to `pulumi config set pachdCaCert`. "
        "Refused with a plaintext address; the certificate must name the address's host.",
    )
    pachd_access: PachdAccess = Field(
        default="direct",
        description="How `pulumi up` reaches pachd: `direct` (`pachdAddress`, else the address "
        "derived from `publicUrl`) or `portForward` (the Kubernetes API's `pods/portforward` to a "
        "ready pachd pod, with the `kubernetes:kubeconfig`/`context` credentials: no DNS record, "
        "load balancer or exposed port needed). An explicit `pachdAddress` means `direct`.",
    )
    pachd_tls_server_name: TlsServerName | None = Field(
        default=None,
        description="With `pachdAccess: portForward` and pachd serving TLS itself "
        "(`pachyderm.values.pachd.tls.enabled`): the name pachd's certificate is checked "
        "against through the forward; unset, `publicUrl`'s host.",
    )
    root_token: Secret | None = Field(
        default=None,
        description="An existing root token, to adopt a cluster whose auth is already active; "
        "unset, Pulumi mints one. Changing it rotates pachd's root token.",
    )
    ignore_namespaces: IgnoredNamespaces = Field(
        default=(),
        description="Config namespaces that are not for this program (`[aws]`), for a stack "
        "that imports an ESC environment shared with other programs: their keys are ignored. "
        "A namespace this program reads, or one that looks like a typo of it, is refused.",
    )

    def claimed_groups(self) -> tuple[str, ...] | None:
        """The Okta groups the groups claim carries: every group the stack names; ``None``: all.

        Assigned groups, and every ``group:`` principal bound on the cluster, a project or a
        repo - the only groups pachd gives a role (docs/decisions.md, decision 49).
        """
        if self.okta.groups_claim == "all":
            return None
        auth = self.auth
        principals = [
            *auth.cluster_role_bindings(),
            *(p for access in auth.projects.values() for p in access.role_bindings),
            *(p for access in auth.repos.values() for p in access.role_bindings),
        ]
        bound = (p.removeprefix("group:") for p in principals if p.startswith("group:"))
        return tuple(sorted({*self.okta.groups, *bound}))

    @property
    def pachd_port_forward(self) -> bool:
        """Whether the deployer reaches pachd through the Kubernetes API (pachdAddress wins)."""
        return self.pachd_access == "portForward" and self.pachd_address is None

    @field_validator("public_url", mode="before")
    @classmethod
    def _public_url(cls, value: object) -> object:
        if isinstance(value, str):
            return check_public_url(value)
        return value


class StackSettings(_Frozen):
    """Everything a stack configures, validated. Built only by :func:`load_settings`."""

    project: ProjectConfig = Field(alias=PROJECT)
    okta_org: OktaOrgConfig = Field(alias=OKTA)
    kubernetes: KubernetesConfig = Field(alias=KUBERNETES, default_factory=KubernetesConfig)


def model_at(path: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The settings model at ``path`` of config-file keys (``("pachyderm-okta", "okta")``)."""
    model: type[BaseModel] = StackSettings
    for part in path:
        fields = {info.alias or name: info for name, info in model.model_fields.items()}
        annotation = fields[part].annotation if part in fields else None
        # An optional mapping (``KubeClientSettings | None``) is the model inside it.
        candidates = [annotation, *get_args(annotation)]
        models = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not models:
            return None
        model = models[0]
    return model


def known_keys(model: type[BaseModel]) -> list[str]:
    """The config-file keys of ``model``'s fields."""
    return [info.alias or name for name, info in model.model_fields.items()]
