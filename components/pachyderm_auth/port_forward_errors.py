"""How a port-forward to pachd fails, apart from the client library.

The providers tell these apart (a release the API answers as gone reads as deleted) without
importing the Kubernetes client, which only ``pachdAccess: portForward`` loads. The two
``ConnectionError`` kinds are what the ready-wait retries until its deadline, as it retries pachd
itself being unreachable.
"""

from __future__ import annotations

import os

import grpc

DELETE_UNREACHABLE = "PULUMI_K8S_DELETE_UNREACHABLE"
"""pulumi-kubernetes' opt-in to let go of what an unreachable cluster held; honoured here too."""


class PortForwardError(Exception):
    """The Kubernetes API refused or failed the forward; the message names what it answered.

    ``code`` is the gRPC code it amounts to for the providers (UNAVAILABLE: try the stored
    connection next, as for pachd; NOT_FOUND; PERMISSION_DENIED), ``None`` when none fits. It
    carries no credential: the kubeconfig never reaches a message.
    """

    def __init__(self, message: str, *, code: grpc.StatusCode | None = None) -> None:
        super().__init__(message)
        self.code = code


class ReleaseGoneError(PortForwardError):
    """The API answers that the release's namespace or pachd Deployment does not exist."""


class ClusterUnreachableError(PortForwardError, ConnectionError):
    """The Kubernetes API server could not be reached."""

    def __init__(self, message: str, *, code: grpc.StatusCode | None = None) -> None:
        super().__init__(message, code=code or grpc.StatusCode.UNAVAILABLE)


class PodNotReadyError(PortForwardError, ConnectionError):
    """No ready pachd pod, or the pod went away."""

    def __init__(self, message: str, *, code: grpc.StatusCode | None = None) -> None:
        super().__init__(message, code=code or grpc.StatusCode.UNAVAILABLE)


class PodPortError(PortForwardError, ConnectionError):
    """The stream opened, but the kubelet could not reach pachd's port in the pod."""

    def __init__(self, message: str, *, code: grpc.StatusCode | None = None) -> None:
        super().__init__(message, code=code or grpc.StatusCode.UNAVAILABLE)


def cluster_gone(error: PortForwardError, delete_unreachable: bool | None = None) -> bool:
    """Whether pachd's objects went with the cluster: they lived in its database.

    The Kubernetes API answering that the release's namespace or pachd Deployment does not exist
    is proof; an API that cannot be reached is not, unless the user opts in as pulumi-kubernetes
    lets them: ``kubernetes:deleteUnreachable`` (``delete_unreachable``), else its environment
    default PULUMI_K8S_DELETE_UNREACHABLE (docs/decisions.md, decision 44).
    """
    if isinstance(error, ReleaseGoneError):
        return True
    if delete_unreachable is None:
        delete_unreachable = os.environ.get(DELETE_UNREACHABLE, "").strip().lower() == "true"
    return isinstance(error, ClusterUnreachableError) and delete_unreachable
