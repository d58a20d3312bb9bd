"""The whole program with ``pachdAccess: portForward``: a first ``up`` that needs no pachd address.

Guards the production start the issue is about: ``publicUrl`` names a host that does not resolve
(the DNS record comes after the load balancer), the kubeconfig is given as contents (a secret),
and the real dynamic provider host reaches pachd through a stand-in Kubernetes API server's
``pods/portforward``, with exactly the Role docs/operations.md documents. Also: a pod restart or
a switch to ``direct`` costs pachd nothing; the right a Role lacks is named; a release the API
answers as gone lets refresh and destroy finish, and an API that cannot be reached does so only
with pulumi-kubernetes' PULUMI_K8S_DELETE_UNREACHABLE.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components.pachyderm_auth.port_forward_errors import DELETE_UNREACHABLE
from testkit import plugin_runs
from testkit.dynamic_host import HostError
from testkit.fake_pachd import FakePachd
from testkit.kube_api import TOKEN, KubeApiStandIn, documented_role
from testkit.offline_up import HostPool, OfflineEngine, Stack, plan_program

PUBLIC_URL = "https://pachyderm.does-not-resolve.invalid"
NAMESPACE = "pachyderm"
RELEASE = "pachyderm"
ACTIVATION = "::auth-activation"


@pytest.fixture(scope="module")
def cluster() -> Iterator[KubeApiStandIn]:
    """One stand-in API server per module, so hosts configured with its kubeconfig are reused."""
    with KubeApiStandIn() as standin:
        yield standin


@pytest.fixture
def api(cluster: KubeApiStandIn, pachd: FakePachd) -> KubeApiStandIn:
    """The stand-in holding only the release, its ready pod ``pachd-0`` forwarding to pachd."""
    cluster.delete_namespace(NAMESPACE)
    cluster.role = None
    cluster.forwards.clear()
    cluster.add_release(NAMESPACE, RELEASE, ("127.0.0.1", pachd.port))
    return cluster


def port_forward_stack(api: KubeApiStandIn, **overrides: Any) -> Stack:
    """The prod-like stack: https publicUrl on a load balancer, kubeconfig contents as a secret."""
    return plugin_runs.port_forward_stack(api.kubeconfig(), **overrides)


def test_first_up_converges_through_the_kubernetes_api(
    api: KubeApiStandIn, pachd: FakePachd, hosts: HostPool
) -> None:
    # The deployer's kube credentials hold exactly the Role docs/operations.md documents.
    api.role = documented_role(NAMESPACE)
    engine = OfflineEngine(hosts)
    plan = plan_program(port_forward_stack(api))

    first = engine.up(plan)

    assert [step.action for step in first.steps] == ["create"] * len(plan.dynamic)
    assert pachd.state.auth_active
    assert pachd.state.identity_config is not None
    assert pachd.state.identity_config["issuer"] == f"{PUBLIC_URL}/dex"
    assert pachd.state.connectors["okta"]["config"]["redirectURI"] == f"{PUBLIC_URL}/dex/callback"
    assert {forward.pod for forward in api.forwards} == {"pachd-0"}
    activation = next(urn for urn in engine.state if urn.endswith(ACTIVATION))
    assert engine.state[activation]["port_forward"] == {
        "namespace": NAMESPACE,
        "release_name": RELEASE,
        "tls": False,
        "server_name": "pachyderm.does-not-resolve.invalid",
    }
    # The kubeconfig is config, never state.
    assert TOKEN not in json.dumps(engine.state)
    assert "kubeconfig" not in json.dumps(engine.state)


def test_a_pod_restart_or_a_switch_to_direct_costs_pachd_nothing(
    api: KubeApiStandIn, pachd: FakePachd, hosts: HostPool
) -> None:
    engine = OfflineEngine(hosts)
    engine.up(plan_program(port_forward_stack(api)))
    api.restart_pod(NAMESPACE, "pachd-0", "pachd-1")
    pachd.reset_calls()

    after_restart = engine.up(plan_program(port_forward_stack(api)))
    direct = engine.up(
        plan_program(port_forward_stack(api, pachyderm_okta__pachdAddress=pachd.address))
    )
    back = engine.up(plan_program(port_forward_stack(api)))

    assert after_restart.changed == direct.changed == back.changed == []
    assert pachd.calls == []
    live = engine.refresh()
    assert all(state is not None for state in live.values())
    assert api.forwards[-1].pod == "pachd-1"


def test_a_role_without_create_on_pods_portforward_is_named(
    api: KubeApiStandIn, pachd: FakePachd, hosts: HostPool
) -> None:
    # What Kubernetes 1.35 checks on the WebSocket upgrade, beyond `get`.
    api.role = documented_role(NAMESPACE).without("create", "pods/portforward")
    engine = OfflineEngine(hosts)

    with pytest.raises(HostError) as refused:
        engine.up(plan_program(port_forward_stack(api)))

    assert (
        "PortForwardError: the Kubernetes API refused to open pods/portforward (namespace "
        f"'{NAMESPACE}', release '{RELEASE}', pod 'pachd-0'): 403 pods \"pachd-0\" is forbidden:; "
        "the stack's kube credentials need `create` on `pods/portforward` in namespace "
        f"'{NAMESPACE}' (the port-forward's Role: docs/operations.md), or set "
        "pachyderm-okta:pachdAccess to direct"
    ) in refused.value.details
    assert pachd.calls == []


def test_refresh_and_destroy_of_a_gone_release_let_go_of_pachd_objects(
    api: KubeApiStandIn, pachd: FakePachd, hosts: HostPool
) -> None:
    engine = OfflineEngine(hosts)
    plan = plan_program(port_forward_stack(api))
    engine.up(plan)
    api.delete_namespace(NAMESPACE)
    pachd.reset_calls()

    assert set(engine.refresh().values()) == {None}
    assert len(engine.destroy()) == len(plan.dynamic)
    assert pachd.calls == []


def test_an_unreachable_api_stops_destroy_unless_the_user_opts_in(pachd: FakePachd) -> None:
    with HostPool() as hosts, HostPool(env={DELETE_UNREACHABLE: "true"}) as opted_in:
        engine = OfflineEngine(hosts)
        with KubeApiStandIn() as api:
            api.add_release(NAMESPACE, RELEASE, ("127.0.0.1", pachd.port))
            plan = plan_program(port_forward_stack(api))
            engine.up(plan)

        with pytest.raises(HostError) as unreachable:
            engine.refresh()
        assert (
            f"ClusterUnreachableError: the Kubernetes API server at http://127.0.0.1:{api.port} "
            "cannot be reached to list pods (namespace 'pachyderm', release 'pachyderm'): "
        ) in unreachable.value.details
        assert (
            "If the cluster is gone for good, kubernetes:deleteUnreachable: true (or "
            "PULUMI_K8S_DELETE_UNREACHABLE=true) lets refresh and destroy drop pachd's auth objects"
        ) in unreachable.value.details

        engine.hosts = opted_in
        assert len(engine.destroy()) == len(plan.dynamic)
        assert pachd.state.auth_active


def test_kubernetes_delete_unreachable_in_the_stack_lets_destroy_finish(
    pachd: FakePachd, hosts: HostPool
) -> None:
    """The Kubernetes provider's own key counts as its environment variable does."""
    engine = OfflineEngine(hosts)
    with KubeApiStandIn() as api:
        api.add_release(NAMESPACE, RELEASE, ("127.0.0.1", pachd.port))
        plan = plan_program(port_forward_stack(api, kubernetes__deleteUnreachable=True))
        engine.up(plan)

    assert set(engine.refresh().values()) == {None}
    assert len(engine.destroy()) == len(plan.dynamic)
    assert pachd.state.auth_active


def test_a_first_up_runs_the_exec_plugin_once_per_provider_process(tmp_path: Path) -> None:
    """Each ``aws eks get-token`` costs about a second; a first up used to run it 11 times."""
    assert plugin_runs.measure_plugin_runs(tmp_path / "runs") == plugin_runs.PluginRuns(
        runs=1, provider_processes=1
    )


def test_a_failing_exec_plugin_is_shown_in_its_own_words(
    api: KubeApiStandIn, pachd: FakePachd, hosts: HostPool, tmp_path: Path
) -> None:
    stack = plugin_runs.port_forward_stack(api.exec_kubeconfig(tmp_path / "runs", fails=True))

    with pytest.raises(HostError) as failed:
        OfflineEngine(hosts).up(plan_program(stack))

    assert ("PortForwardError: the kubeconfig's credential plugin ") in failed.value.details
    assert (
        "failed (exit 255): An error occurred (ExpiredToken) when calling the GetCallerIdentity "
        "operation"
    ) in failed.value.details
    assert pachd.calls == []
