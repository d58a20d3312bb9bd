"""The connection the stack's config names now: how ``read`` and ``delete`` reach pachd.

Why not just the stored outputs: when ``diff`` answers "no change" (the provider does so when only
the connection changed), the engine records the new inputs but keeps the resource's OLD outputs
(``SameStep.Apply`` sets ``new.Outputs = old.Outputs``, pulumi/pulumi
pkg/resource/deploy/step.go), and the Python host hands ``read`` and ``delete`` nothing but those
outputs (``Read``/``Delete`` in ``pulumi/dynamic/__main__.py``). After the root token rotates or
the address moves, the stored connection can be stale.

What is current: the engine configures a dynamic provider with the WHOLE stack config, keys
namespaced (``Target.GetPackageConfig`` passes every key for the ``pulumi-python`` package,
pulumi/pulumi pkg/resource/deploy/target.go; pulumi/pulumi#17673 hands it to
``ResourceProvider.configure``). :class:`StackConnection` is what that config says about the
connection, derived the way the program derives it; a key the config does not set stays
``None`` and the stored value is used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any

from pulumi.dynamic import Config

from components import urls
from components.pachyderm_auth.kube_target import KubeAccess, PortForwardTarget, release_target
from components.pachyderm_auth.pachd import Connection

NAMESPACE = "pachyderm-okta"
"""The project's config namespace (``name`` in Pulumi.yaml)."""


@dataclass(frozen=True)
class StackConnection:
    """Connection fields as the stack config sets them; ``None`` where it does not."""

    pachd_address: str | None = None
    root_token: str | None = None
    call_timeout_seconds: float | None = None
    ready_timeout_seconds: float | None = None
    pachd_ca_cert: str | None = None
    pachd_access: str | None = None
    """``direct``/``portForward`` when the config says (``port_forward`` then replaces the
    stored one, ``None`` meaning direct); ``None`` keeps the stored one."""
    port_forward: PortForwardTarget | None = None
    kubernetes: KubeAccess = field(default_factory=KubeAccess)

    @classmethod
    def from_config(cls, config: Config) -> StackConnection:
        """Read ``rootToken``, ``pachdAddress`` (else ``publicUrl``), the CA and the timeouts.

        The CA goes with the address: where the config names an address, an unset
        ``pachdCaCert`` means "no CA" (not "the stored one"), so removing the key takes effect.
        """
        auth = _object(_text(config, "auth"))
        address = _address(config)
        access = _text(config, "pachdAccess")
        return cls(
            pachd_address=address,
            # Adopted as given: the program passes the configured token through unchanged.
            root_token=_text(config, "rootToken"),
            call_timeout_seconds=_seconds(auth.get("callTimeoutSeconds")),
            ready_timeout_seconds=_seconds(auth.get("pachdReadyTimeoutSeconds")),
            pachd_ca_cert=None if address is None else (_text(config, "pachdCaCert") or "").strip(),
            pachd_access=access,
            port_forward=_port_forward(config) if access == "portForward" else None,
            # The Kubernetes provider's own keys: the same cluster, context and credentials.
            kubernetes=KubeAccess(
                kubeconfig=_raw_text(config, "kubernetes:kubeconfig"),
                context=_raw_text(config, "kubernetes:context"),
            ),
        )

    def over(self, stored: Connection) -> Connection:
        """``stored`` with every field the config sets replaced by the configured value."""
        routing = {"pachd_access", "port_forward", "kubernetes"}
        configured = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in routing}
        update = {name: value for name, value in configured.items() if value is not None}
        if self.pachd_access is not None:
            update["port_forward"] = self.port_forward
        return stored.model_copy(update={**update, "kubernetes": self.kubernetes})

    @property
    def secrets(self) -> list[str]:
        """Credentials from the config, for redaction."""
        return [self.root_token] if self.root_token else []


def _text(config: Config, key: str) -> str | None:
    return _raw_text(config, f"{NAMESPACE}:{key}")


def _raw_text(config: Config, full_key: str) -> str | None:
    # Pulumi.yaml declares optional keys with `default: ""`: empty means "not set".
    value = config.get(full_key)
    return value if isinstance(value, str) and value != "" else None


def _port_forward(config: Config) -> PortForwardTarget | None:
    """The forward target as the program derives it; ``None`` (direct) with a pachdAddress."""
    if _text(config, "pachdAddress") is not None:
        return None
    pachyderm = _object(_text(config, "pachyderm"))
    values = pachyderm.get("values")
    public_url = _text(config, "publicUrl")
    try:
        public_host = urls.parse_public_url(public_url).host if public_url else ""
    except ValueError:
        public_host = ""
    return release_target(
        namespace=str(pachyderm.get("namespace") or "pachyderm"),
        release_name=str(pachyderm.get("releaseName") or "pachyderm"),
        helm_values=values if isinstance(values, dict) else {},
        public_host=public_host,
    )


def _object(text: str | None) -> dict[str, Any]:
    # Structured config values reach providers as JSON text.
    try:
        value = json.loads(text) if text else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return float(value)


def _address(config: Config) -> str | None:
    """``pachdAddress`` if set, else the address derived from ``publicUrl``, as the program does."""
    override = _text(config, "pachdAddress")
    if override is not None and override.strip():
        return override.strip()
    public_url = _text(config, "publicUrl")
    if public_url is None:
        return None
    try:
        return urls.pachd_grpc_address(urls.parse_public_url(public_url))
    except ValueError:
        return None
