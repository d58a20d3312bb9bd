"""The providers' tuning keys reach the explicit providers the program builds.

Regression guarded: ``okta:maxApiCapacity`` (or any other tuning key of a provider) in a stack
file was refused, because the program builds its Okta and Kubernetes providers itself and
``Pulumi.yaml`` disables the default providers that would have read it; a team sharing its Okta
rate limit with other tools had no way to lower the program's share. Each test runs the whole
program under the recording mocks and asserts the provider registration's exact inputs.
"""

from __future__ import annotations

from typing import Any

import pytest

from testkit.mocks import is_secret, unwrap
from testkit.offline_up import dev_stack, plan_program
from testkit.stacks import TEST_SECRETS

OKTA_PROVIDER = "pulumi:providers:okta"
KUBERNETES_PROVIDER = "pulumi:providers:kubernetes"
UNUSED_PACHD = "grpc://localhost:30650"
# What the dev stack's providers receive without any tuning key. The engine hands provider
# inputs to the provider as JSON text, so every scalar is a string here.
DEV_OKTA_INPUTS = {
    "orgName": "dev-123456",
    "baseUrl": "okta.com",
    "apiToken": "test-okta-api-token-SSWS-0001",
    "backoff": "true",
    "maxRetries": "5",
}
DEV_KUBERNETES_INPUTS = {"context": "minikube", "suppressDeprecationWarnings": "true"}


def provider_inputs(type_token: str, **stack_keys: Any) -> dict[str, Any]:
    plan = plan_program(dev_stack(UNUSED_PACHD, **stack_keys))
    (provider,) = [r for r in plan.registrations if r.type == type_token]
    return provider.plain_inputs


def test_okta_max_api_capacity_reaches_the_okta_provider() -> None:
    assert provider_inputs(OKTA_PROVIDER, okta__maxApiCapacity=50) == {
        **DEV_OKTA_INPUTS,
        "maxApiCapacity": "50",
    }


# (stack key, as the stack file holds it, provider input, as the provider receives it)
OKTA_TUNING: list[tuple[str, Any, str, str]] = [
    ("backoff", False, "backoff", "false"),
    ("minWaitSeconds", 10, "minWaitSeconds", "10"),
    ("maxWaitSeconds", 120, "maxWaitSeconds", "120"),
    ("requestTimeout", 60, "requestTimeout", "60"),
    ("parallelism", 4, "parallelism", "4"),
    ("httpProxy", "http://proxy.internal:3128", "httpProxy", "http://proxy.internal:3128"),
    ("logLevel", 1, "logLevel", "1"),
]


@pytest.mark.parametrize(
    ("key", "value", "input_name", "received"), OKTA_TUNING, ids=[key for key, *_ in OKTA_TUNING]
)
def test_each_okta_tuning_key_reaches_the_okta_provider(
    key: str, value: Any, input_name: str, received: str
) -> None:
    assert provider_inputs(OKTA_PROVIDER, **{f"okta:{key}": value}) == {
        **DEV_OKTA_INPUTS,
        input_name: received,
    }


def test_kubernetes_tuning_keys_reach_the_kubernetes_provider() -> None:
    inputs = provider_inputs(
        KUBERNETES_PROVIDER,
        **{
            "kubernetes:kubeClientSettings": {"qps": 20, "burst": 40, "timeout": 60},
            "kubernetes:deleteUnreachable": True,
            "kubernetes:skipUpdateUnreachable": True,
        },
    )

    assert inputs == {
        **DEV_KUBERNETES_INPUTS,
        "kubeClientSettings": '{"burst": 40, "qps": 20.0, "timeout": 60}',
        "deleteUnreachable": "true",
        "skipUpdateUnreachable": "true",
    }


KUBECONFIG_CONTENTS = (
    "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user: {token: test-kube-token-0008}"
)


@pytest.mark.parametrize("given_as_secret", [False, True], ids=["plaintext", "secret"])
def test_kubeconfig_contents_reach_the_kubernetes_provider_only_as_a_secret(
    given_as_secret: bool,
) -> None:
    """pulumi-kubernetes' SDK registers ``kubeconfig`` as given: the program wraps it."""
    secrets = {"okta:apiToken": TEST_SECRETS["okta:apiToken"]}
    keys: dict[str, Any] = {}
    if given_as_secret:
        secrets["kubernetes:kubeconfig"] = KUBECONFIG_CONTENTS
    else:
        keys["kubernetes:kubeconfig"] = KUBECONFIG_CONTENTS
    plan = plan_program(dev_stack(UNUSED_PACHD, secrets=secrets, **keys))
    (provider,) = [r for r in plan.registrations if r.type == KUBERNETES_PROVIDER]

    assert is_secret(provider.inputs["kubeconfig"])
    assert unwrap(provider.inputs["kubeconfig"]) == KUBECONFIG_CONTENTS
    assert provider.plain_inputs == {**DEV_KUBERNETES_INPUTS, "kubeconfig": KUBECONFIG_CONTENTS}
