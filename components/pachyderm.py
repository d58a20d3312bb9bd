"""The Pachyderm Helm release and the credentials it reads, pinned in Pulumi state."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as kubernetes
import pulumi_random as random

from components import urls
from components.helm_values import (
    CONSOLE_CLIENT_SECRET_KEY,
    POSTGRES_ADMIN_PASSWORD_KEY,
    POSTGRES_PASSWORD_KEY,
    ChartSecretNames,
    pachyderm_values,
)
from components.settings import PachydermSettings

CHART = "pachyderm"
CHART_REPOSITORY = "https://helm.pachyderm.com"
# Long enough for any use, and `special=False` so that no value needs quoting in a DSN, an env
# var or a Dex client secret.
PASSWORD_LENGTH = 32


@dataclass(frozen=True)
class PachydermDeploymentArgs:
    """Inputs of :class:`PachydermDeployment`."""

    settings: PachydermSettings
    """The validated ``pachyderm-okta:pachyderm`` settings."""
    public_url: urls.PublicUrl
    """Where browsers and pachctl reach the proxy; every address derives from it."""


class PachydermDeployment(pulumi.ComponentResource):
    """Pachyderm deployed with its Helm chart, auth left to the auth component.

    Pass the Kubernetes provider on this component (``providers=[k8s]``); children inherit it.
    """

    namespace: pulumi.Output[str]
    """Namespace of the release (resolves once the namespace exists)."""
    release_name: pulumi.Output[str]
    """Helm release name."""
    console_client_secret: pulumi.Output[str]
    """Secret of the ``console`` OIDC client; the auth component registers it in Dex."""
    release: kubernetes.helm.v3.Release
    """The Helm release; the auth component depends on it."""

    def __init__(
        self,
        name: str,
        args: PachydermDeploymentArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("pachyderm-okta:pachyderm:Deployment", name, {}, opts)
        settings = args.settings
        child = pulumi.ResourceOptions(parent=self)

        namespace = kubernetes.core.v1.Namespace(
            f"{name}-namespace",
            metadata=kubernetes.meta.v1.ObjectMetaArgs(name=settings.namespace),
            opts=child,
        )
        postgres_password = _password(f"{name}-postgres-password", child)
        postgres_admin_password = _password(f"{name}-postgres-admin-password", child)
        console_client_secret = _password(f"{name}-console-client-secret", child)
        # 16 bytes -> 32 hex characters, the shape of the chart's own randAlphaNum 32.
        deployment_id = random.RandomId(f"{name}-deployment-id", byte_length=16, opts=child)

        secret_names = ChartSecretNames.for_release(settings.release_name)
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        secrets = [
            _chart_secret(
                f"{name}-postgres-secret",
                secret_names.postgres,
                {
                    POSTGRES_PASSWORD_KEY: postgres_password.result,
                    POSTGRES_ADMIN_PASSWORD_KEY: postgres_admin_password.result,
                },
                in_namespace,
                namespace=settings.namespace,
            ),
            _chart_secret(
                f"{name}-console-secret",
                secret_names.console_client,
                {CONSOLE_CLIENT_SECRET_KEY: console_client_secret.result},
                in_namespace,
                namespace=settings.namespace,
            ),
        ]
        release = kubernetes.helm.v3.Release(
            f"{name}-release",
            name=settings.release_name,
            chart=CHART,
            version=settings.chart_version,
            repository_opts=kubernetes.helm.v3.RepositoryOptsArgs(repo=CHART_REPOSITORY),
            namespace=settings.namespace,
            values=pachyderm_values(
                settings,
                public_url=args.public_url,
                secret_names=secret_names,
                cluster_deployment_id=deployment_id.hex,
            ),
            # A failed install or upgrade rolls back instead of leaving a release stuck in
            # pending-install (pulumi-kubernetes#2054).
            atomic=True,
            cleanup_on_fail=True,
            timeout=settings.helm_timeout_seconds,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, *secrets]),
        )

        self.namespace = namespace.id.apply(lambda _: settings.namespace)
        self.release_name = release.name.apply(lambda _: settings.release_name)
        self.console_client_secret = pulumi.Output.secret(console_client_secret.result)
        self.release = release
        self.register_outputs(
            {
                "namespace": self.namespace,
                "release_name": self.release_name,
                "console_client_secret": self.console_client_secret,
                # The URN: a resource reference among component outputs hangs the mocks, whose
                # monitor rehydrates it by constructing a new Release.
                "release": self.release.urn,
            }
        )


def _password(name: str, opts: pulumi.ResourceOptions) -> random.RandomPassword:
    """A generated credential; pulumi_random marks ``result`` secret."""
    return random.RandomPassword(name, length=PASSWORD_LENGTH, special=False, opts=opts)


def _chart_secret(
    resource_name: str,
    secret_name: str,
    string_data: dict[str, pulumi.Input[str]],
    opts: pulumi.ResourceOptions,
    *,
    namespace: str,
) -> kubernetes.core.v1.Secret:
    """A Secret the chart reads by name, in the release's namespace."""
    return kubernetes.core.v1.Secret(
        resource_name,
        metadata=kubernetes.meta.v1.ObjectMetaArgs(name=secret_name, namespace=namespace),
        string_data=string_data,
        opts=opts,
    )
