"""The connection the providers read from the stack config is the one the program registers.

``read`` and ``delete`` reach pachd with what the stack config names (the stored outputs can be
stale after a "no change" diff), so the providers' reading of the config must agree, field for
field, with the connection the program itself derives from the same config.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic import Config

from components.pachyderm_auth.pachd import Connection
from components.pachyderm_auth.stack_connection import NAMESPACE, StackConnection
from testkit.offline_up import Stack, plan_program
from testkit.stacks import PROJECT, TEST_SECRETS, dev_auth, stack_config
from testkit.tls import TestCa

ADOPTED = "test-adopted-root-token-stack-connection-0001"
STACKS: dict[str, Stack] = {
    "dev, address from publicUrl": stack_config("dev"),
    "dev, pachdAddress override": stack_config(
        "dev", pachyderm_okta__pachdAddress=" grpcs://pachd.example.com:30651 "
    ),
    "dev, timeouts and adopted token": stack_config(
        "dev",
        secrets={
            "okta:apiToken": TEST_SECRETS["okta:apiToken"],
            f"{PROJECT}:rootToken": ADOPTED,
        },
        pachyderm_okta__auth=dev_auth(callTimeoutSeconds=7, pachdReadyTimeoutSeconds=90),
    ),
    "https publicUrl, default port": stack_config(
        "dev",
        pachyderm_okta__publicUrl="https://pachyderm.example.com",
        pachyderm_okta__pachyderm=json.dumps({"serviceType": "LoadBalancer"}),
    ),
    "dev, direct": stack_config("dev", pachyderm_okta__pachdAccess="direct"),
    "port-forward, release and TLS at pachd": stack_config(
        "dev",
        pachyderm_okta__publicUrl="https://pachyderm.example.com",
        pachyderm_okta__pachyderm=json.dumps(
            {
                "serviceType": "LoadBalancer",
                "namespace": "data",
                "releaseName": "pach",
                "values": {"pachd": {"tls": {"enabled": True, "secretName": "pachd-tls"}}},
            }
        ),
    ),
}


def _registered_connection(stack: Stack) -> dict[str, Any]:
    inputs = plan_program(stack).one("AuthActivation").plain_inputs
    # Fields the program leaves unset (a direct stack has no port_forward) read as None.
    return {name: inputs.get(name) for name in Connection.model_fields}


def test_the_namespace_is_the_project_name() -> None:
    assert NAMESPACE == PROJECT


@pytest.mark.parametrize("name", list(STACKS))
def test_configured_values_are_what_the_program_registers(name: str) -> None:
    config, _ = STACKS[name]
    registered = _registered_connection(STACKS[name])
    configured = StackConnection.from_config(Config(config, PROJECT))

    assert configured.pachd_address == registered["pachd_address"]
    # The CA goes with the address: configured, even when unset (then "no CA").
    assert configured.pachd_ca_cert == registered["pachd_ca_cert"]
    forward = configured.port_forward
    assert (forward.model_dump() if forward else None) == registered["port_forward"]
    assert registered["kubernetes"] is None  # cluster credentials never become an input
    for field in ("root_token", "call_timeout_seconds", "ready_timeout_seconds"):
        value = getattr(configured, field)
        # Unset in the config: the stored value is kept, and the program used its default.
        assert value is None or value == registered[field], field


def test_the_configured_values_replace_only_what_the_config_sets() -> None:
    stored = Connection(
        pachd_address="grpc://old:30650",
        root_token="test-stored-token-0002",
        call_timeout_seconds=30,
        ready_timeout_seconds=600,
    )
    config = {f"{PROJECT}:rootToken": ADOPTED, f"{PROJECT}:auth": '{"callTimeoutSeconds": 5}'}

    current = StackConnection.from_config(Config(config, PROJECT)).over(stored)

    assert current == Connection(
        pachd_address="grpc://old:30650",
        root_token=ADOPTED,
        call_timeout_seconds=5,
        ready_timeout_seconds=600,
    )


def test_a_configured_ca_is_what_the_program_registers(tmp_path: Path) -> None:
    pem = TestCa(tmp_path).pem
    stack = stack_config(
        "dev",
        pachyderm_okta__pachdAddress="grpcs://pachd.example.com:30651",
        pachyderm_okta__pachdCaCert=pem,
    )
    registered = _registered_connection(stack)

    configured = StackConnection.from_config(Config(stack[0], PROJECT))

    assert registered["pachd_ca_cert"] == pem.strip()
    assert configured.pachd_ca_cert == registered["pachd_ca_cert"]


def test_the_configured_ca_goes_with_the_configured_address() -> None:
    stored = Connection(
        pachd_address="grpcs://old:30651",
        root_token="test-stored-token-0003",
        pachd_ca_cert="the stored CA",
    )
    address = {f"{PROJECT}:pachdAddress": "grpcs://new:30651"}

    def configured(config: dict[str, str]) -> Connection:
        return StackConnection.from_config(Config(config, PROJECT)).over(stored)

    assert configured({**address, f"{PROJECT}:pachdCaCert": "the new CA"}).pachd_ca_cert == (
        "the new CA"
    )
    # The key removed from the stack: pachd at that address is trusted by the public CAs only.
    assert configured({**address, f"{PROJECT}:pachdCaCert": ""}).pachd_ca_cert == ""
    # No address in the config (none was passed): nothing is known about the CA either.
    assert configured({f"{PROJECT}:pachdCaCert": "the new CA"}) == stored


@pytest.mark.parametrize(
    "config",
    [
        {},
        {f"{PROJECT}:rootToken": "", f"{PROJECT}:pachdAddress": ""},
        {f"{PROJECT}:publicUrl": "not a url", f"{PROJECT}:auth": "[not json"},
        {f"{PROJECT}:auth": '{"callTimeoutSeconds": true, "pachdReadyTimeoutSeconds": -1}'},
    ],
)
def test_unset_or_unusable_config_leaves_the_stored_connection(config: dict[str, str]) -> None:
    assert StackConnection.from_config(Config(config, PROJECT)) == StackConnection()
