"""Field types of the stack settings: closed sets, checked strings, secrets and chart versions.

Each check raises :func:`~components.settings.problems.problem` with a message that says what the
value must look like; a message may quote a non-secret value, never a secret one.
"""

from __future__ import annotations

import base64
import binascii
import re
import ssl
from dataclasses import dataclass, field
from typing import Annotated, Literal

import pulumi
from pydantic import AfterValidator, PlainValidator, ValidationInfo

from components import urls
from components.settings.problems import problem
from components.settings.roles import KNOWN_ROLES

# etc/helm/pachyderm/values.yaml `deployTarget` and `proxy.service.type`.
DeployTarget = Literal["LOCAL", "GOOGLE", "AMAZON", "MICROSOFT"]
ServiceType = Literal["NodePort", "LoadBalancer", "ClusterIP"]
# How the deployer reaches pachd's gRPC API: docs/decisions.md, decision 44.
PachdAccess = Literal["direct", "portForward"]
# pulumi-okta `okta.app.OAuth` refresh_token_rotation.
RefreshTokenRotation = Literal["STATIC", "ROTATE"]

# The released 2.12.x chart this program is tested against (pachyderm_sdk 2.12.2 is its SDK).
# renovate: datasource=helm registryUrl=https://helm.pachyderm.com depName=pachyderm
DEFAULT_CHART_VERSION = "2.12.2"
MINIMUM_CHART_VERSION = (2, 11)
FIRST_LICENSE_FREE_VERSION = (2, 12)

_SLUG = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", re.IGNORECASE)
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
_GO_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")
_PRINCIPAL = re.compile(r"^(user|group|robot):\S.*$")
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----", re.DOTALL)
# pfs ``Project.ValidateName`` (src/pfs/pfs.go) and ``ancestry.ValidateName``
# (src/internal/ancestry/ancestry.go): letters, digits, '_' and '-', a project's first character
# a letter or digit, at most 63 - 8 - len("-v99") = 51 characters (room for pipeline suffixes).
_PACHD_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
PROJECT_NAME_LIMIT = 51
DEFAULT_PROJECT = "default"
CONNECTOR_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
AUTH_SERVER_ID = re.compile(r"^[A-Za-z0-9]+$")


def check_public_url(value: str) -> urls.PublicUrl:
    """``value`` parsed as the stack's public URL."""
    try:
        return urls.parse_public_url(value)
    except ValueError as error:
        raise problem(str(error)) from None


def _check_pachd_address(value: str) -> str:
    match = re.fullmatch(r"(grpcs?|https?)://([^/:\s]+|\[[0-9a-fA-F:]+\]):(\d{1,5})", value.strip())
    if not match or not 0 < int(match.group(3)) < 65536:
        raise problem(
            "must be grpc://, grpcs://, http:// or https:// followed by host:port, "
            "e.g. grpc://localhost:30650"
        )
    return value.strip()


def _check_slug(value: str) -> str:
    if not _SLUG.fullmatch(value):
        raise problem("must be the Okta org's subdomain, e.g. dev-123456 (letters, digits, '-')")
    return value


def _check_domain(value: str) -> str:
    if not _DOMAIN.fullmatch(value.lower()):
        raise problem(
            "must be the Okta domain without scheme or path, e.g. okta.com or oktapreview.com"
        )
    return value.lower()


def _check_tls_server_name(value: str) -> str:
    name = value.strip().lower()
    if not _DOMAIN.fullmatch(name) and not _DNS_LABEL.fullmatch(name):
        raise problem(
            "must be a DNS name that pachd's TLS certificate holds, e.g. pachd.pachyderm.svc "
            "(no scheme, port or path)"
        )
    return name


def _check_dns_label(value: str) -> str:
    if not _DNS_LABEL.fullmatch(value):
        raise problem(
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
        raise problem("must be a semantic version such as 2.12.2 (pin a released chart)")
    if chart_version_tuple(value)[:2] < MINIMUM_CHART_VERSION:
        raise problem("must be 2.11.0 or newer: older charts manage auth differently")
    return value


def _check_go_duration(value: str) -> str:
    if not _GO_DURATION.fullmatch(value):
        raise problem("must be a Go duration such as 24h or 90m")
    return value


def _check_principal(value: str) -> str:
    if value != "allClusterUsers" and not _PRINCIPAL.fullmatch(value):
        raise problem(
            f"{value!r} is not a principal: use user:<email>, group:<okta group>, "
            "robot:<name> or allClusterUsers"
        )
    return value


def _check_role(value: str) -> str:
    # Known to some Pachyderm release; whether the stack's chart has it is a cross-setting rule.
    if value not in KNOWN_ROLES:
        raise problem(f"{value!r} is not a Pachyderm role: use one of {', '.join(KNOWN_ROLES)}")
    return value


def _check_ca_certificates(value: str) -> str:
    blocks = list(_PEM_BLOCK.finditer(value))
    labels = {block.group(1) for block in blocks}
    if any("PRIVATE KEY" in label for label in labels):
        raise problem(
            "holds a private key, which is a secret: give only the CA certificate(s), and "
            "replace that key if the stack file stored it"
        )
    if not blocks:
        raise problem(_not_pem_message(value))
    if labels != {"CERTIFICATE"}:
        other = sorted(labels - {"CERTIFICATE"})[0]
        raise problem(f"holds a {other} block: give only CERTIFICATE blocks, the CA(s) to trust")
    for index, block in enumerate(blocks, start=1):
        # OpenSSL parses the text as gRPC's TLS stack will; nothing about it is echoed.
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=block.group(0))
        except (ssl.SSLError, ValueError):
            raise problem(
                f"certificate {index} of {len(blocks)} is not a readable X.509 certificate"
            ) from None
    return value


def _not_pem_message(value: str) -> str:
    try:
        decoded = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if b"-----BEGIN CERTIFICATE-----" in decoded:
        return (
            "is base64-encoded (the form of pachctl's server_cas): decode it with `base64 -d` "
            "and give the PEM text"
        )
    return (
        "must be the PEM text of the CA certificate(s) that sign pachd's TLS certificate "
        "(-----BEGIN CERTIFICATE-----...), not a file path: "
        "`pulumi config set pachyderm-okta:pachdCaCert < ca.pem`"
    )


def _project_name_problem(value: str) -> str | None:
    if value == DEFAULT_PROJECT:
        return None
    if not _PACHD_NAME.fullmatch(value) or not value[0].isalnum():
        return (
            f"{value!r} is not a Pachyderm project name: letters, digits, '_' and '-', starting "
            "with a letter or digit"
        )
    if len(value) > PROJECT_NAME_LIMIT:
        return f"{value!r} is longer than pachd's {PROJECT_NAME_LIMIT} characters for a project"
    return None


def _check_project_name(value: str) -> str:
    reason = _project_name_problem(value)
    if reason:
        raise problem(reason)
    return value


def _check_repo_path(value: str) -> str:
    project, slash, repo = value.partition("/")
    if not slash or not project or not repo:
        raise problem(f"{value!r} is not a repo: name it <project>/<repo>, e.g. team-a/raw")
    reason = _project_name_problem(project)
    if reason:
        raise problem(reason)
    if not _PACHD_NAME.fullmatch(repo):
        raise problem(f"{repo!r} is not a Pachyderm repo name: letters, digits, '_' and '-' only")
    return value


def _check_non_blank(value: str) -> str:
    if not value.strip():
        raise problem("must not be empty")
    return value


def check_unique(values: tuple[str, ...]) -> tuple[str, ...]:
    """``values`` unchanged, or a problem naming the first value listed twice."""
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise problem(f"lists {value!r} more than once")
        seen.add(value)
    return values


def _check_groups_claim(value: object) -> bool | str:
    # YAML gives a real boolean; one message rather than one per member of the union.
    if value == "all" or isinstance(value, bool):
        return value
    raise problem("must be true (the groups this stack names), all (every group) or false")


GroupsClaim = Annotated[bool | Literal["all"], PlainValidator(_check_groups_claim)]
"""``okta.groupsClaim``: the groups the stack names (true), every group (``all``), none (false)."""
Principal = Annotated[str, AfterValidator(_check_principal)]
Role = Annotated[str, AfterValidator(_check_role)]
NonBlank = Annotated[str, AfterValidator(_check_non_blank)]
GoDuration = Annotated[str, AfterValidator(_check_go_duration)]
UniqueNames = Annotated[tuple[NonBlank, ...], AfterValidator(check_unique)]
DnsLabel = Annotated[str, AfterValidator(_check_dns_label)]
TlsServerName = Annotated[str, AfterValidator(_check_tls_server_name)]
ChartVersion = Annotated[str, AfterValidator(_check_chart_version)]
PachdAddress = Annotated[str, AfterValidator(_check_pachd_address)]
CaCertificates = Annotated[str, AfterValidator(_check_ca_certificates)]
"""PEM text of one or more CA certificates; never a file path, so any machine can run the stack."""
ProjectName = Annotated[str, AfterValidator(_check_project_name)]
RepoPath = Annotated[str, AfterValidator(_check_repo_path)]
"""``<project>/<repo>``: how pachd names a repo's auth resource (``Repo.AuthResource``)."""
OktaOrgName = Annotated[str, AfterValidator(_check_slug)]
OktaDomain = Annotated[str, AfterValidator(_check_domain)]
PublicUrlText = Annotated[str, AfterValidator(check_public_url)]


@dataclass(frozen=True)
class SecretText:
    """A secret config value on its way into the model; ``repr`` never shows it."""

    text: str = field(repr=False)


def _secret_output(value: object, info: ValidationInfo) -> object:
    # A dry run (the first validation pass) keeps the placeholder: creating an Output schedules a
    # task, which would be left pending - and warned about - whenever validation fails.
    if isinstance(value, SecretText):
        if info.context and info.context.get("dry_run"):
            return value
        return pulumi.Output.secret(value.text)
    if isinstance(value, pulumi.Output):
        return value
    raise problem("must be set as a secret with `pulumi config set --secret`")


Secret = Annotated[pulumi.Output[str], PlainValidator(_secret_output)]
