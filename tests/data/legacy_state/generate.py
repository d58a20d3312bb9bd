"""Write ``dev-stack.json``: a Pulumi state as commit b113a31 (before the provider split) left it.

Run it with the OLD tree as working directory, so every import below is the old code's:

    cd <checkout of b113a31> && PYTHONPATH=. venv/bin/python \
        <this repo>/tests/data/legacy_state/generate.py \
        <this repo>/tests/data/legacy_state/dev-stack.json

It runs that code's offline ``pulumi up`` of the dev stack (its mocks for Okta, Kubernetes and
pulumi-random; its dynamic providers through Pulumi's real dynamic-provider host, cwd = the old
tree) against that code's fake pachd, then records, per dynamic resource, what the state file
would hold - id, type, the inputs and the outputs, whose ``__provider`` is the provider pickled by
the old code (dill by reference to ``components.pachyderm_auth.provider.<Name>``) - plus the fake
pachd's end state, so a test can put a new fake pachd in the same state. Every secret in it is a
fake test value of that harness.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.fakes.pachd import FakePachd
from tests.harness.dynamic_host import DynamicProviderHost
from tests.harness.offline_up import OfflineEngine, dev_stack, plan_program
from tests.harness.runtime import drained_event_loop
from tests.stacks import ROOT

PACHD_FIELDS = (
    "auth_active",
    "root_token",
    "tokens",
    "cluster_role_bindings",
    "auth_config",
    "pfs_auth_active",
    "pps_auth_active",
    "identity_config",
    "connectors",
    "oidc_clients",
)


def _plain(value: Any) -> Any:
    if isinstance(value, set):
        return sorted(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def main(target: str) -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"],  # noqa: S607 - git from PATH, as a developer runs it
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with drained_event_loop(), FakePachd() as pachd, DynamicProviderHost(cwd=ROOT) as host:
        host.configure()
        engine = OfflineEngine(host)
        stack = dev_stack(pachd.address)
        plan = plan_program(stack)
        engine.up(plan)
        resources = [
            {
                "urn": registration.urn,
                "type": registration.type,
                "id": engine.ids[registration.urn],
                "inputs": OfflineEngine.inputs(registration),
                "outputs": engine.state[registration.urn],
            }
            for registration in plan.dynamic
        ]
        document = {
            "made_by": f"tests/data/legacy_state/generate.py at commit {commit}",
            "pachd_address": pachd.address,
            "stack": {"config": stack[0], "secret_keys": stack[1]},
            "resources": resources,
            "pachd_state": {name: _plain(getattr(pachd.state, name)) for name in PACHD_FIELDS},
        }
    Path(target).write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
