"""Where ``pachdAccess: portForward`` forwards to, and which cluster credentials it uses.

Plain models, apart from :mod:`components.pachyderm_auth.port_forward` (which needs the pachd
errors), so that :class:`~components.pachyderm_auth.pachd.Connection` can carry them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from components.helm_owned_values import value_at


class PortForwardTarget(BaseModel):
    """Where the forward goes: the release's pachd, and how its gRPC port is spoken to.

    Stored with the connection (no credential in it); kube credentials come from the stack config.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    namespace: str
    release_name: str
    tls: bool = False
    """pachd itself serves TLS (chart ``pachd.tls.enabled``); else plain gRPC on the pod port."""
    server_name: str = ""
    """The name pachd's certificate is checked against, never ``127.0.0.1``:
    ``pachdTlsServerName``, else the public host."""


class KubeAccess(BaseModel):
    """The cluster the Kubernetes provider uses: ``kubernetes:kubeconfig`` and ``:context``.

    Never stored: it comes from the stack config the engine hands the provider, and a kubeconfig
    given as a secret stays one.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kubeconfig: str | None = Field(default=None, repr=False)
    """A path or the YAML contents, as pulumi-kubernetes takes it; unset, ``KUBECONFIG`` or
    ``~/.kube/config``."""
    context: str | None = None
    delete_unreachable: bool | None = None
    """``kubernetes:deleteUnreachable``: let go of pachd's objects when the API cannot be reached;
    unset, PULUMI_K8S_DELETE_UNREACHABLE decides, as it does for pulumi-kubernetes."""


def release_target(
    *, namespace: str, release_name: str, helm_values: Mapping[str, Any], tls_server_name: str
) -> PortForwardTarget:
    """The forward target of a release (``connection_settings`` derives it from the settings).

    pachd serves TLS on its own ports only with the chart's ``pachd.tls.enabled`` (TLS of an
    https publicUrl may end at the proxy or a load balancer, which the forward bypasses).
    """
    return PortForwardTarget(
        namespace=namespace,
        release_name=release_name,
        tls=bool(value_at(helm_values, "pachd.tls.enabled")),
        server_name=tls_server_name,
    )
