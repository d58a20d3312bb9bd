"""Write a legacy-state fixture from a tree that has ``testkit/`` (commit 9ca8b16 and later).

Like ``generate.py`` (which needs the older ``tests/harness`` layout), run it with the OLD tree as
working directory, so every import below is that tree's code:

    cd <checkout of the old commit> && PYTHONPATH=. venv/bin/python \
        <this repo>/tests/data/legacy_state/generate_testkit.py \
        <this repo>/tests/data/legacy_state/<name>.json

It runs that tree's offline ``pulumi up`` of its dev stack (its mocks, its fake pachd, its dynamic
providers through Pulumi's real dynamic-provider host, cwd = the old tree) and records, per
dynamic resource, what the state file would hold - id, type, inputs, outputs with the provider
pickled by that code - plus the fake pachd's end state. Every secret in it is a fake test value.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from testkit.fake_pachd import FakePachd
from testkit.offline_up import HostPool, OfflineEngine, dev_stack, plan_program
from testkit.runtime import drained_event_loop
from testkit.stacks import ROOT

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
    with drained_event_loop(), FakePachd() as pachd, HostPool() as hosts:
        engine = OfflineEngine(hosts)
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
            "made_by": f"tests/data/legacy_state/generate_testkit.py at commit {commit}",
            "pachd_address": pachd.address,
            "stack": {"config": stack[0], "secret_keys": stack[1]},
            "resources": resources,
            "pachd_state": {name: _plain(getattr(pachd.state, name)) for name in PACHD_FIELDS},
        }
    Path(target).write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
