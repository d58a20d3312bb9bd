"""The stack contract: every config key this program reads, validated once, before any resource.

``load_settings()`` reads the ``pachyderm-okta``, ``okta`` and ``kubernetes`` config namespaces,
validates them with frozen ``extra="forbid"`` pydantic models and either returns a
:class:`StackSettings` or raises one ``pulumi.RunError`` that lists every problem, each prefixed
with its full config key (``pachyderm-okta:okta.groups[1]: ...``). Secret keys are read with
``Config.get_secret`` and stay ``pulumi.Output`` secrets inside the model; a secret stored in
plaintext in ``Pulumi.<stack>.yaml`` is itself a problem. No message ever contains a secret value:
secrets reach the models only as ``Output`` objects, and messages never echo inputs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import pulumi
from pulumi.runtime import config as runtime_config
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails, PydanticCustomError

from components import helm_values, urls

PROJECT = "pachyderm-okta"
NAMESPACES = (PROJECT, "okta", "kubernetes")

# Pachyderm 2.12 roles.go: ModifyRoleBinding rejects anything else with `unknown role "x"`.
Role = Literal[
    "clusterAdmin",
    "repoOwner",
    "repoWriter",
    "repoReader",
    "oidcAppAdmin",
    "idpAdmin",
    "identityAdmin",
    "jobAdmin",
    "debugger",
    "lokiLogReader",
    "robotUser",
    "licenseAdmin",
    "secretAdmin",
    "pachdLogReader",
    "projectViewer",
    "projectWriter",
    "projectOwner",
    "projectCreator",
]
DeployTarget = Literal["LOCAL", "GOOGLE", "AMAZON", "MICROSOFT"]
ServiceType = Literal["NodePort", "LoadBalancer", "ClusterIP"]
RefreshTokenRotation = Literal["STATIC", "ROTATE"]

# The released 2.12.x chart this program is tested against (pachyderm_sdk 2.12.2 is its SDK).
# renovate: datasource=helm registryUrl=https://helm.pachyderm.com depName=pachyderm
DEFAULT_CHART_VERSION = "2.12.2"
MINIMUM_CHART_VERSION = (2, 11)
FIRST_LICENSE_FREE_VERSION = (2, 12)

# Keys of `pulumi config` that hold secrets. Anything here must be set with `--secret`.
SECRET_KEYS = frozenset(
    {
        f"{PROJECT}:licenseKey",
        f"{PROJECT}:rootToken",
        "okta:apiToken",
        "okta:accessToken",
        "okta:privateKey",
    }
)
# Keys whose config value is a JSON document (objects and arrays); every other key is a string.
_STRUCTURED_KEYS = frozenset(
    {f"{PROJECT}:okta", f"{PROJECT}:pachyderm", f"{PROJECT}:auth", "okta:scopes", "okta:maxRetries"}
)

# Helm values the program owns, with the setting that owns each. A user override in
# `pachyderm.values` would silently fight the auth provider (DESIGN decision 1) or put a secret in
# plaintext Helm values (decision 5), so it is refused. A key owns its whole subtree.
OWNED_HELM_VALUES: Mapping[str, str] = {
    "deployTarget": f"{PROJECT}:pachyderm.deployTarget",
    "pachd.activateAuth": "the auth component, which activates auth through pachd's API",
    "pachd.rootToken": f"the Pulumi-minted root token ({PROJECT}:rootToken to adopt one)",
    "pachd.rootTokenSecretName": "the Pulumi-minted root token",
    "pachd.enterpriseLicenseKey": f"{PROJECT}:licenseKey",
    "pachd.enterpriseLicenseKeySecretName": f"{PROJECT}:licenseKey",
    "pachd.enterpriseSecret": "the auth component (2.11 enterprise activation)",
    "pachd.enterpriseSecretSecretName": "the auth component (2.11 enterprise activation)",
    "pachd.activateEnterpriseMember": "the auth component (2.11 enterprise activation)",
    "pachd.oauthClientID": "the auth component's `pachd` OIDC client",
    "pachd.oauthClientSecret": "the auth component's `pachd` OIDC client",
    "pachd.oauthClientSecretSecretName": "the auth component's `pachd` OIDC client",
    "pachd.oauthRedirectURI": f"{PROJECT}:publicUrl",
    "pachd.localhostIssuer": "the auth component's OIDC configuration",
    "pachd.pachAuthClusterRoleBindings": f"{PROJECT}:auth.clusterAdmins and auth.roleBindings",
    "oidc": f"{PROJECT}:publicUrl and {PROJECT}:auth (the connector is pushed through the API)",
    "proxy.enabled": f"{PROJECT}:publicUrl (the proxy serves every address derived from it)",
    "proxy.host": f"{PROJECT}:publicUrl",
    "proxy.service.type": f"{PROJECT}:pachyderm.serviceType",
    "proxy.service.httpNodePort": f"{PROJECT}:publicUrl (its port)",
    "proxy.service.httpsNodePort": f"{PROJECT}:publicUrl (its port)",
    "proxy.service.httpPort": f"{PROJECT}:publicUrl (its port)",
    "proxy.service.httpsPort": f"{PROJECT}:publicUrl (its port)",
    "ingress.uriHttpsProtoOverride": f"{PROJECT}:publicUrl (set for every https URL)",
    "pachd.clusterDeploymentID": "a Pulumi-minted id (the chart would re-randomise it)",
    "pachd.storage.local.hostPath": f"{PROJECT}:pachyderm.localHostPath",
    "console.config.oauthClientID": "the auth component's `console` OIDC client",
    "console.config.oauthClientSecret": "the auth component's `console` OIDC client",
    "console.config.oauthClientSecretSecretName": "the auth component's `console` OIDC client",
    "console.config.oauthRedirectURI": f"{PROJECT}:publicUrl",
    "console.config.reactAppRuntimeIssuerURI": f"{PROJECT}:publicUrl",
    "global.postgresql.postgresqlPassword": "the Pulumi-minted Postgres password",
    "global.postgresql.postgresqlExistingSecretName": "the Pulumi-minted Postgres password",
    "global.postgresql.postgresqlPostgresPassword": "the Pulumi-minted Postgres password",
    "global.postgresql.postgresqlExistingSecretKey": "the Pulumi-minted Postgres password",
    "global.postgresql.existingSecret": "the Pulumi-minted Postgres password",
    # The minted password could not match a database outside the release.
    "postgresql.enabled": "the bundled Postgres (an external database is not supported yet)",
}


@dataclass(frozen=True)
class ConfigProblem:
    """One invalid setting: the full config key and what is wrong with it."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


class StackConfigError(pulumi.RunError):
    """Every problem in a stack's configuration, as one error the CLI prints without a traceback."""

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems: tuple[ConfigProblem, ...] = tuple(problems)
        count = len(self.problems)
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(
            f"The stack configuration has {count} problem{'s' if count != 1 else ''} "
            f"(nothing was created):\n{lines}"
        )


def _problem(message: str) -> PydanticCustomError:
    """A validation error whose message pydantic shows as is (no input is ever echoed)."""
    return PydanticCustomError("stack_config", message)


# --- field types -----------------------------------------------------------------------------

_SLUG = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", re.IGNORECASE)
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
_GO_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")
_PRINCIPAL = re.compile(r"^(user|group|robot):\S.*$")
_CONNECTOR_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_AUTH_SERVER_ID = re.compile(r"^[A-Za-z0-9]+$")


def _check_public_url(value: str) -> urls.PublicUrl:
    try:
        return urls.parse_public_url(value)
    except ValueError as error:
        raise _problem(str(error)) from None


def _check_pachd_address(value: str) -> str:
    match = re.fullmatch(r"(grpcs?|https?)://([^/:\s]+|\[[0-9a-fA-F:]+\]):(\d{1,5})", value.strip())
    if not match or not 0 < int(match.group(3)) < 65536:
        raise _problem(
            "must be grpc://, grpcs://, http:// or https:// followed by host:port, "
            "e.g. grpc://localhost:30650"
        )
    return value.strip()


def _check_slug(value: str) -> str:
    if not _SLUG.fullmatch(value):
        raise _problem("must be the Okta org's subdomain, e.g. dev-123456 (letters, digits, '-')")
    return value


def _check_domain(value: str) -> str:
    if not _DOMAIN.fullmatch(value.lower()):
        raise _problem(
            "must be the Okta domain without scheme or path, e.g. okta.com or oktapreview.com"
        )
    return value.lower()


def _check_namespace(value: str) -> str:
    if not _DNS_LABEL.fullmatch(value):
        raise _problem(
            "must be a DNS-1123 label: at most 63 lower-case letters, digits or '-', "
            "starting and ending with a letter or digit"
        )
    return value


def chart_version_tuple(version: str) -> tuple[int, int, int]:
    """``(major, minor, patch)`` of a chart version that passed validation."""
    match = _SEMVER.fullmatch(version)
    if match is None:
        raise ValueError(f"not a semantic version: {version!r}")
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def _check_chart_version(value: str) -> str:
    if not _SEMVER.fullmatch(value):
        raise _problem("must be a semantic version such as 2.12.2 (pin a released chart)")
    if chart_version_tuple(value)[:2] < MINIMUM_CHART_VERSION:
        raise _problem("must be 2.11.0 or newer: older charts manage auth differently")
    return value


def _check_go_duration(value: str) -> str:
    if not _GO_DURATION.fullmatch(value):
        raise _problem("must be a Go duration such as 24h or 90m")
    return value


def _check_principal(value: str) -> str:
    if value != "allClusterUsers" and not _PRINCIPAL.fullmatch(value):
        raise _problem(
            f"{value!r} is not a principal: use user:<email>, group:<okta group>, "
            "robot:<name> or allClusterUsers"
        )
    return value


def _check_non_blank(value: str) -> str:
    if not value.strip():
        raise _problem("must not be empty")
    return value


def _check_unique(values: tuple[str, ...]) -> tuple[str, ...]:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise _problem(f"lists {value!r} more than once")
        seen.add(value)
    return values


Principal = Annotated[str, AfterValidator(_check_principal)]
NonBlank = Annotated[str, AfterValidator(_check_non_blank)]
GoDuration = Annotated[str, AfterValidator(_check_go_duration)]
UniqueNames = Annotated[tuple[NonBlank, ...], AfterValidator(_check_unique)]


@dataclass(frozen=True)
class _SecretText:
    """A secret config value on its way into the model; ``repr`` never shows it."""

    text: str = field(repr=False)


def _secret_output(value: object, info: ValidationInfo) -> object:
    # A dry run (the first validation pass) keeps the placeholder: creating an Output schedules a
    # task, which would be left pending - and warned about - whenever validation fails.
    if isinstance(value, _SecretText):
        if info.context and info.context.get("dry_run"):
            return value
        return pulumi.Output.secret(value.text)
    if isinstance(value, pulumi.Output):
        return value
    raise _problem("must be set as a secret with `pulumi config set --secret`")


Secret = Annotated[pulumi.Output[str], PlainValidator(_secret_output)]


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
        if value != "org" and not _AUTH_SERVER_ID.fullmatch(value):
            raise _problem("must be `org` or a custom authorization server id such as `default`")
        return value


class PachydermSettings(_Frozen):
    """``pachyderm-okta:pachyderm``: the Helm release."""

    namespace: Annotated[str, AfterValidator(_check_namespace)] = Field(
        default="pachyderm", description="Kubernetes namespace of the release."
    )
    release_name: Annotated[str, AfterValidator(_check_namespace)] = Field(
        default="pachyderm", description="Helm release name."
    )
    chart_version: Annotated[str, AfterValidator(_check_chart_version)] = Field(
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
            raise _problem("must be an absolute path ending in '/', as the chart expects")
        return value

    @field_validator("values")
    @classmethod
    def _values_leave_owned_keys_alone(cls, values: dict[str, Any]) -> dict[str, Any]:
        owned: list[str] = []
        reported: list[str] = []
        for path in sorted(_leaf_paths(values)):
            if any(path.startswith(parent + ".") for parent in reported):
                continue
            for prefix, owner in OWNED_HELM_VALUES.items():
                if path == prefix or path.startswith(prefix + "."):
                    owned.append(f"{path} (owned by {owner})")
                    reported.append(path)
                    break
        if owned:
            raise _problem("sets Helm values the program owns: " + "; ".join(owned))
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
        if not _CONNECTOR_ID.fullmatch(value):
            raise _problem("must be lower-case letters, digits and '-', e.g. okta")
        return value

    @field_validator("cluster_admins")
    @classmethod
    def _unique_admins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _check_unique(value)

    @field_validator("role_bindings")
    @classmethod
    def _roles_present(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for principal, roles in value.items():
            if not roles:
                raise _problem(f"gives {principal!r} no roles (remove the entry instead)")
            _check_unique(roles)
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
    pachd_address: Annotated[str, AfterValidator(_check_pachd_address)] | None = Field(
        default=None, description="Override of the gRPC address the deployer uses."
    )
    okta: OktaAppSettings = Field(default_factory=OktaAppSettings)
    pachyderm: PachydermSettings = Field(default_factory=PachydermSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    license_key: Secret | None = Field(default=None, description="2.11 enterprise code (secret).")
    root_token: Secret | None = Field(
        default=None, description="An existing root token to adopt (secret)."
    )

    @field_validator("public_url", mode="before")
    @classmethod
    def _public_url(cls, value: object) -> object:
        if isinstance(value, str):
            return _check_public_url(value)
        return value


# --- okta:* and kubernetes:* ---------------------------------------------------------------------


class OktaOrgConfig(_Frozen):
    """The ``okta:*`` keys: which org, and how the Okta provider authenticates."""

    org_name: Annotated[str, AfterValidator(_check_slug)] = Field(description="Okta org name.")
    base_url: Annotated[str, AfterValidator(_check_domain)] = Field(description="Okta domain.")
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
    okta_org: OktaOrgConfig = Field(alias="okta")
    kubernetes: KubernetesConfig = Field(alias="kubernetes", default_factory=KubernetesConfig)


# --- rules across settings --------------------------------------------------------------------
#
# Each rule reads the raw config and validates only the settings it needs, on their own: a rule
# still runs when an unrelated key is invalid, so one run reports every problem (a setting that is
# itself invalid is reported by its own validator and skipped here).

ChartVersion = Annotated[str, AfterValidator(_check_chart_version)]
PublicUrlText = Annotated[str, AfterValidator(_check_public_url)]
_MISSING = object()


def _valid(kind: Any, value: Any) -> Any:
    """``value`` validated as ``kind`` on its own (a dry run: no Output is created), or _MISSING."""
    try:
        return TypeAdapter(kind).validate_python(value, context={"dry_run": True})
    except (ValidationError, PydanticCustomError):
        return _MISSING


def _subset(raw: Any, *keys: str) -> dict[str, Any]:
    return {key: raw[key] for key in keys if key in raw} if isinstance(raw, dict) else {}


def _license_problems(project: dict[str, Any]) -> list[ConfigProblem]:
    pachyderm = project.get("pachyderm", {})
    if not isinstance(pachyderm, dict):
        return []
    version = _valid(ChartVersion, pachyderm.get("chartVersion", DEFAULT_CHART_VERSION))
    if version is _MISSING:
        return []
    needs_license = chart_version_tuple(version)[:2] < FIRST_LICENSE_FREE_VERSION
    has_license = "licenseKey" in project
    if needs_license and not has_license:
        message = (
            f"is required for pachyderm.chartVersion {version}: Pachyderm before 2.12 refuses to "
            "activate auth without an active enterprise license; set it with "
            f"`pulumi config set --secret {PROJECT}:licenseKey <code>`"
        )
    elif has_license and not needs_license:
        message = (
            f"is not used by pachyderm.chartVersion {version}: Pachyderm 2.12 removed enterprise "
            "licensing; remove the key"
        )
    else:
        return []
    return [ConfigProblem(f"{PROJECT}:licenseKey", message)]


def _proxy_problems(project: dict[str, Any]) -> list[ConfigProblem]:
    public_url = _valid(PublicUrlText, project.get("publicUrl"))
    pachyderm = _valid(
        PachydermSettings, _subset(project.get("pachyderm"), "serviceType", "values")
    )
    if public_url is _MISSING or pachyderm is _MISSING:
        return []
    try:
        helm_values.proxy_service_values(pachyderm, public_url)
    except ValueError as error:
        return [ConfigProblem(f"{PROJECT}:publicUrl", str(error))]
    return []


def _okta_auth_problems(okta_org: dict[str, Any]) -> list[ConfigProblem]:
    methods: list[str] = [key for key in ("apiToken", "accessToken") if key in okta_org]
    if "privateKey" in okta_org or "clientId" in okta_org:
        methods.append("privateKey")
        missing = [
            f"okta:{key}" for key in ("clientId", "privateKey", "scopes") if not okta_org.get(key)
        ]
        if missing:
            return [
                ConfigProblem(
                    "okta:privateKey",
                    "private-key (OAuth 2.0 service app) auth also needs " + ", ".join(missing),
                )
            ]
    if not methods:
        return [
            ConfigProblem(
                "okta:apiToken",
                "is required: set an SSWS token with `pulumi config set --secret okta:apiToken "
                "<token>` (or okta:clientId + okta:privateKey + okta:scopes)",
            )
        ]
    if len(methods) > 1:
        return [
            ConfigProblem(
                "okta:apiToken",
                "okta:apiToken, okta:accessToken and okta:privateKey exclude each other; keep one",
            )
        ]
    return []


def _groups_claim_problems(
    project: dict[str, Any], okta_org: dict[str, Any]
) -> list[ConfigProblem]:
    app = _valid(
        OktaAppSettings, _subset(project.get("okta"), "groupsClaim", "authorizationServer")
    )
    if app is _MISSING or not app.groups_claim or app.authorization_server != "org":
        return []
    other_auth = any(key in okta_org for key in ("accessToken", "privateKey", "clientId"))
    if "apiToken" in okta_org or not other_auth:
        # With no credential at all, _okta_auth_problems already says what to set.
        return []
    # pulumi-okta silently skips the app's groups_claim unless it authenticates with an SSWS
    # token (okta/terraform-provider-okta#2730): logins would carry no groups. A custom
    # authorization server gets a ServerClaim instead, which has no such limit.
    return [
        ConfigProblem(
            f"{PROJECT}:okta.groupsClaim",
            "is on, but the Okta provider does not use okta:apiToken: pulumi-okta silently skips "
            "an app's groups claim under OAuth 2.0 auth, so group role bindings would never "
            "match; use okta:apiToken, a custom authorizationServer, or set groupsClaim: false",
        )
    ]


def cross_setting_problems(raw: Mapping[str, dict[str, Any]]) -> list[ConfigProblem]:
    """Problems that involve more than one setting, from the raw (unvalidated) config."""
    project, okta_org = raw[PROJECT], raw["okta"]
    return [
        *_license_problems(project),
        *_proxy_problems(project),
        *_okta_auth_problems(okta_org),
        *_groups_claim_problems(project, okta_org),
    ]


# --- loading ------------------------------------------------------------------------------------


def _leaf_paths(tree: Mapping[str, Any], prefix: str = "") -> Iterable[str]:
    for key, value in tree.items():
        path = f"{prefix}{key}"
        yield path
        if isinstance(value, Mapping):
            yield from _leaf_paths(value, path + ".")


def _config_key(loc: tuple[int | str, ...]) -> str:
    """``("pachyderm-okta", "okta", "groups", 1)`` -> ``pachyderm-okta:okta.groups[1]``."""
    if len(loc) < 2:
        return str(loc[0]) if loc else PROJECT
    key = f"{loc[0]}:{loc[1]}"
    parts = loc[2:]
    for index, part in enumerate(parts):
        if part == "[key]":
            continue
        is_mapping_key = index + 1 < len(parts) and parts[index + 1] == "[key]"
        if isinstance(part, int):
            key += f"[{part}]"
        elif not is_mapping_key and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            key += f".{part}"
        else:
            key += f"[{json.dumps(part)}]"
    return key


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "is not a setting this program knows (check the spelling against the README)"
    if kind == "missing":
        return "is required"
    message = error["msg"]
    return message[0].lower() + message[1:] if message else kind


def problems_from(error: ValidationError) -> list[ConfigProblem]:
    """Turn pydantic's errors into config problems named by their full config key."""
    problems = []
    for detail in error.errors(include_url=False, include_input=False):
        problems.append(ConfigProblem(key=_config_key(detail["loc"]), message=_message(detail)))
    return problems


ConfigSource = Callable[[], Mapping[str, tuple[str, bool]]]


def runtime_config_source() -> dict[str, tuple[str, bool]]:
    """Every ``namespace:key`` the engine passed to this program, with its secret flag.

    ``pulumi.Config`` has no way to list keys, and listing is what lets a typo in the stack file
    fail instead of being ignored, so this reads the runtime's config map (``PULUMI_CONFIG`` first,
    then what the language host or ``set_all_config`` installed).
    """
    merged: dict[str, Any] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return {
        key: (str(value), runtime_config.is_config_secret(key))
        for key, value in merged.items()
        if key.split(":", 1)[0] in NAMESPACES
    }


def _raw_settings(
    entries: Mapping[str, tuple[str, bool]],
) -> tuple[dict[str, Any], list[ConfigProblem]]:
    raw: dict[str, dict[str, Any]] = {namespace: {} for namespace in NAMESPACES}
    problems: list[ConfigProblem] = []
    for full_key, (text, is_secret) in sorted(entries.items()):
        namespace, _, key = full_key.partition(":")
        if text == "":
            # Pulumi.yaml declares optional scalar keys with `default: ""` (a declared key without
            # a default is required by the CLI, pulumi/pulumi#21797): empty means "not set".
            continue
        if full_key in SECRET_KEYS:
            if not is_secret:
                problems.append(
                    ConfigProblem(
                        full_key,
                        "is stored in plaintext in the stack file; set it with "
                        f"`pulumi config set --secret {full_key} ...` (and rotate it)",
                    )
                )
            # Validation goes on without ever seeing the text.
            raw[namespace][key] = _SecretText(text)
        elif full_key in _STRUCTURED_KEYS:
            try:
                raw[namespace][key] = json.loads(text)
            except json.JSONDecodeError:
                problems.append(ConfigProblem(full_key, "must be a YAML object or list"))
        else:
            raw[namespace][key] = text
    return raw, problems


def load_settings(source: ConfigSource = runtime_config_source) -> StackSettings:
    """Read and validate the whole stack configuration, or raise one :class:`StackConfigError`."""
    raw, problems = _raw_settings(source())
    try:
        StackSettings.model_validate(raw, context={"dry_run": True})
    except ValidationError as error:
        problems.extend(problems_from(error))
    problems.extend(cross_setting_problems(raw))
    if problems:
        raise StackConfigError(sorted(problems, key=lambda problem: problem.key))
    return StackSettings.model_validate(raw)
