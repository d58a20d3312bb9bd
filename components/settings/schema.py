"""The stack's settings as frozen ``extra="forbid"`` pydantic models, keyed as in stack files.

:class:`StackSettings` has one field per config namespace the program reads; each model's field
aliases are the camelCase keys of ``Pulumi.<stack>.yaml``. Rules that involve more than one
setting live in :mod:`components.settings.rules`; reading the config is
:mod:`components.settings.loader`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from components import helm_owned_values, urls
from components.settings.fields import (
    AUTH_SERVER_ID,
    CONNECTOR_ID,
    DEFAULT_CHART_VERSION,
    ChartVersion,
    DeployTarget,
    DnsLabel,
    GoDuration,
    NonBlank,
    OktaDomain,
    OktaOrgName,
    PachdAccess,
    PachdAddress,
    Principal,
    RefreshTokenRotation,
    Role,
    Secret,
    ServiceType,
    UniqueNames,
    chart_version_tuple,
    check_public_url,
    check_unique,
)
from components.settings.namespaces import KUBERNETES, OKTA, PROJECT
from components.settings.problems import problem


class _Frozen(BaseModel):
    """Shared model config: immutable, unknown keys rejected, camelCase keys as in stack files."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        validate_default=True,
        arbitrary_types_allowed=True,
        str_strip_whitespace=True,
    )


# --- pachyderm-okta:* ------------------------------------------------------------------------


class OktaAppSettings(_Frozen):
    """``pachyderm-okta:okta``: the Okta OIDC app and who may use it."""

    app_label: NonBlank = Field(default="Pachyderm", description="Label of the Okta app.")
    authorization_server: str = Field(
        default="org",
        description="`org` for the org authorization server, or a custom server id (`default`).",
    )
    groups: UniqueNames = Field(default=(), description="Okta group names assigned to the app.")
    users: UniqueNames = Field(default=(), description="Okta user logins assigned to the app.")
    create_groups: bool = Field(
        default=False, description="Create the listed groups instead of looking them up."
    )
    groups_claim: bool = Field(
        default=True, description="Add a `groups` claim to ID tokens (needs okta:apiToken)."
    )
    refresh_token_rotation: RefreshTokenRotation = Field(
        default="STATIC", description="Okta refresh-token rotation for the app."
    )

    @field_validator("authorization_server")
    @classmethod
    def _authorization_server(cls, value: str) -> str:
        if value != "org" and not AUTH_SERVER_ID.fullmatch(value):
            raise problem("must be `org` or a custom authorization server id such as `default`")
        return value


class PachydermSettings(_Frozen):
    """``pachyderm-okta:pachyderm``: the Helm release."""

    namespace: DnsLabel = Field(
        default="pachyderm", description="Kubernetes namespace of the release."
    )
    release_name: DnsLabel = Field(default="pachyderm", description="Helm release name.")
    chart_version: ChartVersion = Field(
        default=DEFAULT_CHART_VERSION, description="Pinned Pachyderm chart version."
    )
    deploy_target: DeployTarget = Field(default="LOCAL", description="Chart `deployTarget`.")
    service_type: ServiceType = Field(default="NodePort", description="Proxy Service type.")
    local_host_path: NonBlank = Field(
        default="/var/pachyderm/",
        description="LOCAL storage hostPath, pinned (the chart randomises a blank one per render).",
    )
    helm_timeout_seconds: int = Field(
        default=900, ge=60, le=3600, description="How long Helm waits for the release to be ready."
    )
    values: dict[str, Any] = Field(
        default_factory=dict, description="Extra Helm values, deep-merged last."
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


class AuthSettings(_Frozen):
    """``pachyderm-okta:auth``: the Dex connector, OIDC settings and cluster role bindings."""

    connector_id: str = Field(default="okta", description="Dex connector id.")
    connector_name: NonBlank = Field(default="Okta", description="Label on Dex's login page.")
    cluster_admins: tuple[Principal, ...] = Field(
        default=(), description="Principals bound to clusterAdmin."
    )
    role_bindings: dict[Principal, tuple[Role, ...]] = Field(
        default_factory=dict, description="Principal to cluster roles."
    )
    skip_email_verified: bool = Field(
        default=True,
        description="Dex insecureSkipEmailVerified: Okta may omit email_verified.",
    )
    id_token_expiry: GoDuration = Field(default="24h", description="Dex ID token lifetime.")
    rotation_token_expiry: GoDuration = Field(
        default="48h", description="Dex refresh token rotation window."
    )
    pachd_ready_timeout_seconds: float = Field(
        default=600, gt=0, le=3600, description="How long to wait for pachd to answer."
    )
    call_timeout_seconds: float = Field(
        default=30, gt=0, le=600, description="Timeout of each pachd call."
    )
    deactivate_on_delete: bool = Field(
        default=False,
        description="Deactivate auth on destroy (wipes every binding, token, client, connector).",
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

    @field_validator("role_bindings")
    @classmethod
    def _roles_present(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for principal, roles in value.items():
            if not roles:
                raise problem(f"gives {principal!r} no roles (remove the entry instead)")
            check_unique(roles)
        return value

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
        description="Where browsers and pachctl reach Pachyderm's proxy."
    )
    pachd_address: PachdAddress | None = Field(
        default=None, description="Override of the gRPC address the deployer uses."
    )
    pachd_access: PachdAccess = Field(
        default="direct",
        description="`direct` (pachdAddress, else publicUrl) or `portForward` (the Kubernetes "
        "API's pods/portforward to a ready pachd pod); an explicit pachdAddress means direct.",
    )
    okta: OktaAppSettings = Field(default_factory=OktaAppSettings)
    pachyderm: PachydermSettings = Field(default_factory=PachydermSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    license_key: Secret | None = Field(default=None, description="2.11 enterprise code (secret).")
    root_token: Secret | None = Field(
        default=None, description="An existing root token to adopt (secret)."
    )

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


# --- okta:* and kubernetes:* ---------------------------------------------------------------------


class OktaOrgConfig(_Frozen):
    """The ``okta:*`` keys: which org, and how the Okta provider authenticates."""

    org_name: OktaOrgName = Field(description="Okta org name.")
    base_url: OktaDomain = Field(description="Okta domain.")
    api_token: Secret | None = Field(default=None, description="SSWS API token (secret).")
    access_token: Secret | None = Field(default=None, description="OAuth access token (secret).")
    client_id: str | None = Field(default=None, description="Service app client id.")
    private_key: Secret | None = Field(default=None, description="Service app key (secret).")
    private_key_id: str | None = Field(default=None, description="Service app key id.")
    scopes: tuple[NonBlank, ...] = Field(default=(), description="Service app scopes.")
    max_retries: int | None = Field(default=None, ge=0, le=100, description="Okta API retries.")


class KubernetesConfig(_Frozen):
    """The ``kubernetes:*`` keys: which cluster (default providers are disabled)."""

    context: str | None = Field(default=None, description="kubeconfig context to use.")
    kubeconfig: str | None = Field(default=None, description="kubeconfig path or contents.")


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
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def known_keys(model: type[BaseModel]) -> list[str]:
    """The config-file keys of ``model``'s fields."""
    return [info.alias or name for name, info in model.model_fields.items()]
