"""Helm values for the Pachyderm chart, built by a pure function (no resources, no I/O).

The chart must never manage identity or auth, generate a credential, or see a secret value; why
each key is set is in docs/decisions.md, decision 41. The keys set here are listed, with their
owners, in :mod:`components.helm_owned_values`, which stack validation uses to refuse user
overrides of them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import pulumi

from components import urls
from components.dex import CONSOLE_CLIENT_ID
from components.helm_owned_values import value_at

# The default Kubernetes NodePort range (kube-apiserver --service-node-port-range).
NODE_PORT_RANGE = range(30000, 32768)
# The chart's cleartext NodePort, which the https case leaves in place.
CHART_HTTP_NODE_PORT = 30080

# Keys the chart's templates read inside the Secrets this program creates (decision 41).
POSTGRES_PASSWORD_KEY = "postgresql-password"
POSTGRES_ADMIN_PASSWORD_KEY = "postgresql-postgres-password"
# Not a password: it only has to be non-empty for the bundled PostgreSQL chart to upgrade
# (docs/decisions.md, decision 23).
POSTGRES_PASSWORD_PLACEHOLDER = "unused-the-password-is-read-from-global.postgresql.existingSecret"
CONSOLE_CLIENT_SECRET_KEY = "OAUTH_CLIENT_SECRET"


class ChartSettings(Protocol):
    """What the builder reads of the ``pachyderm-okta:pachyderm`` settings (decision 24)."""

    @property
    def deploy_target(self) -> str:
        """The chart's ``deployTarget``."""

    @property
    def service_type(self) -> str:
        """The proxy Service's type."""

    @property
    def local_host_path(self) -> str:
        """The LOCAL storage hostPath."""

    @property
    def values(self) -> Mapping[str, Any]:
        """The user's extra Helm values, merged last."""


@dataclass(frozen=True)
class ChartSecretNames:
    """Names of the Kubernetes Secrets (in the release namespace) that the chart reads."""

    postgres: str
    """Keys :data:`POSTGRES_PASSWORD_KEY` and :data:`POSTGRES_ADMIN_PASSWORD_KEY`."""
    console_client: str
    """Key :data:`CONSOLE_CLIENT_SECRET_KEY`: the ``console`` OIDC client's secret."""

    @classmethod
    def for_release(cls, release_name: str) -> ChartSecretNames:
        """Names derived from the release, distinct from every Secret the chart itself renders."""
        return cls(
            postgres=f"{release_name}-postgres-credentials",
            console_client=f"{release_name}-console-oauth",
        )


def pachyderm_values(
    settings: ChartSettings,
    *,
    public_url: urls.PublicUrl,
    secret_names: ChartSecretNames,
    cluster_deployment_id: pulumi.Input[str],
) -> dict[str, Any]:
    """The chart's values: owned keys from settings and the public URL, then ``settings.values``.

    ``cluster_deployment_id`` stays an Output leaf, so every other value is known in a first
    preview. Raises ``ValueError`` when the proxy Service cannot serve ``public_url``.
    """
    owned: dict[str, Any] = {
        "deployTarget": settings.deploy_target,
        "global": {
            "postgresql": {
                # The chart's well-known default passwords are replaced so they can never be
                # used; the real ones are read from the Secret.
                "postgresqlPassword": POSTGRES_PASSWORD_PLACEHOLDER,
                "postgresqlPostgresPassword": "",
                "postgresqlExistingSecretName": secret_names.postgres,
                "postgresqlExistingSecretKey": POSTGRES_PASSWORD_KEY,
                # The bundled Postgres initialises its user from this Secret, not from
                # postgresqlExistingSecretName: one Secret keeps both sides on one password.
                "existingSecret": secret_names.postgres,
            },
        },
        "pachd": {
            # The auth component activates auth through pachd's API, with a Pulumi-minted
            # root token; the chart then renders no auth Secret to randomise.
            "activateAuth": False,
            # Randomised on every render unless pinned.
            "clusterDeploymentID": cluster_deployment_id,
            # Pinned so any rendered copy equals what the auth component registers.
            "oauthRedirectURI": urls.pachd_redirect_uri(public_url),
        },
        "oidc": {
            # Either would make identity environment-managed: pachd then refuses the auth
            # component's connector and config writes.
            "mockIDP": False,
            "upstreamIDPs": [],
            # Set, not left to the chart: it derives http behind TLS that ends before the
            # proxy, and this must equal the auth component's issuer byte for byte.
            "issuerURI": urls.dex_issuer(public_url),
            "userAccessibleOauthIssuerHost": urls.user_accessible_issuer_host(public_url),
        },
        "console": {
            "config": {
                # URIs pinned to the public URL for the same reason as oidc.issuerURI.
                "oauthClientID": CONSOLE_CLIENT_ID,
                "oauthClientSecretSecretName": secret_names.console_client,
                "oauthRedirectURI": urls.console_redirect_uri(public_url),
                "reactAppRuntimeIssuerURI": str(public_url),
            },
        },
        "proxy": {
            # One origin for gRPC, Dex, the console and pachd's OIDC callback.
            "enabled": True,
            "host": public_url.netloc,
            "service": proxy_service_values(settings, public_url),
        },
    }
    if public_url.scheme == "https":
        # Every URI the chart still derives is https, also when TLS ends in front of the proxy.
        owned["ingress"] = {"uriHttpsProtoOverride": True}
    if settings.deploy_target == "LOCAL":
        # A blank hostPath is a new random directory on every render: an empty PFS after each
        # upgrade.
        owned["pachd"]["storage"] = {"local": {"hostPath": settings.local_host_path}}
    return deep_merge(owned, settings.values)


def _proxy_tls_enabled(values: Mapping[str, Any]) -> bool:
    return bool(value_at(values, "proxy.tls.enabled"))


def proxy_service_values(settings: ChartSettings, public_url: urls.PublicUrl) -> dict[str, Any]:
    """``proxy.service``: its type, and the port browsers use when the Service itself is reached.

    Raises ``ValueError`` when the proxy cannot serve ``public_url``; stack validation calls this
    too, so the problem is reported before anything is created.

    - NodePort: the URL's port *is* the node port, so it must be explicit and in 30000-32767.
      http uses ``httpNodePort``. https needs TLS at the proxy (``proxy.tls`` in
      ``pachyderm.values``): nothing else sits between a browser and a node port to terminate it,
      and the URL's port becomes ``httpsNodePort``.
    - LoadBalancer: the load balancer listens on the Service port, so ``httpPort`` (or
      ``httpsPort`` with proxy TLS) is the URL's effective port (443 when a cloud load balancer
      terminates TLS on the Service's http port).
    - ClusterIP: something in front (ingress, port-forward) owns the public port; chart defaults.
    """
    proxy_tls = _proxy_tls_enabled(settings.values)
    if public_url.scheme == "http" and proxy_tls:
        raise ValueError(
            f"publicUrl {public_url} is http, but pachyderm.values sets proxy.tls.enabled: the "
            "proxy would redirect every request to https; use an https publicUrl or drop proxy.tls"
        )
    service: dict[str, Any] = {"type": settings.service_type}
    port = public_url.effective_port
    if settings.service_type == "NodePort":
        if public_url.scheme == "https" and not proxy_tls:
            raise ValueError(
                f"publicUrl {public_url} is https with serviceType NodePort, but nothing would "
                "terminate TLS: enable it at the proxy (pachyderm.values proxy.tls.enabled and "
                "proxy.tls.secretName) or, for TLS in a load balancer or ingress, use serviceType "
                "LoadBalancer or ClusterIP"
            )
        if public_url.port is None or port not in NODE_PORT_RANGE:
            shown = "no port" if public_url.port is None else f"port {port}"
            raise ValueError(
                f"publicUrl {public_url} has {shown}, but with serviceType NodePort its port is "
                f"the proxy's node port, which must be between {NODE_PORT_RANGE.start} and "
                f"{NODE_PORT_RANGE.stop - 1} (e.g. http://<node-ip>:30080); use serviceType "
                "LoadBalancer or ClusterIP for any other port"
            )
        if public_url.scheme == "https":
            if port == CHART_HTTP_NODE_PORT:
                raise ValueError(
                    f"publicUrl {public_url} uses port {port}, the chart's cleartext "
                    "httpNodePort; pick another node port for https, e.g. 30443"
                )
            service["httpsNodePort"] = port
        else:
            service["httpNodePort"] = port
    elif settings.service_type == "LoadBalancer":
        service["httpsPort" if proxy_tls else "httpPort"] = port
    return service


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` merged in: mappings merge key by key, anything else replaces.

    Neither argument is modified; the result shares no mutable structure with ``override``.
    """
    merged: dict[str, Any] = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
