"""How the deployer reaches pachd, derived once from the settings: by the program and the providers.

The program registers :func:`connection_settings` of the loaded settings with every auth resource.
The providers derive the same from the stack config the engine hands them (``configure``),
because a stored connection can be stale: after a "no change" diff the engine keeps a resource's
OLD outputs (``SameStep.Apply``, pulumi/pulumi pkg/resource/deploy/step.go), and the Python host
hands ``read`` and ``delete`` nothing else. The engine configures a dynamic provider with the
whole stack config, namespaces kept (``Target.GetPackageConfig``,
pulumi/pulumi pkg/resource/deploy/target.go). Why: docs/decisions-provider.md, section 2.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pulumi.dynamic import Config
from pydantic import ValidationError

from components import urls
from components.pachyderm_auth.kube_target import KubeAccess, PortForwardTarget, release_target
from components.pachyderm_auth.pachd import Connection
from components.settings.fields import SecretText
from components.settings.loader import raw_settings
from components.settings.namespaces import KUBERNETES, PROJECT
from components.settings.schema import KubernetesConfig, ProjectConfig, known_keys


@dataclass(frozen=True)
class ConnectionSettings:
    """The connection fields the settings decide: all but the root token and kube credentials."""

    pachd_address: str
    pachd_ca_cert: str
    """Empty: certifi's public CAs."""
    call_timeout_seconds: float
    ready_timeout_seconds: float
    port_forward: PortForwardTarget | None
    """Set: pachd is reached through the Kubernetes API, not at ``pachd_address``."""


def connection_settings(project: ProjectConfig) -> ConnectionSettings:
    """How pachd is reached under ``project``: what the program and the providers both use."""
    port_forward = None
    if project.pachd_port_forward:
        port_forward = release_target(
            namespace=project.pachyderm.namespace,
            release_name=project.pachyderm.release_name,
            helm_values=project.pachyderm.values,
            tls_server_name=project.pachd_tls_server_name or project.public_url.host,
        )
    return ConnectionSettings(
        pachd_address=project.pachd_address or urls.pachd_grpc_address(project.public_url),
        pachd_ca_cert=project.pachd_ca_cert or "",
        call_timeout_seconds=project.auth.call_timeout_seconds,
        ready_timeout_seconds=project.auth.pachd_ready_timeout_seconds,
        port_forward=port_forward,
    )


def kube_access(kubernetes: KubernetesConfig) -> KubeAccess:
    """The cluster the Kubernetes provider deploys to, for a port-forward (never stored)."""
    return KubeAccess(
        kubeconfig=kubernetes.kubeconfig,
        context=kubernetes.context,
        delete_unreachable=kubernetes.delete_unreachable,
    )


@dataclass(frozen=True)
class StackConnection:
    """What the stack config says about the connection, for a provider.

    ``settings`` is ``None`` when the config does not validate (a destroy runs no program, and
    the config may have changed since the last ``up``): the stored connection is used then.
    """

    settings: ConnectionSettings | None = None
    root_token: str | None = field(default=None, repr=False)
    """The configured (adopted) root token; ``None`` keeps the stored one (e.g. a minted one)."""
    kubernetes: KubeAccess = field(default_factory=KubeAccess)

    @classmethod
    def from_config(cls, config: Config) -> StackConnection:
        """Load the project's and the cluster's settings from ``config``, leniently."""
        project = _validated(ProjectConfig, PROJECT, config)
        # Only the cluster's keys: a tuning key the provider would refuse still names the cluster.
        kubernetes = _validated(
            KubernetesConfig, KUBERNETES, config, ("kubeconfig", "context", "deleteUnreachable")
        )
        return cls(
            settings=connection_settings(project) if project else None,
            # Taken even from a config that no longer validates: after a rotation through
            # rootToken, the token the other resources stored is revoked.
            root_token=_secret_text(project.root_token) if project else _text(config, "rootToken"),
            kubernetes=kube_access(kubernetes) if kubernetes else KubeAccess(),
        )

    def over(self, stored: Connection) -> Connection:
        """``stored`` with every field the config decides replaced by the configured value.

        The CA goes with the address: a config without ``pachdCaCert`` means "no CA".
        """
        update: dict[str, Any] = {"kubernetes": self.kubernetes}
        if self.settings is not None:
            update.update(vars(self.settings))
        if self.root_token is not None:
            update["root_token"] = self.root_token
        return stored.model_copy(update=update)

    @property
    def secrets(self) -> list[str]:
        """Credentials from the config, for redaction."""
        return [self.root_token] if self.root_token else []


M = TypeVar("M", ProjectConfig, KubernetesConfig)


def _validated(
    model: type[M], namespace: str, config: Config, keys: Iterable[str] | None = None
) -> M | None:
    """The namespace's settings as the program loads them, or ``None`` if they do not validate."""
    keys = known_keys(model) if keys is None else keys
    values = {f"{namespace}:{key}": config.get(f"{namespace}:{key}") for key in keys}
    # The host has unwrapped the secret flags: every value counts as a secret here.
    raw, _ = raw_settings({key: (v, True) for key, v in values.items() if isinstance(v, str)})
    try:
        # A dry run keeps secrets as text: outside a Pulumi program they cannot become Outputs.
        return model.model_validate(raw[namespace], context={"dry_run": True})
    except ValidationError:
        return None


def _text(config: Config, key: str) -> str | None:
    """A top-level project key as given; empty (Pulumi.yaml's ``default: ""``) is unset."""
    value = config.get(f"{PROJECT}:{key}")
    return value if isinstance(value, str) and value.strip() else None


def _secret_text(value: object) -> str | None:
    return value.text if isinstance(value, SecretText) else None
