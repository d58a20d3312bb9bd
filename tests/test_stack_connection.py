"""How pachd is reached: one derivation from the settings, used by the program and the providers.

The program registers ``connection_settings`` of the loaded settings; a provider derives the same
from the stack config the engine hands it, because ``read`` and ``delete`` get only stored outputs,
which can be stale. When that config no longer validates (a destroy runs no program), the stored
connection is used, field by field.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic import Config

from components.pachyderm_auth.kube_target import KubeAccess, PortForwardTarget
from components.pachyderm_auth.pachd import Connection
from components.pachyderm_auth.stack_connection import ConnectionSettings, StackConnection
from testkit.offline_up import Stack, plan_program
from testkit.stacks import PROJECT, TEST_SECRETS, dev_auth, stack_config
from testkit.tls import TestCa

ADOPTED = "test-adopted-root-token-stack-connection-0001"
FORWARD_DEV = PortForwardTarget(
    namespace="pachyderm", release_name="pachyderm", server_name="192.168.49.2"
)
DIRECT_DEV = ConnectionSettings(
    pachd_address="grpc://192.168.49.2:30080",
    pachd_ca_cert="",
    call_timeout_seconds=30,
    ready_timeout_seconds=600,
    port_forward=None,
)
STORED = Connection(
    pachd_address="grpcs://old:30651",
    root_token="test-stored-token-0002",
    call_timeout_seconds=12,
    ready_timeout_seconds=34,
    pachd_ca_cert="the stored CA",
    port_forward=PortForwardTarget(namespace="old", release_name="old"),
)
DIRECT: dict[str, Any] = {"pachyderm_okta__pachdAccess": "direct"}

# (stack, the connection its settings give)
VALID: dict[str, tuple[Stack, ConnectionSettings]] = {
    "dev: port-forward to the release": (
        stack_config("dev"),
        replace(DIRECT_DEV, port_forward=FORWARD_DEV),
    ),
    "direct: the address from publicUrl": (stack_config("dev", **DIRECT), DIRECT_DEV),
    "a pachdAddress override wins over portForward, trimmed": (
        stack_config("dev", pachyderm_okta__pachdAddress=" grpcs://pachd.example.com:30651 "),
        ConnectionSettings(
            pachd_address="grpcs://pachd.example.com:30651",
            pachd_ca_cert="",
            call_timeout_seconds=30,
            ready_timeout_seconds=600,
            port_forward=None,
        ),
    ),
    "timeouts from auth": (
        stack_config(
            "dev",
            pachyderm_okta__auth=dev_auth(callTimeoutSeconds=7, pachdReadyTimeoutSeconds=90),
            **DIRECT,
        ),
        ConnectionSettings(
            pachd_address="grpc://192.168.49.2:30080",
            pachd_ca_cert="",
            call_timeout_seconds=7,
            ready_timeout_seconds=90,
            port_forward=None,
        ),
    ),
    "https publicUrl on its default port": (
        stack_config(
            "dev",
            pachyderm_okta__publicUrl="https://pachyderm.example.com",
            pachyderm_okta__pachyderm=json.dumps({"serviceType": "LoadBalancer"}),
            **DIRECT,
        ),
        ConnectionSettings(
            pachd_address="grpcs://pachyderm.example.com:443",
            pachd_ca_cert="",
            call_timeout_seconds=30,
            ready_timeout_seconds=600,
            port_forward=None,
        ),
    ),
    "port-forward: release, namespace and TLS at pachd": (
        stack_config(
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
        ConnectionSettings(
            pachd_address="grpcs://pachyderm.example.com:443",
            pachd_ca_cert="",
            call_timeout_seconds=30,
            ready_timeout_seconds=600,
            port_forward=PortForwardTarget(
                namespace="data",
                release_name="pach",
                tls=True,
                server_name="pachyderm.example.com",
            ),
        ),
    ),
    "port-forward: the name pachd's certificate holds, other than publicUrl's host": (
        stack_config(
            "dev",
            pachyderm_okta__publicUrl="https://pachyderm.example.com",
            pachyderm_okta__pachdTlsServerName="pachd.data.svc.cluster.local",
            pachyderm_okta__pachyderm=json.dumps(
                {
                    "serviceType": "LoadBalancer",
                    "namespace": "data",
                    "values": {"pachd": {"tls": {"enabled": True, "secretName": "pachd-tls"}}},
                }
            ),
        ),
        ConnectionSettings(
            pachd_address="grpcs://pachyderm.example.com:443",
            pachd_ca_cert="",
            call_timeout_seconds=30,
            ready_timeout_seconds=600,
            port_forward=PortForwardTarget(
                namespace="data",
                release_name="pachyderm",
                tls=True,
                server_name="pachd.data.svc.cluster.local",
            ),
        ),
    ),
}


def _configured(stack: Stack) -> StackConnection:
    return StackConnection.from_config(Config(stack[0], PROJECT))


def _registered(stack: Stack) -> dict[str, Any]:
    return plan_program(stack).one("AuthActivation").plain_inputs


@pytest.mark.parametrize("name", list(VALID))
def test_a_valid_config_gives_the_connection_its_settings_decide(name: str) -> None:
    stack, expected = VALID[name]

    assert _configured(stack).settings == expected


def test_the_program_registers_that_connection() -> None:
    connection = ("pachd_address", "call_timeout_seconds", "ready_timeout_seconds", "pachd_ca_cert")
    forwarded = _registered(stack_config("dev"))
    direct = _registered(stack_config("dev", **DIRECT))

    assert (
        {key: forwarded[key] for key in connection}
        == {key: direct[key] for key in connection}
        == {
            "pachd_address": "grpc://192.168.49.2:30080",
            "call_timeout_seconds": 30,
            "ready_timeout_seconds": 600,
            "pachd_ca_cert": "",
        }
    )
    assert forwarded["port_forward"] == FORWARD_DEV.model_dump()
    # A direct stack stores no port_forward key (its state predates the key).
    assert "port_forward" not in direct
    # Cluster credentials never become an input.
    assert "kubernetes" not in forwarded
    assert "kubernetes" not in direct


def test_a_configured_ca_goes_with_the_address(tmp_path: Path) -> None:
    pem = TestCa(tmp_path).pem
    stack = stack_config(
        "dev",
        pachyderm_okta__pachdAddress="grpcs://pachd.example.com:30651",
        pachyderm_okta__pachdCaCert=pem,
    )

    configured = _configured(stack)

    assert configured.settings is not None
    assert configured.settings.pachd_ca_cert == pem.strip() == _registered(stack)["pachd_ca_cert"]
    assert configured.over(STORED).pachd_ca_cert == pem.strip()
    # The key removed from the stack: pachd at that address is trusted by the public CAs only.
    assert _configured(stack_config("dev", **DIRECT)).over(STORED).pachd_ca_cert == ""


def test_a_valid_config_replaces_every_field_it_decides() -> None:
    current = _configured(stack_config("dev", **DIRECT)).over(STORED)

    assert current == Connection(
        pachd_address="grpc://192.168.49.2:30080",
        # No rootToken in the config: the stored (minted) token is kept.
        root_token=STORED.root_token,
        call_timeout_seconds=30,
        ready_timeout_seconds=600,
        pachd_ca_cert="",
        port_forward=None,
        kubernetes=KubeAccess(context="minikube"),
    )


def test_a_configured_root_token_is_adopted_as_given() -> None:
    stack = stack_config(
        "dev",
        secrets={"okta:apiToken": TEST_SECRETS["okta:apiToken"], f"{PROJECT}:rootToken": ADOPTED},
    )

    configured = _configured(stack)

    assert configured.over(STORED).root_token == ADOPTED
    assert configured.secrets == [ADOPTED]
    assert ADOPTED not in repr(configured)


def test_a_port_forward_config_replaces_a_stored_direct_connection() -> None:
    stored = STORED.model_copy(update={"port_forward": None})

    assert _configured(stack_config("dev")).over(stored).port_forward == FORWARD_DEV


def test_the_cluster_credentials_come_from_the_config_even_when_the_rest_is_unusable() -> None:
    config = {
        f"{PROJECT}:publicUrl": "not a url",
        "kubernetes:kubeconfig": "/home/me/.kube/other",
        "kubernetes:context": "kind-pachyderm",
        # A tuning value the Kubernetes provider would refuse does not hide the cluster.
        "kubernetes:kubeClientSettings": '{"qps": -1}',
    }

    configured = StackConnection.from_config(Config(config, PROJECT))

    expected = KubeAccess(kubeconfig="/home/me/.kube/other", context="kind-pachyderm")
    assert configured.kubernetes == expected
    assert configured.over(STORED) == STORED.model_copy(update={"kubernetes": expected})


@pytest.mark.parametrize(
    "config",
    [
        {},
        # Pulumi.yaml declares optional keys with `default: ""`: empty means unset.
        {f"{PROJECT}:rootToken": "", f"{PROJECT}:pachdAddress": ""},
        {f"{PROJECT}:publicUrl": "not a url", f"{PROJECT}:auth": "[not json"},
        {
            f"{PROJECT}:publicUrl": "http://192.168.49.2:30080",
            f"{PROJECT}:auth": '{"callTimeoutSeconds": true, "pachdReadyTimeoutSeconds": -1}',
        },
    ],
)
def test_a_config_that_does_not_validate_leaves_the_stored_connection(
    config: dict[str, str],
) -> None:
    configured = StackConnection.from_config(Config(config, PROJECT))

    assert configured == StackConnection()
    assert configured.over(STORED) == STORED


def test_a_config_that_does_not_validate_still_names_the_root_token_it_rotated_to() -> None:
    # After a rotation through rootToken the other resources' stored token is revoked: a destroy
    # under a config that no longer validates must still use the configured one.
    config = {
        f"{PROJECT}:publicUrl": "http://192.168.49.2:30080",
        f"{PROJECT}:rootToken": ADOPTED,
        f"{PROJECT}:pachdAccess": "sideways",
    }

    configured = StackConnection.from_config(Config(config, PROJECT))

    assert configured == StackConnection(root_token=ADOPTED)
    assert configured.over(STORED) == STORED.model_copy(update={"root_token": ADOPTED})
