"""The Helm values this program owns, and which of them a user's ``pachyderm.values`` would set.

:func:`components.helm_values.pachyderm_values` sets these from the settings; a user value for any
of them would fight the auth component (the chart re-enabling Helm-managed auth or identity, which
pachd then enforces over the API writes), or put a credential in plaintext Helm values instead of
the Secret the chart reads it from. Stack validation refuses them before anything is created.
Settings import this module; it imports nothing from the settings.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from components.project import PROJECT

_AUTH = "the auth component"
_ROOT_TOKEN = "the Pulumi-minted root token"
_POSTGRES = "the Pulumi-minted Postgres password"
_ENTERPRISE = f"{_AUTH} (2.11 enterprise activation)"
_PACHD_CLIENT = f"{_AUTH}'s `pachd` OIDC client"
_CONSOLE_CLIENT = f"{_AUTH}'s `console` OIDC client"
_PUBLIC_URL = f"{PROJECT}:publicUrl"
_PORT = f"{_PUBLIC_URL} (its port)"

# Each dotted path owns its whole subtree; the value says which setting (or component) owns it.
# Paths are those of the chart's values.yaml (etc/helm/pachyderm/values.yaml, 2.11.x and 2.12.x).
OWNED_HELM_VALUES: Mapping[str, str] = {
    "deployTarget": f"{PROJECT}:pachyderm.deployTarget",
    "pachd.activateAuth": f"{_AUTH}, which activates auth through pachd's API",
    "pachd.rootToken": f"{_ROOT_TOKEN} ({PROJECT}:rootToken to adopt one)",
    "pachd.rootTokenSecretName": _ROOT_TOKEN,
    "pachd.enterpriseLicenseKey": f"{PROJECT}:licenseKey",
    "pachd.enterpriseLicenseKeySecretName": f"{PROJECT}:licenseKey",
    "pachd.enterpriseSecret": _ENTERPRISE,
    "pachd.enterpriseSecretSecretName": _ENTERPRISE,
    "pachd.activateEnterpriseMember": _ENTERPRISE,
    "pachd.oauthClientID": _PACHD_CLIENT,
    "pachd.oauthClientSecret": _PACHD_CLIENT,
    "pachd.oauthClientSecretSecretName": _PACHD_CLIENT,
    "pachd.oauthRedirectURI": _PUBLIC_URL,
    "pachd.localhostIssuer": f"{_AUTH}'s OIDC configuration",
    "pachd.pachAuthClusterRoleBindings": f"{PROJECT}:auth.clusterAdmins and auth.roleBindings",
    "oidc": f"{_PUBLIC_URL} and {PROJECT}:auth (the connector is pushed through the API)",
    "proxy.enabled": f"{_PUBLIC_URL} (the proxy serves every address derived from it)",
    "proxy.host": _PUBLIC_URL,
    "proxy.service.type": f"{PROJECT}:pachyderm.serviceType",
    "proxy.service.httpNodePort": _PORT,
    "proxy.service.httpsNodePort": _PORT,
    "proxy.service.httpPort": _PORT,
    "proxy.service.httpsPort": _PORT,
    "ingress.uriHttpsProtoOverride": f"{_PUBLIC_URL} (set for every https URL)",
    "pachd.clusterDeploymentID": "a Pulumi-minted id (the chart would re-randomise it)",
    "pachd.storage.local.hostPath": f"{PROJECT}:pachyderm.localHostPath",
    "console.config.oauthClientID": _CONSOLE_CLIENT,
    "console.config.oauthClientSecret": _CONSOLE_CLIENT,
    "console.config.oauthClientSecretSecretName": _CONSOLE_CLIENT,
    "console.config.oauthRedirectURI": _PUBLIC_URL,
    "console.config.reactAppRuntimeIssuerURI": _PUBLIC_URL,
    "global.postgresql.postgresqlPassword": _POSTGRES,
    "global.postgresql.postgresqlExistingSecretName": _POSTGRES,
    "global.postgresql.postgresqlPostgresPassword": _POSTGRES,
    "global.postgresql.postgresqlExistingSecretKey": _POSTGRES,
    "global.postgresql.existingSecret": _POSTGRES,
    # The minted password could not match a database outside the release.
    "postgresql.enabled": "the bundled Postgres (an external database is not supported yet)",
}


def value_at(tree: Mapping[str, Any], path: str) -> Any:
    """The value at dotted ``path`` in a Helm values tree, or ``None`` where any level is unset."""
    value: Any = tree
    for key in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def key_paths(tree: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """Every key of a Helm values tree as a dotted path, parents before their children."""
    for key, value in tree.items():
        path = f"{prefix}{key}"
        yield path
        if isinstance(value, Mapping):
            yield from key_paths(value, path + ".")


def owned_values_set(values: Mapping[str, Any]) -> list[str]:
    """Each owned path that ``values`` sets, as ``path (owned by <owner>)``, in path order.

    A path is reported once, at the shallowest level it is set: ``{"oidc": {"mockIDP": true}}``
    reports ``oidc``, not also ``oidc.mockIDP``.
    """
    found: list[str] = []
    reported: list[str] = []
    for path in sorted(key_paths(values)):
        if any(path.startswith(parent + ".") for parent in reported):
            continue
        for prefix, owner in OWNED_HELM_VALUES.items():
            if path == prefix or path.startswith(prefix + "."):
                found.append(f"{path} (owned by {owner})")
                reported.append(path)
                break
    return found
