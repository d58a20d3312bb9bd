"""The pack's policies: plain validate functions and the policy objects that wrap them.

Importing this module starts nothing (``PolicyPack(...)`` serves gRPC and blocks, so only
``policy/__main__.py`` builds it); tests call the validate functions directly.

What a validation can see (pulumi-policy 1.21.0, ``policy.py`` ``_PolicyAnalyzerServicer``):

- ``args.props`` are the resource's *inputs* with camelCase wire names (``grantTypes``), wrapped
  in a proxy that raises ``UnknownValueError`` on a value that is unknown during preview. The
  framework turns that error into an advisory "can't run policy during preview" note, so only
  the Helm values walk below catches it, to keep checking the known part of the values.
- Secretness is **not** visible: ``Analyze`` deserializes with ``proxy_secrets=False``, which
  replaces every secret by its plaintext. Only ``Remediate`` keeps ``pulumi_policy.Secret``
  markers (behind a secrets-preserving proxy). The secret checks below therefore fire only when
  the props carry markers; with 1.21.0 validations the enforceable part is
  ``args.opts.additional_secret_outputs``, which the engine does send.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final
from urllib.parse import urlsplit

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
)
from pulumi_policy.proxy import UnknownValueError
from pulumi_policy.secret import secrets_preserving_proxy

from components.helm_values import POSTGRES_PASSWORD_PLACEHOLDER
from components.urls import is_local_host

PACK_NAME: Final = "pachyderm-okta"

OKTA_OAUTH_APP: Final = "okta:app/oAuth:OAuth"
HELM_RELEASE: Final = "kubernetes:helm.sh/v3:Release"
PACHYDERM_DYNAMIC_PREFIX: Final = "pulumi-python:dynamic/pachyderm:"

ALLOWED_GRANT_TYPES: Final = frozenset({"authorization_code", "refresh_token"})
ALLOWED_RESPONSE_TYPES: Final = ("code",)
ROOT_TOKEN: Final = "root_token"

# Same shape as components.settings.fields._SEMVER (which pulls in pydantic, absent from a pack-only
# venv): MAJOR.MINOR.PATCH, optional leading v, optional pre-release and build. Anything else
# (^2.12, ~2.12.0, 2.12.x, *, >=2.11, 2.12) is a range Helm resolves anew on every run.
_EXACT_VERSION = re.compile(r"v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?")
# Key names that usually hold a credential (``rootToken`` is covered by ``[Tt]oken``).
_CREDENTIAL_KEY = re.compile(r"[Ss]ecret|[Tt]oken|[Pp]assword|[Ll]icenseKey")
# Keys that match _CREDENTIAL_KEY but never hold one, in the Pachyderm chart's values.yaml
# (tests/data/pachyderm-chart): durations, and a Secret name without the *SecretName suffix.
_NOT_CREDENTIALS = frozenset(
    {
        "IDTokenExpiry",  # oidc.IDTokenExpiry: 24h (a Go duration)
        "RotationTokenExpiry",  # oidc.RotationTokenExpiry: 48h
        "postgresqlSSLSecret",  # global.postgresql: "TLS Secret with cert/key", a Secret name
    }
)

_SECRETS_PROXY_TYPES: Final = (
    # The classes pulumi_policy.secret wraps props in when it keeps secret markers; taken from
    # the public factory rather than imported by their private names.
    type(secrets_preserving_proxy({})),
    type(secrets_preserving_proxy([])),
)

_RELEASE_SECRET_HINT = (
    "Helm stores values in plaintext in the release Secret; create a Kubernetes Secret with "
    "Pulumi and set the chart's matching *SecretName value instead"
)


def _shown(value: Any) -> str:
    """A prop value as the messages quote it: JSON for lists, ``none`` when unset."""
    if value is None:
        return "none"
    if isinstance(value, Sequence) and not isinstance(value, str):
        return json.dumps([str(item) for item in value])
    return json.dumps(str(value))


def _strings(value: Any) -> list[str] | None:
    """A list prop as strings, or None when it is unset or not a list."""
    if not isinstance(value, Sequence) or isinstance(value, str):
        return None
    return [str(item) for item in value]


def _raw(container: Any, key: Any) -> Any:
    """The stored entry, before a secrets-preserving proxy unwraps its ``Secret`` marker.

    pulumi-policy's proxies hand out their backing dict or list under the key ``"__target"``;
    plain containers have no such key and are returned as they are.
    """
    try:
        target = container["__target"]
    except (KeyError, IndexError, TypeError):
        target = container
    try:
        return target[key]
    except (KeyError, IndexError, TypeError):
        return None


def _is_marked_secret(container: Any, key: Any) -> bool:
    """True when the entry carries a ``pulumi_policy.Secret`` marker (never in 1.21 validations)."""
    return isinstance(_raw(container, key), Secret)


# 1. okta-app-web-code-flow-only -------------------------------------------------------------


def validate_okta_app_code_flow(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Okta OAuth apps are web apps using the authorization-code flow with refresh tokens only."""
    if args.resource_type != OKTA_OAUTH_APP:
        return
    props = args.props
    app_type = props.get("type")
    if app_type != "web":
        report(f'type must be "web" (got {_shown(app_type)})', None)
    grant_types = _strings(props.get("grantTypes"))
    if grant_types is None or set(grant_types) != ALLOWED_GRANT_TYPES:
        report(
            'grantTypes must be exactly ["authorization_code", "refresh_token"] '
            f"(got {_shown(grant_types)}): no implicit, client_credentials, password or "
            "device grants",
            None,
        )
    response_types = _strings(props.get("responseTypes"))
    if response_types != list(ALLOWED_RESPONSE_TYPES):
        report(f'responseTypes must be exactly ["code"] (got {_shown(response_types)})', None)


# 2. redirect-uris-https ---------------------------------------------------------------------


def _is_allowed_redirect(uri: str) -> bool:
    """https anywhere; http only to a local host (components.urls.is_local_host)."""
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
    except ValueError:
        return False
    if parts.scheme == "https" and host:
        return True
    return parts.scheme == "http" and bool(host) and is_local_host(host)


def validate_redirect_uris_https(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Every sign-in and sign-out redirect URI of an Okta OAuth app is https, except local ones."""
    if args.resource_type != OKTA_OAUTH_APP:
        return
    for field in ("redirectUris", "postLogoutRedirectUris"):
        for index, uri in enumerate(_strings(args.props.get(field)) or []):
            if not _is_allowed_redirect(uri):
                report(
                    f"{field}[{index}] {uri!r} must use https (http is allowed only for "
                    "localhost, loopback or private addresses and .local/.internal names)",
                    None,
                )


# 3. helm-release-pinned-without-literal-secrets --------------------------------------------


def _names_a_secret(key: str, siblings: Mapping[str, Any]) -> bool:
    """True for keys that *name* a Kubernetes Secret (or a key in one) rather than hold a value.

    The chart pairs every credential with a reference (etc/helm/pachyderm/values.yaml):
    ``*SecretName`` / ``secretName`` and Bitnami's ``existingSecret`` name a Secret;
    ``<x>SecretKey`` names the key inside the Secret that its sibling ``<x>SecretName`` names.
    A bare ``secretKey`` (the chart's S3 secret access key) has no such sibling and stays a
    credential.
    """
    if key.endswith("SecretName") or key == "secretName":
        return True
    if key.endswith(("existingSecret", "ExistingSecret")):
        return True
    if key.endswith("SecretKey") and key != "SecretKey":
        name_key = key.removesuffix("Key") + "Name"
        return any(sibling == name_key for sibling in siblings)
    return key in _NOT_CREDENTIALS


def _is_program_placeholder(key: str, value: str, siblings: Mapping[str, Any]) -> bool:
    """The program's non-secret ``postgresqlPassword``, next to the ``existingSecret`` it defers to.

    The bundled PostgreSQL subchart refuses every upgrade with a blank password value even when
    ``existingSecret`` is set, and then only tests the value for truthiness
    (components.helm_values.POSTGRES_PASSWORD_PLACEHOLDER says where). Only that exact value is
    let through: any other string there is still a literal credential.
    """
    return (
        key == "postgresqlPassword"
        and value == POSTGRES_PASSWORD_PLACEHOLDER
        and bool(siblings.get("existingSecret"))
    )


def _entries(node: Any, path: str) -> Iterator[tuple[Any, str, Any]]:
    """``(key, path, value)`` of a mapping's or list's entries, skipping unknown values.

    An unknown value (an Output during preview) is not a literal; the same check runs again with
    the resolved value during ``pulumi up``.
    """
    if isinstance(node, Mapping):
        labelled: list[tuple[Any, str]] = [(key, f"{path}.{key}") for key in node]
    elif isinstance(node, Sequence) and not isinstance(node, str):
        labelled = [(index, f"{path}[{index}]") for index in range(len(node))]
    else:
        return
    for key, where in labelled:
        try:
            value = node[key]
        except UnknownValueError:
            continue
        yield key, where, value


def _check_values(node: Any, path: str, report: ReportViolation) -> None:
    for key, where, value in _entries(node, path):
        if _is_marked_secret(node, key) or isinstance(value, Secret):
            report(f"{where} is a Pulumi secret: {_RELEASE_SECRET_HINT}", None)
            continue
        if (
            isinstance(key, str)
            and isinstance(value, str)
            and value
            and _CREDENTIAL_KEY.search(key)
            and not _names_a_secret(key, node)
            and not _is_program_placeholder(key, value, node)
        ):
            report(f"{where} holds a literal credential: {_RELEASE_SECRET_HINT}", None)
        _check_values(value, where, report)


def validate_helm_release(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Helm releases pin an exact chart version and carry no credential in their values."""
    if args.resource_type != HELM_RELEASE:
        return
    version = args.props.get("version")
    if not isinstance(version, str) or not version:
        report(
            "version must pin an exact chart version such as 2.12.2 (got none): an unpinned "
            "release installs whatever the repository serves as latest",
            None,
        )
    elif not _EXACT_VERSION.fullmatch(version):
        report(
            f"version {version!r} is not an exact semantic version such as 2.12.2: a range "
            "(^, ~, *, x, >=) lets Helm pick a different chart on a later run",
            None,
        )
    _check_values(args.props.get("values"), "values", report)


# 4. root-token-is-secret --------------------------------------------------------------------


def validate_root_token_is_secret(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Pachyderm dynamic resources keep the root token secret in state, as output and input."""
    if not args.resource_type.startswith(PACHYDERM_DYNAMIC_PREFIX):
        return
    secret_outputs = sorted(args.opts.additional_secret_outputs)
    if ROOT_TOKEN not in secret_outputs:
        report(
            f"additional_secret_outputs must include {ROOT_TOKEN!r} "
            f"(got {json.dumps(secret_outputs)}): a dynamic provider's outputs are stored in "
            "plaintext unless a same-named input was secret or they are listed there "
            "(pulumi/pulumi provider_plugin.go annotateSecrets)",
            None,
        )
    props = args.props
    if isinstance(props, _SECRETS_PROXY_TYPES) and ROOT_TOKEN in list(props):
        # Only a secrets-preserving proxy can say "not secret": plain props lost the markers.
        if not _is_marked_secret(props, ROOT_TOKEN):
            report(
                f"{ROOT_TOKEN} is not a Pulumi secret: pass pulumi.Output.secret(...) so it is "
                "encrypted in the state and masked in logs",
                None,
            )


# The policies and the pack ------------------------------------------------------------------

okta_app_web_code_flow_only = ResourceValidationPolicy(
    name="okta-app-web-code-flow-only",
    description=(
        "Okta OAuth apps must be web apps with grant types authorization_code and "
        "refresh_token only and response type code."
    ),
    validate=validate_okta_app_code_flow,
    enforcement_level=EnforcementLevel.MANDATORY,
)

redirect_uris_https = ResourceValidationPolicy(
    name="redirect-uris-https",
    description=(
        "Okta OAuth app redirect and post-logout redirect URIs must use https, except for "
        "local development hosts."
    ),
    validate=validate_redirect_uris_https,
    enforcement_level=EnforcementLevel.MANDATORY,
)

helm_release_pinned_without_literal_secrets = ResourceValidationPolicy(
    name="helm-release-pinned-without-literal-secrets",
    description=(
        "Helm releases must pin an exact chart version and keep credentials out of their "
        "values (reference Kubernetes Secrets by name)."
    ),
    validate=validate_helm_release,
    enforcement_level=EnforcementLevel.MANDATORY,
)

root_token_is_secret = ResourceValidationPolicy(
    name="root-token-is-secret",
    description="Pachyderm auth resources must keep root_token secret in the Pulumi state.",
    validate=validate_root_token_is_secret,
    enforcement_level=EnforcementLevel.MANDATORY,
)

POLICIES: Final[list[Policy]] = [
    okta_app_web_code_flow_only,
    redirect_uris_https,
    helm_release_pinned_without_literal_secrets,
    root_token_is_secret,
]
