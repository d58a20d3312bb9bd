"""How often a first ``up`` through the port-forward runs the kubeconfig's exec credential plugin.

Each run of a real plugin (``aws eks get-token``) costs about a second, so the goal is one run per
dynamic provider process (docs/decisions.md, decision 44). Measured with the stand-in plugin of
``testkit/exec_plugin.py`` against the stand-in API server; shared by ``bench`` and
``tests/test_offline_up_port_forward.py`` so both count the same.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from testkit.fake_pachd import FakePachd
from testkit.kube_api import KubeApiStandIn
from testkit.offline_up import HostPool, OfflineEngine, Stack, plan_program
from testkit.stacks import TEST_SECRETS, stack_config

PUBLIC_URL = "https://pachyderm.does-not-resolve.invalid"
NAMESPACE = "pachyderm"
RELEASE = "pachyderm"


def port_forward_stack(kubeconfig: str, **overrides: Any) -> Stack:
    """The prod-like stack: https publicUrl on a load balancer, kubeconfig contents as a secret."""
    return stack_config(
        "dev",
        secrets={
            "okta:apiToken": TEST_SECRETS["okta:apiToken"],
            "kubernetes:kubeconfig": kubeconfig,
        },
        pachyderm_okta__publicUrl=PUBLIC_URL,
        pachyderm_okta__pachdAccess="portForward",
        pachyderm_okta__pachyderm=json.dumps({"serviceType": "LoadBalancer"}),
        kubernetes__context="stand-in",
        **overrides,
    )


@dataclass(frozen=True)
class PluginRuns:
    """Plugin runs of one first ``up``, and the provider processes it ran in."""

    runs: int
    provider_processes: int


def measure_plugin_runs(runs_file: Path) -> PluginRuns:
    """A first ``up`` of the port-forward stack whose kubeconfig runs the stand-in plugin."""
    with FakePachd() as pachd, KubeApiStandIn() as api, HostPool() as hosts:
        api.add_release(NAMESPACE, RELEASE, ("127.0.0.1", pachd.port))
        stack = port_forward_stack(api.exec_kubeconfig(runs_file))
        OfflineEngine(hosts).up(plan_program(stack))
        processes = hosts.processes
    return PluginRuns(len(runs_file.read_text().splitlines()), processes)
