"""Rules that involve more than one setting, checked on the raw (unvalidated) config.

Each rule reads the raw config and validates only the settings it needs, on their own: a rule
still runs when an unrelated key is invalid, so one run reports every problem (a setting that is
itself invalid is reported by its own validator and skipped here).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from components import helm_owned_values, helm_values, urls
from components.settings.fields import (
    DEFAULT_CHART_VERSION,
    FIRST_LICENSE_FREE_VERSION,
    ChartVersion,
    PachdAddress,
    PublicUrlText,
    chart_version_tuple,
)
from components.settings.messages import config_key
from components.settings.namespaces import OKTA, PROJECT
from components.settings.problems import ConfigProblem
from components.settings.roles import (
    CLUSTER,
    KNOWN_ROLES,
    REPO,
    RESOURCE_WORDS,
    bindable_to,
    first_release_with,
    roles_bindable_to,
    roles_of,
)
from components.settings.roles import PROJECT as PROJECT_RESOURCE
from components.settings.schema import OktaAppSettings, PachydermSettings

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
            f"`pulumi config set --secret {PROJECT}:licenseKey` (it asks for the code)"
        )
    elif has_license and not needs_license:
        message = (
            f"is not used by pachyderm.chartVersion {version}: Pachyderm 2.12 removed enterprise "
            "licensing; remove the key"
        )
    else:
        return []
    return [ConfigProblem(f"{PROJECT}:licenseKey", message)]


def _binding_maps(auth: dict[str, Any]) -> Iterator[tuple[tuple[str, ...], str, Any]]:
    """``(config path, resource type, raw roleBindings map)`` of the cluster, each project, repo."""
    yield (PROJECT, "auth", "roleBindings"), CLUSTER, auth.get("roleBindings")
    for section, resource in (("projects", PROJECT_RESOURCE), ("repos", REPO)):
        entries = auth.get(section)
        for name, access in entries.items() if isinstance(entries, dict) else ():
            if isinstance(access, dict):
                path = (PROJECT, "auth", section, name, "roleBindings")
                yield path, resource, access.get("roleBindings")


def _where(role: str) -> str:
    """Where ``role`` can be bound: ``the cluster``, ``the cluster or a project``, ..."""
    kinds = (CLUSTER, PROJECT_RESOURCE, REPO)
    places = [RESOURCE_WORDS[kind] for kind in kinds if kind in bindable_to(role)]
    return places[0] if len(places) == 1 else f"{', '.join(places[:-1])} or {places[-1]}"


def _role_problems(project: dict[str, Any]) -> list[ConfigProblem]:
    """Roles the pinned chart lacks, and roles bound where roles.go's ``CanBeBoundTo`` says no."""
    pachyderm, auth = project.get("pachyderm", {}), project.get("auth", {})
    if not isinstance(pachyderm, dict) or not isinstance(auth, dict):
        return []
    version = _valid(ChartVersion, pachyderm.get("chartVersion", DEFAULT_CHART_VERSION))
    if version is _MISSING:
        return []
    major, minor, _ = chart_version_tuple(version)
    available = roles_of((major, minor))
    problems: list[ConfigProblem] = []
    for path, resource, bindings in _binding_maps(auth):
        for principal, roles in bindings.items() if isinstance(bindings, dict) else ():
            for index, role in enumerate(roles if isinstance(roles, list) else []):
                name = role.strip() if isinstance(role, str) else None
                # A name no release has is reported by the field's own check.
                if name is None or name not in KNOWN_ROLES:
                    continue
                key = config_key((*path, principal, index))
                if name not in available:
                    added = ".".join(map(str, first_release_with(name) or ()))
                    message = (
                        f"{name!r} is not a role of Pachyderm {major}.{minor} "
                        f"(pachyderm.chartVersion {version}), so pachd would refuse the binding; "
                        f"it came with {added}: remove it or pin a {added}.x chart"
                    )
                elif resource not in bindable_to(name):
                    # pachd checks only the name and would store it (docs/decisions.md, 48).
                    fitting = ", ".join(roles_bindable_to(resource, (major, minor)))
                    message = (
                        f"{name!r} can be bound to {_where(name)} only, not to "
                        f"{RESOURCE_WORDS[resource]} (its CanBeBoundTo in pachd's roles.go): "
                        f"use one of {fitting}"
                    )
                else:
                    continue
                problems.append(ConfigProblem(key, message))
    return problems


def _robot_problems(project: dict[str, Any]) -> list[ConfigProblem]:
    """A binding to a robot the stack neither mints nor lists as made elsewhere."""
    auth = project.get("auth", {})
    if not isinstance(auth, dict):
        return []
    robots = auth.get("robots", {}) if isinstance(auth.get("robots"), dict) else {}
    external = (
        auth.get("externalRobots", []) if isinstance(auth.get("externalRobots"), list) else []
    )
    declared = {*robots, *(name for name in external if isinstance(name, str))}
    found: list[tuple[tuple[Any, ...], str]] = []
    admins = auth.get("clusterAdmins")
    for index, principal in enumerate(admins if isinstance(admins, list) else []):
        found.append(((PROJECT, "auth", "clusterAdmins", index), principal))
    for path, _resource, bindings in _binding_maps(auth):
        found.extend(((*path, p), p) for p in (bindings if isinstance(bindings, dict) else ()))
    problems = []
    for path, principal in found:
        if not isinstance(principal, str) or not principal.startswith("robot:"):
            continue
        name = principal.removeprefix("robot:")
        if name not in declared:
            problems.append(
                ConfigProblem(
                    config_key(path),
                    f"robot {name!r} is not declared: add it to {PROJECT}:auth.robots (the stack "
                    f"mints its token), or to {PROJECT}:auth.externalRobots if its tokens are "
                    "made elsewhere",
                )
            )
    overlap = sorted(set(robots) & {name for name in external if isinstance(name, str)})
    problems.extend(
        ConfigProblem(
            config_key((PROJECT, "auth", "externalRobots")),
            f"robot {name!r} is also in {PROJECT}:auth.robots: a robot is minted by this stack "
            "or made elsewhere, not both",
        )
        for name in overlap
    )
    return problems


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


def _storage_url_problems(project: dict[str, Any]) -> list[ConfigProblem]:
    pachyderm = _valid(
        PachydermSettings, _subset(project.get("pachyderm"), "deployTarget", "values")
    )
    if pachyderm is _MISSING or pachyderm.deploy_target == "LOCAL":
        return []
    url = helm_owned_values.value_at(pachyderm.values, "pachd.storage.storageURL")
    if isinstance(url, str) and url.strip():
        return []
    # Every deployTarget but LOCAL makes the chart require it in pachd's and pachw's env
    # (etc/helm/pachyderm/templates/pachd/deployment.yaml, pachw/deployment.yaml:
    # `required "storage URL required" .Values.pachd.storage.storageURL`), so the release would
    # fail to render after the Okta app was already created.
    return [
        ConfigProblem(
            f"{PROJECT}:pachyderm.values.pachd.storage.storageURL",
            f"is required for pachyderm.deployTarget {pachyderm.deploy_target}: the chart "
            "refuses to render without the object-storage URL (e.g. s3://<bucket>, "
            "gs://<bucket>, wasb://<container>@<account>); only LOCAL stores data on the node",
        )
    ]


def _pachd_ca_problems(project: dict[str, Any]) -> list[ConfigProblem]:
    if "pachdCaCert" not in project:
        return []
    if "pachdAddress" in project:
        address, source = _valid(PachdAddress, project["pachdAddress"]), f"{PROJECT}:pachdAddress"
    else:
        public_url = _valid(PublicUrlText, project.get("publicUrl"))
        address = _MISSING if public_url is _MISSING else urls.pachd_grpc_address(public_url)
        source = f"derived from {PROJECT}:publicUrl"
    if address is _MISSING or urls.pachd_address_uses_tls(address):
        return []
    # pachyderm_sdk turns TLS on whenever it gets root certificates, so the CA would silently
    # change the scheme; pachctl refuses the same pair (docs/decisions.md, decision 38).
    return [
        ConfigProblem(
            f"{PROJECT}:pachdCaCert",
            f"is set, but pachd is reached without TLS at {address} ({source}): a CA only "
            "verifies a TLS address; set a grpcs:// pachdAddress, or remove the key",
        )
    ]


def _tls_server_name_problems(project: dict[str, Any]) -> list[ConfigProblem]:
    """The name is checked only on the forward's TLS: anywhere else it would silently do nothing."""
    if "pachdTlsServerName" not in project:
        return []
    forwarded = project.get("pachdAccess") == "portForward" and "pachdAddress" not in project
    pachyderm = _valid(PachydermSettings, _subset(project.get("pachyderm"), "values"))
    if pachyderm is _MISSING:
        return []  # reported where the values are
    if forwarded and helm_owned_values.value_at(pachyderm.values, "pachd.tls.enabled") is True:
        return []
    return [
        ConfigProblem(
            f"{PROJECT}:pachdTlsServerName",
            "applies only with pachdAccess: portForward (and no pachdAddress) to a pachd that "
            "serves TLS itself (pachyderm.values.pachd.tls.enabled: true); with direct, reach "
            "pachd at a name its certificate holds (pachdAddress), or remove the key",
        )
    ]


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
                "is required: set an SSWS token with `pulumi config set --secret okta:apiToken` "
                "(it asks for the token) or OKTA_API_TOKEN for `make up`, or okta:clientId + "
                "okta:privateKey + okta:scopes",
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


def _needed_okta_scopes(app: OktaAppSettings) -> list[tuple[str, str]]:
    """``(scope, what needs it)`` for every Okta API scope this stack's calls need.

    Okta's read scopes cover GET and its manage scopes POST, PUT and DELETE (Okta "OAuth 2.0
    scopes" guide), and the provider reads back all it writes. The app's authentication policy
    is left to Okta (``skip_authentication_policy``), so no ``okta.policies.*`` scope is needed;
    the org metadata read is public. README.md, "Prerequisites", lists the same.
    """
    needed = [("okta.apps.read", "the app"), ("okta.apps.manage", "the app and its assignments")]
    if app.groups:
        needed.append(("okta.groups.read", f"{PROJECT}:okta.groups"))
    if app.groups and app.create_groups:
        needed.append(("okta.groups.manage", f"{PROJECT}:okta.createGroups"))
    if app.users:
        needed.append(("okta.users.read", f"{PROJECT}:okta.users"))
    if app.authorization_server != "org":
        for scope in ("okta.authorizationServers.read", "okta.authorizationServers.manage"):
            needed.append((scope, f"{PROJECT}:okta.authorizationServer"))
    return needed


def _okta_scope_problems(project: dict[str, Any], okta_org: dict[str, Any]) -> list[ConfigProblem]:
    granted = _valid(tuple[str, ...], okta_org.get("scopes"))
    if "scopes" not in okta_org or granted is _MISSING:
        # No scopes (not private-key auth, or reported missing by _okta_auth_problems), or a
        # malformed list (reported by its own validator).
        return []
    app = _valid(
        OktaAppSettings,
        _subset(project.get("okta"), "groups", "users", "createGroups", "authorizationServer"),
    )
    if app is _MISSING:
        return []
    missing = [(scope, why) for scope, why in _needed_okta_scopes(app) if scope not in granted]
    if not missing:
        return []
    return [
        ConfigProblem(
            "okta:scopes",
            "lacks "
            + ", ".join(f"{scope} (for {why})" for scope, why in missing)
            + "; add them here and grant them to the service app in Okta",
        )
    ]


def _groups_claim_problems(
    project: dict[str, Any], okta_org: dict[str, Any]
) -> list[ConfigProblem]:
    app = _valid(
        OktaAppSettings, _subset(project.get("okta"), "groupsClaim", "authorizationServer")
    )
    if app is _MISSING or not app.has_groups_claim or app.authorization_server != "org":
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
    project, okta_org = raw[PROJECT], raw[OKTA]
    return [
        *_license_problems(project),
        *_role_problems(project),
        *_robot_problems(project),
        *_proxy_problems(project),
        *_storage_url_problems(project),
        *_pachd_ca_problems(project),
        *_tls_server_name_problems(project),
        *_okta_auth_problems(okta_org),
        *_okta_scope_problems(project, okta_org),
        *_groups_claim_problems(project, okta_org),
    ]
