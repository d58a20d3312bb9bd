"""Helm values for the Pachyderm chart, built by a pure function (no resources, no I/O).

Line numbers below refer to the 2.12.x ``values.yaml`` in ``tests/data/pachyderm-chart/`` (see its
SOURCE.txt); the 2.11.6 copy has the same keys for everything set here, so one builder serves both.
Template behaviour is quoted from ``etc/helm/pachyderm/templates`` of the same branches.

What the chart must never do here:
- manage identity or auth: ``pachd.activateAuth: false``, ``oidc.mockIDP: false`` and no
  ``oidc.upstreamIDPs`` - otherwise pachd sets ``IDP_CONNECTORS``/``IDP_CONFIG`` from the
  environment (templates/pachd/deployment.yaml) and refuses the connector and identity-config
  writes of the auth component, which owns them;
- generate a credential: every value the templates would ``randAlphaNum`` on each render is
  pinned (deployment id, LOCAL hostPath) or read from a Secret Pulumi creates;
- see a secret value: only Secret *names* appear in the values (Helm values are stored in the
  release's Secret and in Pulumi state as plain inputs).

The keys set here are listed, with their owners, in :mod:`components.helm_owned_values`, which
stack validation uses to refuse user overrides of them.
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
# values.yaml 1378: the chart's cleartext NodePort, which the https case leaves in place.
CHART_HTTP_NODE_PORT = 30080

# Keys the chart reads inside the Secrets this program creates. Each is fixed by a template.
# pachd/deployment.yaml and pgbouncer/deployment.yaml: `postgresqlExistingSecretKey | default
# "postgresql-password"`; the vendored Bitnami postgresql 10.8.0 subchart's statefulset reads
# `postgresql-password` (user `pachyderm`) and `postgresql-postgres-password` (the `postgres`
# superuser, because the user is not `postgres`) from `global.postgresql.existingSecret`.
POSTGRES_PASSWORD_KEY = "postgresql-password"
POSTGRES_ADMIN_PASSWORD_KEY = "postgresql-postgres-password"
# Not a password: a value that only has to be non-empty, and says so to anyone reading the release.
# The bundled Bitnami postgresql 10.8.0 subchart (etc/helm/pachyderm/dependencies/postgresql,
# packaged as charts/postgresql) renders templates/NOTES.txt on install and upgrade, and lines 45,
# 53 and 58 there evaluate `include "postgresql.password"`; that helper (templates/_helpers.tpl)
# `fail`s with "During an upgrade, global.postgresql.postgresqlPassword must be set" when
# `.Release.IsUpgrade` and neither global.postgresql.postgresqlPassword nor postgresqlPassword is
# set - whatever existingSecret says. A blank value therefore installs, then breaks every later
# `pulumi up` (helm.v3.Release runs Helm's upgrade action). With existingSecret set the value is
# only that truthiness test: templates/secrets.yaml (the one place the helper's result is written)
# renders only without an existing secret (`postgresql.createSecret`), the statefulset reads the
# password from existingSecret, and the parent chart reads postgresqlPassword only without
# postgresqlExistingSecretName (templates/pachd/postgres-secret.yaml). tests/test_helm_render.py
# renders the chart and asserts this value reaches no manifest. The credentials themselves stay
# in the Kubernetes Secret this program creates.
POSTGRES_PASSWORD_PLACEHOLDER = "unused-the-password-is-read-from-global.postgresql.existingSecret"
# values.yaml 557-558: "The value is pulled from the key, "OAUTH_CLIENT_SECRET"" (console and pachd
# both mount it: console/deployment.yaml OAUTH_CLIENT_SECRET, pachd/deployment.yaml
# CONSOLE_OAUTH_SECRET).
CONSOLE_CLIENT_SECRET_KEY = "OAUTH_CLIENT_SECRET"


class ChartSettings(Protocol):
    """What the builder reads of the ``pachyderm-okta:pachyderm`` settings.

    A protocol rather than the settings model itself: the settings validate Helm values with
    this module, so this module must not import them back.
    """

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

    ``cluster_deployment_id`` is a plain string in tests and the ``RandomId`` output in the
    component; leaving it as an Output leaf keeps every other value known in a first preview.
    Raises ``ValueError`` when the proxy Service cannot serve ``public_url`` (see
    :func:`proxy_service_values`).
    """
    owned: dict[str, Any] = {
        # values.yaml 4-7: required ("deployTarget must be set" in _helpers.tpl).
        "deployTarget": settings.deploy_target,
        "global": {
            "postgresql": {
                # values.yaml 13-18, 26-28: "leave Password blank and supply the name of the
                # existing secret ... and the key". pachd and pg-bouncer read
                # postgresqlExistingSecretName/Key. The well-known defaults
                # ("insecure-user-password", "insecure-root-password") are replaced so that they
                # can never be used: with an existing secret nothing renders them.
                # postgresqlPassword cannot be blank, though; see POSTGRES_PASSWORD_PLACEHOLDER.
                "postgresqlPassword": POSTGRES_PASSWORD_PLACEHOLDER,
                "postgresqlPostgresPassword": "",
                "postgresqlExistingSecretName": secret_names.postgres,
                "postgresqlExistingSecretKey": POSTGRES_PASSWORD_KEY,
                # The in-cluster Postgres (Bitnami subchart, `postgresql.enabled: true`) does NOT
                # read postgresqlExistingSecretName: it initialises the database user from
                # `global.postgresql.existingSecret` (its values.yaml documents the key), or
                # from postgresqlPassword. Pointing both at one Secret keeps the password the
                # database was initialised with equal to the one pachd and pg-bouncer send.
                "existingSecret": secret_names.postgres,
            },
        },
        "pachd": {
            # values.yaml 897-898: auth is activated through pachd's API by the auth component.
            # With this false the chart renders no `pachyderm-auth` Secret
            # (pachd/auth-secret.yaml is wrapped in `if .Values.pachd.activateAuth`), so no root
            # token or pachd client secret is randomised on render and none needs pinning; the
            # root token is minted by Pulumi, kept in encrypted state, and passed to
            # auth.activate. On 2.11 it also means no ACTIVATE_AUTH/LICENSE_KEY env: the
            # provider activates the license through the API.
            "activateAuth": False,
            # values.yaml 815-816 + _helpers.tpl `pachyderm.clusterDeploymentId`:
            # `default (randAlphaNum 32)` on every render; pinned to a Pulumi RandomId.
            "clusterDeploymentID": cluster_deployment_id,
            # values.yaml 910: only rendered into identity-config (oidc-clients) and the
            # auth-secret; pinned so any rendered copy equals what the auth provider registers.
            "oauthRedirectURI": urls.pachd_redirect_uri(public_url),
        },
        "oidc": {
            # values.yaml 1301, 1308. Either one makes the chart set IDP_CONNECTORS (and
            # IDP_CONFIG) in templates/pachd/deployment.yaml, after which pachd treats identity
            # as environment-managed: it refuses API connector/config writes and deletes
            # API-made connectors on restart.
            "mockIDP": False,
            "upstreamIDPs": [],
            # values.yaml 1265. Set explicitly rather than derived: the chart derives
            # `<proto>://<proxy.host>/dex` where <proto> is https only if proxy.tls,
            # ingress.tls or ingress.uriHttpsProtoOverride is set, so an https publicUrl whose
            # TLS ends before the proxy would get an http issuer. The console's ISSUER_URI env
            # uses this value; it must be byte-identical to the issuer the auth provider sets
            # (urls.dex_issuer). The template only requires the `/dex` suffix with the proxy on.
            "issuerURI": urls.dex_issuer(public_url),
            # values.yaml 1272-1273: scheme and host browsers use to reach Dex. The full URL
            # (scheme included), as the auth provider sets user_accessible_issuer_host.
            "userAccessibleOauthIssuerHost": urls.user_accessible_issuer_host(public_url),
        },
        "console": {
            "config": {
                # values.yaml 552-559: the client id, its secret by Secret name, and both derived
                # URIs pinned to the public URL for the same <proto> reason as oidc.issuerURI.
                "oauthClientID": CONSOLE_CLIENT_ID,
                "oauthClientSecretSecretName": secret_names.console_client,
                "oauthRedirectURI": urls.console_redirect_uri(public_url),
                "reactAppRuntimeIssuerURI": str(public_url),
            },
        },
        "proxy": {
            # values.yaml 1328-1336: Envoy serves gRPC, Dex, console and pachd's OIDC callback
            # on one origin; `proxy.host` is `host[:port]` verbatim (_helpers.tpl pachyderm.host).
            "enabled": True,
            "host": public_url.netloc,
            "service": proxy_service_values(settings, public_url),
        },
    }
    if public_url.scheme == "https":
        # values.yaml 625-626: makes every URI the chart still derives itself https, for TLS that
        # ends in a load balancer or ingress in front of the proxy (_helpers.tpl derives <proto>
        # from proxy.tls, ingress.tls or this flag).
        owned["ingress"] = {"uriHttpsProtoOverride": True}
    if settings.deploy_target == "LOCAL":
        # values.yaml 1021-1024 + pachd/deployment.yaml `$randHostPath`: a blank hostPath is a
        # new /var/pachyderm-XXXXX/ on every render, i.e. an empty PFS after each upgrade.
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
