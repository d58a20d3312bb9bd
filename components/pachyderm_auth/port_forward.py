"""Reaching pachd through the Kubernetes API (``pachdAccess: portForward``).

Why, and why the official ``kubernetes`` client: docs/decisions.md, decision 44.

:func:`forwarded` opens a loopback listener for one provider operation. Every TCP connection gRPC
makes to it gets its own ``pods/portforward`` stream to a ready pachd pod of the release, resolved
at that moment, so a pachd pod that restarts during the ready-wait is found again under its new
name. One stream is opened before the listener is handed out, so a refusal (RBAC, a namespace
that is gone) surfaces with the Kubernetes API's own answer instead of as a gRPC "unavailable".
"""

from __future__ import annotations

import concurrent.futures
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import grpc
import urllib3
from kubernetes import client as kube_client
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import portforward

from components.pachyderm_auth.kube_client import api_answer, api_client
from components.pachyderm_auth.kube_target import KubeAccess, PortForwardTarget
from components.pachyderm_auth.loopback_bridge import Bridge
from components.pachyderm_auth.port_forward_errors import (
    ClusterUnreachableError,
    PodNotReadyError,
    PortForwardError,
    ReleaseGoneError,
)

PACHD_GRPC_PORT_NAME = "api-grpc-port"
PACHD_GRPC_PORT = 1650
"""The chart's pachd container port for gRPC (``templates/pachd/deployment.yaml``)."""
PACHD_POD_SELECTOR = "app=pachd,suite=pachyderm"
"""The chart's labels on pachd pods; the Deployment is always named ``pachd``, so a namespace
holds one release's pachd."""
PACHD_DEPLOYMENT = "pachd"
HELM_RELEASE_ANNOTATION = "meta.helm.sh/release-name"
_LIBRARY_PUMP = "Kubernetes port forward proxy"


@dataclass(frozen=True)
class Right:
    """One RBAC right in the release's namespace: a verb on a resource of an API group."""

    verb: str
    resource: str
    group: str = ""

    def __str__(self) -> str:
        group = f" in API group `{self.group}`" if self.group else ""
        return f"`{self.verb}` on `{self.resource}`{group}"


@dataclass(frozen=True)
class Request:
    """A Kubernetes API request of the port-forward, and the rights kube-apiserver checks for it.

    The stream opens with a GET upgraded to a WebSocket: ``get`` on ``pods/portforward``, then
    (Kubernetes 1.35+, on by default) ``create`` too; docs/decisions.md, decision 44.
    """

    action: str
    rights: tuple[Right, ...]

    def lacking(self, answer: str) -> Right:
        """The right a 403 ``answer`` refuses: the one it names, else the stream's ``create``.

        The authorization filter names the verb; the upgrade's ``create`` check names none.
        """
        for right in self.rights:
            if f'cannot {right.verb} resource "{right.resource}"' in answer:
                return right
        return self.rights[-1]


LIST_PODS = Request("list pods", (Right("list", "pods"),))
GET_NAMESPACE = Request("get namespaces", (Right("get", "namespaces"),))
GET_DEPLOYMENT = Request("get deployments", (Right("get", "deployments", "apps"),))
OPEN_STREAM = Request(
    "open pods/portforward",
    (Right("get", "pods/portforward"), Right("create", "pods/portforward")),
)
PORT_FORWARD_REQUESTS = (LIST_PODS, OPEN_STREAM, GET_NAMESPACE, GET_DEPLOYMENT)
"""Every request the port-forward makes: its rights are the Role in docs/operations.md."""

_UNREACHABLE_HINT = (
    ". If the cluster is gone for good, kubernetes:deleteUnreachable: true (or "
    "PULUMI_K8S_DELETE_UNREACHABLE=true) lets refresh and destroy drop pachd's auth objects (and "
    "pulumi-kubernetes' resources) from the state"
)


@dataclass(frozen=True)
class Route:
    """What a gRPC client dials: the local end of the forward and the TLS name to check."""

    address: str
    tls_server_name: str | None
    kubelet_errors: list[str]
    """What the kubelet wrote on the error channel of this operation's streams, in order."""


@contextmanager
def forwarded(target: PortForwardTarget, access: KubeAccess, timeout: float) -> Iterator[Route]:
    """A loopback address that reaches the release's pachd gRPC port; everything closed on exit.

    ``timeout`` bounds every Kubernetes API request and each stream's opening.
    """
    with api_client(access, timeout) as api:
        forwarder = _Forwarder(kube_client.CoreV1Api(api), target, timeout)
        bridge = Bridge(forwarder.open, forwarder.timeout, retried=(PortForwardError, OSError))
        try:
            bridge.start()
            scheme = "grpcs" if target.tls else "grpc"
            yield Route(
                f"{scheme}://127.0.0.1:{bridge.port}",
                (target.server_name or None) if target.tls else None,
                forwarder.kubelet_errors,
            )
        finally:
            bridge.close()


class _Forwarder:
    """Finds a ready pachd pod and opens one ``pods/portforward`` stream to its gRPC port."""

    def __init__(self, core: kube_client.CoreV1Api, target: PortForwardTarget, timeout: float):
        self.core = core
        self.target = target
        self.timeout = timeout
        # One stream opens at a time, so the library's new pump thread is known to be its.
        self._lock = threading.Lock()
        self.kubelet_errors: list[str] = []

    def where(self, pod: str | None = None) -> str:
        found = f"namespace {self.target.namespace!r}, release {self.target.release_name!r}"
        return f"{found}, pod {pod!r}" if pod else found

    def open(self) -> _Stream:
        """A stream to pachd's gRPC port in a ready pod (resolved now)."""
        with self._lock:
            pod, port = self._ready_pod()
            before = set(threading.enumerate())
            # The stream helper swaps its ApiClient's call_api until the handshake returns; a
            # handshake past its deadline must not leave that swap on the client that lists pods.
            stream_api = kube_client.CoreV1Api(
                kube_client.ApiClient(self.core.api_client.configuration)
            )
            try:
                stream = self._with_deadline(
                    lambda: portforward(
                        stream_api.connect_get_namespaced_pod_portforward,
                        pod,
                        self.target.namespace,
                        ports=str(port),
                    ),
                    f"opening the port-forward ({self.where(pod)})",
                )
            except ApiException as error:
                raise self._refused(error, OPEN_STREAM, pod) from None
            # The library starts one pumping thread per stream and keeps no handle on it; streams
            # open one at a time under the lock, so the new thread of that name is this one's.
            pumps = [
                thread
                for thread in threading.enumerate()
                if thread not in before and thread.name.startswith(_LIBRARY_PUMP)
            ]
        pump = pumps[0] if len(pumps) == 1 else None
        return _Stream(stream, port, pump, self.timeout, self.kubelet_errors.append)

    def _ready_pod(self) -> tuple[str, int]:
        pods = self._request(
            lambda: self.core.list_namespaced_pod(
                self.target.namespace,
                label_selector=PACHD_POD_SELECTOR,
                _request_timeout=self.timeout,
            ),
            LIST_PODS,
        )
        ready = sorted((pod for pod in pods.items if _is_ready(pod)), key=_pod_name)
        if ready:
            return _pod_name(ready[0]), _grpc_port(ready[0])
        if not pods.items:
            self._check_release_exists()
        waiting = ", ".join(_pod_name(pod) for pod in pods.items) or "none"
        raise PodNotReadyError(f"no ready pachd pod ({self.where()}; pachd pods: {waiting})")

    def _check_release_exists(self) -> None:
        """Raise :class:`ReleaseGoneError` when the API says the namespace or pachd is gone."""
        namespace = self.target.namespace
        self._existing(
            lambda: self.core.read_namespace(namespace, _request_timeout=self.timeout),
            GET_NAMESPACE,
        )
        apps = kube_client.AppsV1Api(self.core.api_client)
        deployment = self._existing(
            lambda: apps.read_namespaced_deployment(
                PACHD_DEPLOYMENT, namespace, _request_timeout=self.timeout
            ),
            GET_DEPLOYMENT,
        )
        annotations = deployment.metadata.annotations or {}
        owner = annotations.get(HELM_RELEASE_ANNOTATION)
        if owner is not None and owner != self.target.release_name:
            raise PortForwardError(
                f"the pachd Deployment in namespace {namespace!r} belongs to Helm release "
                f"{owner!r}, not {self.target.release_name!r}"
            )

    def _existing(self, call: Any, request: Request) -> Any:
        """:meth:`_request`, where the API's "not found" means the release is gone."""
        try:
            return self._request(call, request)
        except PortForwardError as error:
            if error.code == grpc.StatusCode.NOT_FOUND:
                raise ReleaseGoneError(str(error), code=error.code) from None
            raise

    def _request(self, call: Any, request: Request) -> Any:
        try:
            return call()
        except ApiException as error:
            raise self._refused(error, request) from None
        except (OSError, urllib3.exceptions.HTTPError) as error:
            # Refused, unresolvable, timed out: urllib3's errors once its retries are spent.
            raise ClusterUnreachableError(
                f"the Kubernetes API server at {self._server()} cannot be reached to "
                f"{request.action} "
                f"({self.where()}): {type(error).__name__}: {error}{_UNREACHABLE_HINT}"
            ) from None

    def _with_deadline(self, call: Any, what: str) -> Any:
        # The library opens the stream without a timeout of its own; waiting on a worker thread
        # bounds it (a handshake that never answers leaves only that daemon thread behind).
        pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="port-forward")
        try:
            return pool.submit(call).result(timeout=self.timeout)
        except concurrent.futures.TimeoutError:
            raise ClusterUnreachableError(
                f"the Kubernetes API server at {self._server()} did not answer within "
                f"{self.timeout:g} s {what}"
            ) from None
        finally:
            pool.shutdown(wait=False)

    def _server(self) -> str:
        host: str = self.core.api_client.configuration.host
        return host

    def _refused(
        self, error: ApiException, request: Request, pod: str | None = None
    ) -> PortForwardError:
        status, answer = api_answer(error)
        action = request.action
        if status == 0 and isinstance(error.__context__, OSError):
            return ClusterUnreachableError(
                f"the Kubernetes API server at {self._server()} cannot be reached to {action} "
                f"({self.where(pod)}): {answer}{_UNREACHABLE_HINT}"
            )
        if status == 0:
            return PortForwardError(
                f"the Kubernetes API server at {self._server()} failed to {action} "
                f"({self.where(pod)}): {answer}"
            )
        code = {404: grpc.StatusCode.NOT_FOUND, 403: grpc.StatusCode.PERMISSION_DENIED}.get(status)
        hint = ""
        if status == 403:
            hint = (
                f"; the stack's kube credentials need {request.lacking(answer)} in namespace "
                f"{self.target.namespace!r} (the port-forward's Role: docs/operations.md), or set "
                "pachyderm-okta:pachdAccess to direct"
            )
        return PortForwardError(
            f"the Kubernetes API refused to {action} ({self.where(pod)}): "
            f"{status} {answer.strip()}{hint}",
            code=code,
        )


class _Stream:
    """One ``pods/portforward`` stream: the socket gRPC's bytes go through, closed completely.

    The library's pump closes the WebSocket when our socket closes, but not when the API server
    closed it first (its ``WebSocketConnectionClosedException`` path returns without closing):
    after the pump ends, the WebSocket is shut down here if still open.
    """

    def __init__(
        self,
        stream: Any,
        port: int,
        pump: threading.Thread | None,
        timeout: float,
        kubelet_error: Callable[[str], None],
    ):
        self.socket: socket.socket = stream.socket(port)._socket
        self._stream = stream
        self._port = port
        self._websocket = stream.websocket
        self._pump = pump
        self._timeout = timeout
        self._kubelet_error = kubelet_error

    def close(self) -> None:
        # EOF first, close after the pump ended: closing with bytes unread would reset the
        # library's end of the socket pair, an error its pump thread does not catch.
        with suppress(OSError):
            self.socket.shutdown(socket.SHUT_WR)
        if self._pump is not None:
            self._pump.join(timeout=self._timeout)
        with suppress(OSError):
            self.socket.close()
        # The pump keeps what arrived on the port's error channel (e.g. the kubelet's "connection
        # refused" inside the pod) before it closes our socket, which gRPC sees as a dropped peer.
        if self._stream.error(self._port):
            self._kubelet_error(self._stream.error(self._port).strip())
        if self._pump is None:
            return
        if not self._pump.is_alive() and self._websocket.sock is not None:
            with suppress(Exception):
                self._websocket.shutdown()


def _pod_name(pod: Any) -> str:
    name: str = pod.metadata.name
    return name


def _is_ready(pod: Any) -> bool:
    if pod.metadata.deletion_timestamp is not None or pod.status is None:
        return False
    conditions = pod.status.conditions or []
    return pod.status.phase == "Running" and any(
        condition.type == "Ready" and condition.status == "True" for condition in conditions
    )


def _grpc_port(pod: Any) -> int:
    for container in pod.spec.containers or []:
        for port in container.ports or []:
            if port.name == PACHD_GRPC_PORT_NAME:
                number: int = port.container_port
                return number
    return PACHD_GRPC_PORT
