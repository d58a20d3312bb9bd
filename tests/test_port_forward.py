"""``pachdAccess: portForward``: the real ``kubernetes`` client against a stand-in API server.

Guards the path a first ``up`` takes when pachd's public address does not resolve yet: pachd is
found as a ready pod of the release and reached through ``pods/portforward`` (the stand-in speaks
the real framing and joins the stream to a fake pachd). The stand-in authorizes every request as
kube-apiserver 1.35 does: exactly the Role docs/operations.md documents is enough, and with any of
its rights taken away the refusal names that right (a 1.34 Role with `get` alone on
``pods/portforward`` was told to grant `create`, which it did not know it lacked). A refusal names
the namespace, release, pod and the Kubernetes API's answer; a pod that restarts during the
ready-wait is found again.
"""

from __future__ import annotations

import base64
import itertools
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from components.pachyderm_auth import kube_client
from components.pachyderm_auth.kube_target import KubeAccess, PortForwardTarget
from components.pachyderm_auth.pachd import (
    Connection,
    PachdError,
    PachdUnavailableError,
    pachd_client,
    wait_until_ready,
)
from components.pachyderm_auth.port_forward import forwarded
from components.pachyderm_auth.port_forward_errors import (
    DELETE_UNREACHABLE,
    ClusterUnreachableError,
    PodNotReadyError,
    PortForwardError,
    ReleaseGoneError,
    cluster_gone,
)
from testkit.fake_pachd import FakePachd
from testkit.http_proxy import HttpProxyStandIn
from testkit.kube_api import TOKEN, Access, KubeApiStandIn, documented_role
from testkit.tls import TestCa

RELEASE = "pachyderm"
_namespaces = itertools.count()


@pytest.fixture(scope="module")
def api() -> Iterator[KubeApiStandIn]:
    with KubeApiStandIn() as standin:
        yield standin


@pytest.fixture
def namespace(api: KubeApiStandIn, pachd: FakePachd) -> Iterator[str]:
    """A fresh namespace holding the release, its one ready pod ``pachd-0`` forwarding to pachd."""
    name = f"pf-{next(_namespaces)}"
    api.add_release(name, RELEASE, ("127.0.0.1", pachd.port))
    yield name
    api.role = None


def connection(api: KubeApiStandIn, namespace: str, **access: str) -> Connection:
    return Connection(
        # Never dialled: the forward replaces it.
        pachd_address="grpcs://pachyderm.does-not-resolve.invalid:443",
        root_token="test-root-token-port-forward-0001",
        call_timeout_seconds=5,
        ready_timeout_seconds=30,
        port_forward=PortForwardTarget(namespace=namespace, release_name=RELEASE),
        kubernetes=KubeAccess.model_validate({"kubeconfig": api.kubeconfig()} | access),
    )


def forwarded_pods(api: KubeApiStandIn, namespace: str) -> list[str]:
    return [forward.pod for forward in api.forwards if forward.namespace == namespace]


def test_pachd_answers_through_the_forward_to_the_ready_pod(
    api: KubeApiStandIn, namespace: str, pachd: FakePachd
) -> None:
    api.restart_pod(namespace, "pachd-0", "pachd-1")
    api.add_release(namespace, RELEASE, ("127.0.0.1", 1), pod="pachd-0")
    api.set_ready(namespace, "pachd-0", False)

    assert wait_until_ready(connection(api, namespace)) == (2, 12, 2)

    assert pachd.calls == ["version.GetVersion"]
    assert set(forwarded_pods(api, namespace)) == {"pachd-1"}
    assert library_pumps() == []
    assert {forward.port for forward in api.forwards} == {1650}


def library_pumps() -> list[threading.Thread]:
    """The kubernetes client's per-stream pumping threads still running."""
    return [t for t in threading.enumerate() if t.name.startswith("Kubernetes port forward proxy")]


def test_every_stream_is_closed_when_pachd_goes_away_first(api: KubeApiStandIn) -> None:
    namespace = f"pf-{next(_namespaces)}"
    with FakePachd() as doomed:
        api.add_release(namespace, RELEASE, ("127.0.0.1", doomed.port))
        with pachd_client(connection(api, namespace)) as client:
            assert client.get_version().minor == 12
            doomed.stop()

    assert library_pumps() == []
    assert forwarded_pods(api, namespace) == ["pachd-0"]


def test_a_kubeconfig_file_and_its_context_select_the_cluster(
    api: KubeApiStandIn, namespace: str, tmp_path: Path
) -> None:
    document = yaml.safe_load(api.kubeconfig())
    document["users"].append({"name": "stale", "user": {"token": "expired-token"}})
    document["contexts"].append(
        {"name": "stale", "context": {"cluster": "stand-in", "user": "stale"}}
    )
    document["current-context"] = "stale"
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(document))

    good = connection(api, namespace, kubeconfig=str(path), context="stand-in")
    with pachd_client(good) as client:
        assert client.get_version().minor == 12

    stale = connection(api, namespace, kubeconfig=str(path))
    with pytest.raises(PortForwardError) as refused:
        wait_until_ready(stale)
    assert str(refused.value) == (
        f"the Kubernetes API refused to list pods (namespace {namespace!r}, release "
        f"{RELEASE!r}): 401 Unauthorized"
    )


def test_an_unknown_context_is_named(api: KubeApiStandIn, namespace: str) -> None:
    with pytest.raises(PortForwardError, match="cannot load the kubeconfig for the port-forward"):
        wait_until_ready(connection(api, namespace, context="prod-cluster"))


def test_a_kubeconfig_that_does_not_parse_is_not_quoted(
    api: KubeApiStandIn, namespace: str
) -> None:
    broken = f"users:\n- name: u\n  user: {{token: {TOKEN}\n"

    with pytest.raises(PortForwardError) as refused:
        wait_until_ready(connection(api, namespace, kubeconfig=broken))

    assert str(refused.value) == (
        "cannot load the kubeconfig for the port-forward: kubernetes:kubeconfig is neither a "
        "file nor kubeconfig YAML"
    )


def test_the_documented_role_is_exactly_what_the_port_forward_is_checked_for(
    api: KubeApiStandIn, namespace: str, pachd: FakePachd
) -> None:
    api.role = documented_role(namespace)
    checked_before = len(api.accesses)

    assert wait_until_ready(connection(api, namespace)) == (2, 12, 2)
    api.delete_pod(namespace, "pachd-0")
    with pytest.raises(PachdUnavailableError, match="no ready pachd pod"):
        wait_until_ready(
            connection(api, namespace).model_copy(update={"ready_timeout_seconds": 0}),
            sleep=lambda _s: None,
        )

    granted = {
        Access(verb, group, resource, namespace)
        for groups, resources, verbs in api.role.rules
        for group in groups
        for resource in resources
        for verb in verbs
    }
    assert set(api.accesses[checked_before:]) == granted
    assert pachd.calls == ["version.GetVersion"]


# Each right of the documented Role taken away in turn, with the refusal the API server sends and
# the right the message must name.
REFUSALS = {
    ("list", "pods"): (
        "list pods (namespace {ns!r}, release 'pachyderm'): 403 pods is forbidden: User "
        '"ci-deployer" cannot list resource "pods" in API group "" in the namespace "{ns}"',
        "`list` on `pods`",
    ),
    ("get", "pods/portforward"): (
        "open pods/portforward (namespace {ns!r}, release 'pachyderm', pod 'pachd-0'): 403 "
        'pods "pachd-0" is forbidden: User "ci-deployer" cannot get resource "pods/portforward" '
        'in API group "" in the namespace "{ns}"',
        "`get` on `pods/portforward`",
    ),
    ("create", "pods/portforward"): (
        "open pods/portforward (namespace {ns!r}, release 'pachyderm', pod 'pachd-0'): 403 "
        'pods "pachd-0" is forbidden:',
        "`create` on `pods/portforward`",
    ),
    ("get", "namespaces"): (
        "get namespaces (namespace {ns!r}, release 'pachyderm'): 403 namespaces \"{ns}\" is "
        'forbidden: User "ci-deployer" cannot get resource "namespaces" in API group "" in the '
        'namespace "{ns}"',
        "`get` on `namespaces`",
    ),
    ("get", "deployments"): (
        "get deployments (namespace {ns!r}, release 'pachyderm'): 403 deployments.apps \"pachd\" "
        'is forbidden: User "ci-deployer" cannot get resource "deployments" in API group "apps" in '
        'the namespace "{ns}"',
        "`get` on `deployments` in API group `apps`",
    ),
}


@pytest.mark.parametrize(("verb", "resource"), list(REFUSALS))
def test_each_right_the_role_lacks_is_named(
    api: KubeApiStandIn, namespace: str, pachd: FakePachd, verb: str, resource: str
) -> None:
    api.role = documented_role(namespace).without(verb, resource)
    if resource in ("namespaces", "deployments"):
        # Asked only when no pachd pod is listed: is the release gone, or not up yet?
        api.delete_pod(namespace, "pachd-0")

    with pytest.raises(PortForwardError) as refused:
        wait_until_ready(connection(api, namespace))

    answer, right = REFUSALS[(verb, resource)]
    assert str(refused.value) == (
        f"the Kubernetes API refused to {answer.format(ns=namespace)}; the stack's kube "
        f"credentials need {right} in namespace {namespace!r} (the port-forward's Role: "
        "docs/operations.md), or set pachyderm-okta:pachdAccess to direct"
    )
    assert TOKEN not in str(refused.value)
    assert pachd.calls == []


def test_before_kubernetes_1_35_get_alone_opens_the_stream(
    api: KubeApiStandIn, namespace: str
) -> None:
    api.role = documented_role(namespace).without("create", "pods/portforward")
    api.create_checked_on_upgrade = False
    try:
        assert wait_until_ready(connection(api, namespace)) == (2, 12, 2)
    finally:
        api.create_checked_on_upgrade = True


def test_a_pod_restarting_during_the_ready_wait_is_found_again(
    api: KubeApiStandIn, namespace: str, pachd: FakePachd
) -> None:
    api.restart_pod(namespace, "pachd-0", "pachd-1", ready=False)
    pauses: list[float] = []

    def becomes_ready(seconds: float) -> None:
        pauses.append(seconds)
        api.set_ready(namespace, "pachd-1", True)

    assert wait_until_ready(connection(api, namespace), sleep=becomes_ready) == (2, 12, 2)
    assert pauses == [0.1]
    assert forwarded_pods(api, namespace) == ["pachd-1"]


def test_the_ready_deadline_names_the_release_and_its_pods(
    api: KubeApiStandIn, namespace: str
) -> None:
    api.set_ready(namespace, "pachd-0", False)
    ticks = iter([0.0, 31.0])

    with pytest.raises(PachdUnavailableError) as unready:
        wait_until_ready(
            connection(api, namespace), sleep=lambda _s: None, clock=lambda: next(ticks)
        )

    assert str(unready.value) == (
        f"pachd at the Kubernetes API port-forward to release {RELEASE!r} in namespace "
        f"{namespace!r} did not become ready within 30 s (1 attempts); last status: "
        f"PodNotReadyError: no ready pachd pod (namespace {namespace!r}, release {RELEASE!r}; "
        "pachd pods: pachd-0). Check that the Helm release is up and its pachd pod becomes ready."
    )


def test_a_namespace_the_api_does_not_know_is_a_gone_release(
    api: KubeApiStandIn, namespace: str
) -> None:
    api.delete_namespace(namespace)

    with pytest.raises(ReleaseGoneError) as gone:
        wait_until_ready(connection(api, namespace))

    assert str(gone.value) == (
        f"the Kubernetes API refused to get namespaces (namespace {namespace!r}, release "
        f'{RELEASE!r}): 404 namespaces "{namespace}" not found'
    )


def test_an_api_server_that_cannot_be_reached_is_named(api: KubeApiStandIn, namespace: str) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    kubeconfig = api.kubeconfig().replace(f"127.0.0.1:{api.port}", f"127.0.0.1:{port}")
    unreachable = connection(api, namespace, kubeconfig=kubeconfig).model_copy(
        update={"ready_timeout_seconds": 0.001}
    )

    with pytest.raises(PachdUnavailableError) as error:
        wait_until_ready(unreachable, sleep=lambda _s: None)

    assert f"ClusterUnreachableError: the Kubernetes API server at http://127.0.0.1:{port} " in (
        str(error.value)
    )


def test_a_direct_stack_that_cannot_reach_pachd_is_pointed_to_port_forward() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        address = f"grpc://127.0.0.1:{closed.getsockname()[1]}"
    direct = Connection(pachd_address=address, root_token="t", ready_timeout_seconds=0.001)

    with pytest.raises(PachdUnavailableError) as unready:
        wait_until_ready(direct, sleep=lambda _s: None)

    assert str(unready.value).startswith(f"pachd at {address} did not become ready")
    assert str(unready.value).endswith(
        "(pachyderm-okta:pachdAddress overrides it; pachyderm-okta:pachdAccess: portForward "
        "reaches pachd through the Kubernetes API instead, needing no DNS record, load balancer "
        "or exposed port)."
    )


@pytest.mark.parametrize(
    ("server_name", "answers"),
    [("pachyderm.example.com", True), ("other.example.com", False), ("", False)],
)
def test_tls_through_the_forward_checks_the_public_name(
    api: KubeApiStandIn, tmp_path: Path, server_name: str, answers: bool
) -> None:
    """pachd serving TLS is checked for the public host with the stack's CA via 127.0.0.1."""
    ca = TestCa(tmp_path)
    namespace = f"pf-{next(_namespaces)}"
    with FakePachd(tls=ca.server(dns_names=("pachyderm.example.com",), ips=())) as tls_pachd:
        api.add_release(namespace, RELEASE, ("127.0.0.1", tls_pachd.port))
        target = PortForwardTarget(
            namespace=namespace, release_name=RELEASE, tls=True, server_name=server_name
        )
        secure = connection(api, namespace).model_copy(
            update={"port_forward": target, "ready_timeout_seconds": 0.001, "pachd_ca_cert": ca.pem}
        )
        if answers:
            assert wait_until_ready(secure) == (2, 12, 2)
        else:
            with pytest.raises(PachdError) as mismatch:
                wait_until_ready(secure, sleep=lambda _s: None)
            # Not pachdAddress, which would silently switch to direct.
            assert str(mismatch.value).endswith(
                " - pachd's TLS certificate does not name the host it is checked against through "
                "the port-forward (publicUrl's): set pachyderm-okta:pachdTlsServerName to a name "
                "the certificate holds"
            )
        assert tls_pachd.calls == (["version.GetVersion"] if answers else [])


def test_files_the_client_writes_for_embedded_keys_are_removed_when_the_operation_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pachd: FakePachd
) -> None:
    ca = TestCa(tmp_path / "ca")
    client = ca.server(dns_names=("ci-deployer",), ips=())
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with KubeApiStandIn(certificate=ca.server()) as https_api:
        https_api.add_release("keys", RELEASE, ("127.0.0.1", pachd.port))
        document = yaml.safe_load(https_api.kubeconfig(ca_pem=ca.pem))
        user = document["users"][0]["user"]
        user["client-certificate-data"] = base64.b64encode(client.certificate_chain).decode()
        user["client-key-data"] = base64.b64encode(client.private_key).decode()
        secure = connection(https_api, "keys", kubeconfig=yaml.safe_dump(document))

        for _ in range(2):  # the second operation must not be handed the first one's removed files
            with pachd_client(secure) as pachd_api:
                assert pachd_api.get_version().minor == 12
                written = {path.read_bytes() for path in scratch.rglob("*") if path.is_file()}
                assert written == {client.certificate_chain, client.private_key, ca.pem.encode()}
            assert list(scratch.iterdir()) == []


@pytest.mark.parametrize(
    ("key", "variable", "gone"),
    [(None, None, False), (None, "true", True), (True, None, True), (False, "true", False)],
)
def test_an_unreachable_cluster_counts_as_gone_as_pulumi_kubernetes_decides(
    monkeypatch: pytest.MonkeyPatch, key: bool | None, variable: str | None, gone: bool
) -> None:
    """``kubernetes:deleteUnreachable`` wins; unset, PULUMI_K8S_DELETE_UNREACHABLE decides."""
    if variable is None:
        monkeypatch.delenv(DELETE_UNREACHABLE, raising=False)
    else:
        monkeypatch.setenv(DELETE_UNREACHABLE, variable)

    assert cluster_gone(ClusterUnreachableError("unreachable"), key) is gone
    assert cluster_gone(PodNotReadyError("no ready pod"), key) is False
    assert cluster_gone(ReleaseGoneError("namespace not found"), key) is True


def test_a_handshake_past_its_deadline_leaves_the_next_stream_working(
    api: KubeApiStandIn, namespace: str
) -> None:
    """The library's stream helper swaps its client's call_api until the handshake returns."""
    access = KubeAccess(kubeconfig=api.kubeconfig())
    target = PortForwardTarget(namespace=namespace, release_name=RELEASE)
    with forwarded(target, access, timeout=1) as route:
        port = int(route.address.rsplit(":", 1)[1])
        first = socket.create_connection(("127.0.0.1", port))  # takes the stream opened first
        api.hold_next_upgrade = True
        stalled = socket.create_connection(("127.0.0.1", port))
        stalled.settimeout(30)
        assert stalled.recv(1) == b""  # dropped once the handshake's deadline passed
        third = socket.create_connection(("127.0.0.1", port))
        third.settimeout(30)
        deadline = time.monotonic() + 30
        while len(forwarded_pods(api, namespace)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert forwarded_pods(api, namespace) == ["pachd-0", "pachd-0"]
        for connection_ in (first, stalled, third):
            connection_.close()
    api.release_upgrades.set()


def test_the_kubelets_own_error_is_shown_when_pachds_port_refuses(
    api: KubeApiStandIn, namespace: str
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        refused = closed.getsockname()[1]
    api.delete_pod(namespace, "pachd-0")
    api.add_release(namespace, RELEASE, ("127.0.0.1", refused), pod="pachd-0")
    ticks = iter([0.0, 31.0])

    with pytest.raises(PachdUnavailableError) as unready:
        wait_until_ready(
            connection(api, namespace), sleep=lambda _s: None, clock=lambda: next(ticks)
        )

    message = str(unready.value)
    assert (
        "last status: PodPortError: pachd's gRPC port did not answer through the port-forward ("
        in (message)
    )
    assert (
        "); the kubelet reported: error forwarding port 1650 to pod pachd-0, uid : [Errno 111] "
        "Connection refused. Check that the Helm release is up"
    ) in message


def test_an_exec_plugin_runs_once_per_process_and_its_failure_is_shown(
    api: KubeApiStandIn, namespace: str, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    plugin = connection(api, namespace, kubeconfig=api.exec_kubeconfig(runs))
    for _ in range(3):
        assert wait_until_ready(plugin) == (2, 12, 2)
    assert runs.read_text().splitlines() == ["run"]

    failing_runs = tmp_path / "failing-runs"
    failing = connection(api, namespace, kubeconfig=api.exec_kubeconfig(failing_runs, fails=True))
    with pytest.raises(PortForwardError) as refused:
        wait_until_ready(failing)
    assert str(refused.value) == (
        f"the kubeconfig's credential plugin {sys.executable!r} failed (exit 255): An error "
        "occurred (ExpiredToken) when calling the GetCallerIdentity operation"
    )


def test_without_a_kubeconfig_a_pod_uses_its_service_account_over_tls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pachd: FakePachd
) -> None:
    """As pulumi-kubernetes does through client-go: the Pulumi Kubernetes Operator, CI in a pod."""
    ca = TestCa(tmp_path / "ca")
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text(TOKEN)
    (account / "ca.crt").write_text(ca.pem)
    monkeypatch.setattr(kube_client, "SERVICE_ACCOUNT", account)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    with KubeApiStandIn(certificate=ca.server()) as https_api:
        https_api.add_release("in-cluster", RELEASE, ("127.0.0.1", pachd.port))
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(https_api.port))
        in_pod = connection(https_api, "in-cluster").model_copy(update={"kubernetes": KubeAccess()})

        assert wait_until_ready(in_pod) == (2, 12, 2)
        assert forwarded_pods(https_api, "in-cluster") == ["pachd-0"]

        monkeypatch.delenv("KUBERNETES_SERVICE_HOST")
        with pytest.raises(PortForwardError) as outside:
            wait_until_ready(in_pod)
    assert str(outside.value) == (
        "cannot load the kubeconfig for the port-forward: Invalid kube-config file. No "
        "configuration found."
    )


def test_an_http_proxy_with_credentials_in_its_url_carries_requests_and_streams(
    api: KubeApiStandIn, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neither the client's requests nor its streams send the URL's credentials by themselves."""
    with HttpProxyStandIn("deployer", "proxy-pass-0009") as proxy:
        monkeypatch.setenv("HTTP_PROXY", f"http://deployer:proxy-pass-0009@127.0.0.1:{proxy.port}")
        monkeypatch.setenv("NO_PROXY", "")
        assert wait_until_ready(connection(api, namespace)) == (2, 12, 2)

    target = f"127.0.0.1:{api.port}"
    assert (f"CONNECT {target}", True) in proxy.seen
    assert (f"GET http://{target}/api/v1/namespaces/{namespace}/pods", True) in [
        (line.split("?")[0], allowed) for line, allowed in proxy.seen
    ]
    assert all(allowed for _line, allowed in proxy.seen)


@pytest.mark.parametrize("scheme", ["socks5", "https"])
def test_a_proxy_the_streams_would_not_use_is_refused(
    api: KubeApiStandIn, namespace: str, monkeypatch: pytest.MonkeyPatch, scheme: str
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"{scheme}://127.0.0.1:1080")
    monkeypatch.setenv("NO_PROXY", "")

    with pytest.raises(PortForwardError) as refused:
        wait_until_ready(connection(api, namespace))

    assert str(refused.value) == (
        "the proxy for the Kubernetes API (the kubeconfig's proxy-url, or "
        f"HTTPS_PROXY/HTTP_PROXY/ALL_PROXY) is a {scheme}:// proxy, which the kubernetes client's "
        "port-forward streams do not use; use an http:// proxy, or list the API server's host in "
        "NO_PROXY if it can be reached directly"
    )


def test_no_proxy_takes_the_api_server_past_the_proxy(
    api: KubeApiStandIn, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "socks5://127.0.0.1:1080")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")

    assert wait_until_ready(connection(api, namespace)) == (2, 12, 2)
