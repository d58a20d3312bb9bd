"""A stand-in Kubernetes API server on loopback: pachd pods and their ``pods/portforward``.

It serves what ``pachdAccess: portForward`` asks of a real API server, over real HTTP, so the
official ``kubernetes`` client runs unmodified against it:

* ``GET /api/v1/namespaces/{ns}/pods?labelSelector=...``, ``GET /api/v1/namespaces/{ns}`` and
  ``GET /apis/apps/v1/namespaces/{ns}/deployments/{name}``, as JSON the client deserialises;
* the WebSocket upgrade of ``/api/v1/namespaces/{ns}/pods/{name}/portforward?ports=N`` with the
  ``v4.channel.k8s.io`` framing of kubernetes/kubernetes
  ``pkg/kubelet/cri/streaming/portforward/websocket.go``: per port a data channel and an error
  channel, each opened by a frame carrying the port as 2 bytes little-endian, then binary frames
  whose first byte is the channel; a failed dial is written to the error channel as
  ``error forwarding port N to pod P, uid U: ...``. The data channel is joined to the pod's
  ``target`` TCP address (a fake pachd);
* ``GET``/``POST`` of ``/api/v1/namespaces/{ns}/secrets[/{name}]``, kept in memory: pachd reads,
  and creates if missing, the Secret ``pachyderm-pjs-worker-authentication`` at start-up (pachyderm
  ``src/internal/pachd/builder.go``, ``ensurePJSWorkerSecret``) and exits when it cannot;
* authorization as kube-apiserver 1.35 does it, against one namespaced :class:`Role` (none: every
  request is allowed). Each request is checked with the verb and namespace of ``k8s.io/apiserver``
  ``pkg/endpoints/request/requestinfo.go``: a GET with a name is ``get``, without one ``list``, a
  POST ``create``; a GET of ``/api/v1/namespaces/NAME`` is in namespace NAME. The port-forward's
  WebSocket upgrade is a GET, so ``get`` on ``pods/portforward``, and then, with the
  ``AuthorizePodWebsocketUpgradeCreatePermission`` gate (beta, on by default from 1.35),
  ``create`` as well (kubernetes ``pkg/registry/core/pod/rest/subresources.go``,
  ``PortForwardREST.Connect``; ``authorize.go``, ``ensureAuthorizedForVerb``). Refusals are the
  API server's ``Status`` bodies: the filter's ``pods "p" is forbidden: User "u" cannot get
  resource "pods/portforward" in API group "" in the namespace "ns"``
  (``pkg/endpoints/handlers/responsewriters/errors.go``), the create check's ``pods "p" is
  forbidden: `` followed by RBAC's reason, which is empty for a plain denial
  (``plugin/pkg/auth/authorizer/rbac/rbac.go``); and 401 for a request without the kubeconfig's
  bearer token.

With a ``certificate`` it serves HTTPS only, as every real API server does (pachd's fallback kube
client speaks HTTPS to ``KUBERNETES_PORT_443_TCP_ADDR``, pachyderm
``src/internal/serviceenv/service_env.go``, ``initKubeClient``).

Pods change under the client as in a cluster: :meth:`KubeApiStandIn.restart_pod` replaces a pod
by a new one with a new name (not ready until :meth:`set_ready`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import ssl
import struct
import sys
import tempfile
import threading
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml
from websocket import ABNF

from testkit.serving import Serving
from testkit.stacks import ROOT
from testkit.tls import ServerCertificate

TOKEN = "stand-in-kube-token-0006"
USER = "ci-deployer"
CHANNEL_PROTOCOL = "v4.channel.k8s.io"
_WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
PACHD_LABELS = {"app": "pachd", "suite": "pachyderm"}


@dataclass
class StandInPod:
    """A pod the stand-in lists; its container port forwards to ``target`` (host, port)."""

    name: str
    namespace: str
    target: tuple[str, int]
    ready: bool = True
    labels: dict[str, str] = field(default_factory=lambda: dict(PACHD_LABELS))
    grpc_port: int = 1650


@dataclass(frozen=True)
class Access:
    """What one request is authorized as: verb, API group, resource[/subresource], namespace."""

    verb: str
    group: str
    resource: str
    namespace: str


@dataclass(frozen=True)
class Role:
    """An RBAC Role: ``rules`` of ``(api groups, resources, verbs)``, in ``namespace`` only."""

    namespace: str
    rules: tuple[tuple[frozenset[str], frozenset[str], frozenset[str]], ...]

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> Role:
        """A ``kind: Role`` manifest, as ``kubectl apply`` would read it."""
        if document.get("kind") != "Role":
            raise ValueError(f"expected a Role, got {document.get('kind')!r}")
        rules = tuple(
            (
                frozenset(rule.get("apiGroups", [])),
                frozenset(rule.get("resources", [])),
                frozenset(rule.get("verbs", [])),
            )
            for rule in document["rules"]
        )
        return cls(document["metadata"]["namespace"], rules)

    def allows(self, access: Access) -> bool:
        """RBAC's rule match (no wildcards needed here): group, resource and verb in one rule."""
        return access.namespace == self.namespace and any(
            access.group in groups and access.resource in resources and access.verb in verbs
            for groups, resources, verbs in self.rules
        )

    def without(self, verb: str, resource: str) -> Role:
        """This Role with ``verb`` taken off ``resource``."""
        rules = tuple(
            (groups, resources, verbs - {verb} if resource in resources else verbs)
            for groups, resources, verbs in self.rules
        )
        return Role(self.namespace, rules)


@dataclass
class Forward:
    """One port-forward stream the stand-in opened."""

    namespace: str
    pod: str
    port: int


class KubeApiStandIn(Serving):
    """The stand-in server; ``with KubeApiStandIn() as api:`` serves on 127.0.0.1."""

    def __init__(self, certificate: ServerCertificate | None = None) -> None:
        self.certificate = certificate
        self.secrets: dict[tuple[str, str], dict[str, Any]] = {}
        """``(namespace, name)`` to the Secret object as last written."""
        self.pods: dict[tuple[str, str], StandInPod] = {}
        self.namespaces: set[str] = set()
        self.releases: dict[str, str] = {}
        """Namespace to the Helm release its ``pachd`` Deployment belongs to."""
        self.role: Role | None = None
        """What the kubeconfig's user may do; ``None``: everything (a cluster admin)."""
        self.create_checked_on_upgrade = True
        """The ``AuthorizePodWebsocketUpgradeCreatePermission`` gate (1.35's default)."""
        self.accesses: list[Access] = []
        """Every authorization check made, in order."""
        self.hold_next_upgrade = False
        """Set: the next port-forward upgrade gets no answer until :attr:`release_upgrades`."""
        self.release_upgrades = threading.Event()
        self.forwards: list[Forward] = []
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._streams: set[socket.socket] = set()
        self.port = 0

    # --- the cluster ------------------------------------------------------------------------------

    def add_release(
        self, namespace: str, release: str, target: tuple[str, int], pod: str = "pachd-0"
    ) -> StandInPod:
        """A namespace with a release's pachd Deployment and one ready pod forwarding to target."""
        with self._lock:
            self.namespaces.add(namespace)
            self.releases[namespace] = release
            created = StandInPod(pod, namespace, target)
            self.pods[(namespace, pod)] = created
            return created

    def restart_pod(self, namespace: str, old: str, new: str, *, ready: bool = True) -> None:
        """Replace pod ``old`` by ``new`` (same target), as a Deployment does on a restart."""
        with self._lock:
            previous = self.pods.pop((namespace, old))
            self.pods[(namespace, new)] = StandInPod(
                new, namespace, previous.target, ready=ready, grpc_port=previous.grpc_port
            )

    def delete_pod(self, namespace: str, pod: str) -> None:
        """The pod is gone; its namespace and release stay (a Deployment scaled to zero)."""
        with self._lock:
            del self.pods[(namespace, pod)]

    def set_ready(self, namespace: str, pod: str, ready: bool) -> None:
        """Flip a pod's Ready condition."""
        with self._lock:
            self.pods[(namespace, pod)].ready = ready

    def delete_namespace(self, namespace: str) -> None:
        """The namespace, its release and pods are gone."""
        with self._lock:
            self.namespaces.discard(namespace)
            self.releases.pop(namespace, None)
            for key in [key for key in self.pods if key[0] == namespace]:
                del self.pods[key]

    def kubeconfig(
        self, *, token: str = TOKEN, context: str = "stand-in", ca_pem: str | None = None
    ) -> str:
        """A kubeconfig (YAML contents) whose context ``context`` targets this server.

        ``ca_pem`` is the CA that signs :attr:`certificate`, embedded as kubectl embeds it.
        """
        cluster: dict[str, str] = {"server": self.url}
        if ca_pem is not None:
            cluster["certificate-authority-data"] = base64.b64encode(ca_pem.encode()).decode()
        return yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "stand-in", "cluster": cluster}],
                "users": [{"name": USER, "user": {"token": token}}],
                "contexts": [{"name": context, "context": {"cluster": "stand-in", "user": USER}}],
                "current-context": context,
            }
        )

    def exec_kubeconfig(self, runs: Path, *, fails: bool = False) -> str:
        """A kubeconfig whose token comes from ``testkit/exec_plugin.py``, logging to ``runs``."""
        document = yaml.safe_load(self.kubeconfig())
        plugin = Path(__file__).with_name("exec_plugin.py")
        args = [str(plugin), str(runs), TOKEN, *(["fail"] if fails else [])]
        document["users"][0]["user"] = {
            "exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "command": sys.executable,
                "args": args,
                "interactiveMode": "Never",
            }
        }
        return yaml.safe_dump(document)

    @property
    def url(self) -> str:
        """Where the server answers: ``https://`` with a certificate, else ``http://``."""
        scheme = "https" if self.certificate else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> KubeApiStandIn:
        """Serve on a free loopback port; returns self."""
        standin = self

        class Handler(_Handler):
            api = standin

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        if self.certificate is not None:
            server.socket = _tls_context(self.certificate).wrap_socket(
                server.socket, server_side=True
            )
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and cut every open stream."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            _close(stream)

    # --- answers ----------------------------------------------------------------------------------

    def pod_json(self, pod: StandInPod) -> dict[str, Any]:
        """``pod`` as the API serves it: the chart's pachd container ports, a Ready condition."""
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": pod.name, "namespace": pod.namespace, "labels": pod.labels},
            "spec": {
                "containers": [
                    {
                        "name": "pachd",
                        "ports": [
                            {"name": "s3gateway-port", "containerPort": 1600, "protocol": "TCP"},
                            {
                                "name": "api-grpc-port",
                                "containerPort": pod.grpc_port,
                                "protocol": "TCP",
                            },
                        ],
                    }
                ]
            },
            "status": {
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "True" if pod.ready else "False"}],
            },
        }


def documented_role(namespace: str) -> Role:
    """The port-forward's Role as docs/operations.md shows it, bound in ``namespace``."""
    text = (ROOT / "docs" / "operations.md").read_text()
    blocks = re.findall(r"^```yaml\n(.*?)^```", text, re.M | re.S)
    (document,) = [doc for doc in map(yaml.safe_load, blocks) if doc.get("kind") == "Role"]
    return replace(Role.from_document(document), namespace=namespace)


def _tls_context(certificate: ServerCertificate) -> ssl.SSLContext:
    """A server context for ``certificate``; ``ssl`` loads keys from files only."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as directory:
        chain, key = Path(directory, "chain.pem"), Path(directory, "key.pem")
        chain.write_bytes(certificate.certificate_chain)
        key.write_bytes(certificate.private_key)
        context.load_cert_chain(chain, key)
    return context


def status_body(code: int, reason: str, message: str, details: dict[str, Any]) -> dict[str, Any]:
    """A ``metav1.Status`` failure, as the API server writes it."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": details,
        "code": code,
    }


def _group_resource(group: str, resource: str) -> str:
    """``schema.GroupResource.String()``: ``pods``, ``deployments.apps``."""
    return f"{resource}.{group}" if group else resource


def _forbidden(access: Access, name: str) -> dict[str, Any]:
    """The authorization filter's refusal (``responsewriters.ForbiddenStatusError``)."""
    kind = access.resource.partition("/")[0]
    qualified = _group_resource(access.group, kind)
    subject = f'{qualified} "{name}"' if name else qualified
    message = (
        f'{subject} is forbidden: User "{USER}" cannot {access.verb} resource '
        f'"{access.resource}" in API group "{access.group}" in the namespace "{access.namespace}"'
    )
    return status_body(
        403, "Forbidden", message, {"name": name, "group": access.group, "kind": kind}
    )


def _forbidden_upgrade(name: str) -> dict[str, Any]:
    """The WebSocket upgrade's ``create`` check's refusal, with RBAC's empty reason.

    ``apierrors.NewForbidden`` of ``pods``: the message names neither the verb nor the subresource.
    """
    message = f'pods "{name}" is forbidden: '
    return status_body(403, "Forbidden", message, {"name": name, "kind": "pods"})


def _not_found(resource: str, name: str) -> dict[str, Any]:
    return status_body(
        404, "NotFound", f'{resource} "{name}" not found', {"name": name, "kind": resource}
    )


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class _Handler(BaseHTTPRequestHandler):
    api: KubeApiStandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read :attr:`KubeApiStandIn.requests` instead."""

    def _json(self, code: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _authenticated(self) -> bool:
        """The kubeconfig's bearer token, the scheme in any case, as kube-apiserver reads it.

        ``k8s.io/apiserver`` ``pkg/authentication/request/bearertoken/bearertoken.go``: the
        in-cluster loader sends ``bearer``.
        """
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and token == TOKEN

    def _authorized(self, access: Access, name: str = "") -> bool:
        """Record the check; answer 403 as the authorization filter does when RBAC says no."""
        api = self.api
        with api._lock:
            api.accesses.append(access)
        if api.role is None or api.role.allows(access):
            return True
        self._json(403, _forbidden(access, name))
        return False

    def do_GET(self) -> None:
        """Route a GET as the API server would."""
        api = self.api
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        parts = url.path.strip("/").split("/")
        with api._lock:
            api.requests.append(url.path)
        if not self._authenticated():
            self._json(401, status_body(401, "Unauthorized", "Unauthorized", {}))
            return
        if parts[:3] == ["api", "v1", "namespaces"] and len(parts) == 4:
            self._namespace(parts[3])
        elif parts[:3] == ["api", "v1", "namespaces"] and parts[4:5] == ["secrets"]:
            self._get_secret(parts[3], parts[5] if len(parts) == 6 else "")
        elif parts[:3] == ["api", "v1", "namespaces"] and parts[4:] == ["pods"]:
            self._list_pods(parts[3], query.get("labelSelector", [""])[0])
        elif (
            parts[:3] == ["api", "v1", "namespaces"]
            and parts[4] == "pods"
            and parts[6:] == ["portforward"]
        ):
            self._port_forward(parts[3], parts[5], query.get("ports", [""])[0])
        elif parts[:4] == ["apis", "apps", "v1", "namespaces"] and parts[5] == "deployments":
            self._deployment(parts[4], parts[6])
        else:
            self._json(404, status_body(404, "NotFound", "the server could not find it", {}))

    def do_POST(self) -> None:
        """Create a Secret; every other POST is not served."""
        api = self.api
        parts = urlsplit(self.path).path.strip("/").split("/")
        with api._lock:
            api.requests.append(f"POST {urlsplit(self.path).path}")
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        if not self._authenticated():
            self._json(401, status_body(401, "Unauthorized", "Unauthorized", {}))
        elif parts[:3] == ["api", "v1", "namespaces"] and parts[4:] == ["secrets"]:
            self._create_secret(parts[3], body)
        else:
            self._json(404, status_body(404, "NotFound", "the server could not find it", {}))

    def _get_secret(self, namespace: str, name: str) -> None:
        if not self._authorized(Access("get" if name else "list", "", "secrets", namespace), name):
            return
        with self.api._lock:
            secret = self.api.secrets.get((namespace, name))
        if secret is None:
            self._json(404, _not_found("secrets", name))
        else:
            self._json(200, secret)

    def _create_secret(self, namespace: str, body: dict[str, Any]) -> None:
        name = body.get("metadata", {}).get("name", "")
        if not self._authorized(Access("create", "", "secrets", namespace)):
            return
        secret = {**body, "metadata": {**body.get("metadata", {}), "namespace": namespace}}
        with self.api._lock:
            if (namespace, name) in self.api.secrets:
                exists = status_body(
                    409, "AlreadyExists", f'secrets "{name}" already exists',
                    {"name": name, "kind": "secrets"},
                )  # fmt: skip
                self._json(409, exists)
                return
            self.api.secrets[(namespace, name)] = secret
        self._json(201, secret)

    def _namespace(self, namespace: str) -> None:
        # requestinfo.go: the namespace of /api/v1/namespaces/NAME is NAME.
        if not self._authorized(Access("get", "", "namespaces", namespace), namespace):
            return
        if namespace not in self.api.namespaces:
            self._json(404, _not_found("namespaces", namespace))
        else:
            self._json(
                200, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
            )

    def _list_pods(self, namespace: str, selector: str) -> None:
        if not self._authorized(Access("list", "", "pods", namespace)):
            return
        wanted = dict(pair.split("=", 1) for pair in selector.split(",") if pair)
        with self.api._lock:
            pods = [
                self.api.pod_json(pod)
                for (ns, _), pod in sorted(self.api.pods.items())
                if ns == namespace and all(pod.labels.get(k) == v for k, v in wanted.items())
            ]
        self._json(200, {"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": pods})

    def _deployment(self, namespace: str, name: str) -> None:
        if not self._authorized(Access("get", "apps", "deployments", namespace), name):
            return
        release = self.api.releases.get(namespace)
        if name != "pachd" or release is None:
            self._json(404, _not_found("deployments.apps", name))
            return
        self._json(
            200,
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "annotations": {"meta.helm.sh/release-name": release},
                },
                # Required by the client's models, as in every Deployment the API serves.
                "spec": {
                    "selector": {"matchLabels": PACHD_LABELS},
                    "template": {
                        "metadata": {"labels": PACHD_LABELS},
                        "spec": {"containers": [{"name": "pachd"}]},
                    },
                },
            },
        )

    def _port_forward(self, namespace: str, name: str, ports: str) -> None:
        api = self.api
        # The upgrade is a GET, authorized as `get`; Connect then checks `create` (1.35).
        if not self._authorized(Access("get", "", "pods/portforward", namespace), name):
            return
        if api.create_checked_on_upgrade:
            create = Access("create", "", "pods/portforward", namespace)
            with api._lock:
                api.accesses.append(create)
            if api.role is not None and not api.role.allows(create):
                self._json(403, _forbidden_upgrade(name))
                return
        with api._lock:
            pod = api.pods.get((namespace, name))
            held, api.hold_next_upgrade = api.hold_next_upgrade, False
        if held:
            api.release_upgrades.wait(timeout=60)
            return
        if pod is None:
            self._json(404, _not_found("pods", name))
            return
        if self.headers.get("Upgrade", "").lower() != "websocket":
            self._json(400, status_body(400, "BadRequest", "upgrade request required", {}))
            return
        offered = [p.strip() for p in self.headers.get("Sec-WebSocket-Protocol", "").split(",")]
        if CHANNEL_PROTOCOL not in offered:
            self._json(400, status_body(400, "BadRequest", "no supported subprotocol", {}))
            return
        port = int(ports)
        key = self.headers["Sec-WebSocket-Key"]
        # RFC 6455's accept key is defined with SHA-1; it is no security boundary here.
        digest = hashlib.sha1((key + _WEBSOCKET_GUID).encode(), usedforsecurity=False).digest()
        accept = base64.b64encode(digest)
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept.decode())
        self.send_header("Sec-WebSocket-Protocol", CHANNEL_PROTOCOL)
        self.end_headers()
        self.close_connection = True
        with api._lock:
            api.forwards.append(Forward(namespace, name, port))
            api._streams.add(self.connection)
        try:
            self._stream(pod, port)
        finally:
            with api._lock:
                api._streams.discard(self.connection)

    def _send(self, channel: int, data: bytes) -> None:
        frame = ABNF(1, 0, 0, 0, ABNF.OPCODE_BINARY, 0, bytes([channel]) + data)
        self.connection.sendall(frame.format())

    def _stream(self, pod: StandInPod, port: int) -> None:
        port_bytes = struct.pack("<H", port)
        self._send(0, port_bytes)
        self._send(1, port_bytes)
        try:
            upstream = socket.create_connection(pod.target, timeout=5)
        except OSError as error:
            self._send(1, f"error forwarding port {port} to pod {pod.name}, uid : {error}".encode())
            return
        upstream.settimeout(None)
        reader = threading.Thread(target=self._from_pod, args=(upstream,), daemon=True)
        reader.start()
        try:
            while True:
                frame = self._read_frame()
                if frame is None:
                    break
                opcode, payload = frame
                if opcode == ABNF.OPCODE_CLOSE:
                    break
                if opcode == ABNF.OPCODE_BINARY and payload[:1] == b"\x00" and payload[1:]:
                    upstream.sendall(payload[1:])
        except OSError:
            pass
        finally:
            _close(upstream)
            reader.join(timeout=5)

    def _from_pod(self, upstream: socket.socket) -> None:
        try:
            while data := upstream.recv(65536):
                self._send(0, data)
        except OSError:
            pass
        try:
            close = ABNF(1, 0, 0, 0, ABNF.OPCODE_CLOSE, 0, struct.pack("!H", 1000))
            self.connection.sendall(close.format())
        except OSError:
            pass

    def _read_frame(self) -> tuple[int, bytes] | None:
        """One client frame (clients always mask), or None at end of stream."""
        header = self.rfile.read(2)
        if len(header) < 2:
            return None
        opcode = header[0] & 0x0F
        length = header[1] & 0x7F
        if length == 126:
            length = struct.unpack("!H", self.rfile.read(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self.rfile.read(8))[0]
        mask = self.rfile.read(4) if header[1] & 0x80 else b"\x00\x00\x00\x00"
        payload = self.rfile.read(length)
        if len(payload) < length:
            return None
        return opcode, bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
