"""Every key of a stack is read or reported: a typo in a namespace or a key never deploys silently.

Guards the day-one mistake of the issue this came from: ``pachyderm-okts:auth`` instead of
``pachyderm-okta:auth`` deployed with no role bindings and no word said. Keys in a namespace
nothing reads, unknown keys in the namespaces the program reads, and provider settings the
program does not pass on are all reported, each by its full key, with the key probably meant;
only ``pulumi:*`` (Pulumi's own) passes through. A stack that imports an ESC environment shared
with other programs lists their namespaces in ``pachyderm-okta:ignoreNamespaces`` (the message for
an unread namespace says so), but a typo of a namespace the program reads is reported even then,
and a namespace it reads cannot be listed. The providers' tuning keys are typed and ranged.
"""

from __future__ import annotations

import inspect
from typing import Any

import pulumi_kubernetes
import pytest

from components.settings import KubernetesConfig, OktaOrgConfig, load_settings
from components.settings.namespaces import REFUSED_PROVIDER_KEYS, provider_keys
from components.settings.provider_config import KubeClientSettings
from components.settings.schema import known_keys
from testkit.stacks import MINIMAL_SOURCE, config_problems, config_source

P = "pachyderm-okta"
AUTH = {"clusterAdmins": ["group:pachyderm-admins"]}
UNREAD = (
    "which this program does not read (it reads pachyderm-okta, okta and kubernetes keys, and "
    "Pulumi reads pulumi keys); remove the key, or, if it comes from an ESC environment shared "
    "with other programs, list its namespace in pachyderm-okta:ignoreNamespaces"
)


# (what the stack file holds, the full key reported, the exact message)
REPORTED: list[tuple[dict[str, Any], str, str]] = [
    (
        {"pachyderm-okts:auth": AUTH},
        "pachyderm-okts:auth",
        'is in the config namespace "pachyderm-okts", which this program does not read; '
        'did you mean "pachyderm-okta" (pachyderm-okta:auth)?',
    ),
    (
        {"Pachyderm-Okta:publicUrl": "http://192.168.49.2:30080"},
        "Pachyderm-Okta:publicUrl",
        'is in the config namespace "Pachyderm-Okta", which this program does not read; '
        'did you mean "pachyderm-okta" (pachyderm-okta:publicUrl)?',
    ),
    (
        {"otka:orgName": "dev-123456"},
        "otka:orgName",
        'is in the config namespace "otka", which this program does not read; '
        'did you mean "okta" (okta:orgName)?',
    ),
    (
        {"kubernets:context": "minikube"},
        "kubernets:context",
        'is in the config namespace "kubernets", which this program does not read; '
        'did you mean "kubernetes" (kubernetes:context)?',
    ),
    (
        {"pulumii:disable-default-providers": ["okta"]},
        "pulumii:disable-default-providers",
        'is in the config namespace "pulumii", which this program does not read; '
        'did you mean "pulumi" (pulumi:disable-default-providers)?',
    ),
    (
        {"aws:region": "us-east-1"},
        "aws:region",
        f'is in the config namespace "aws", {UNREAD} ([aws])',
    ),
    (
        # pulumi-random is the one default provider the program uses; it takes no configuration.
        {"random:seed": "42"},
        "random:seed",
        f'is in the config namespace "random", {UNREAD} ([random])',
    ),
    (
        {"kubernetes:contxt": "minikube"},
        "kubernetes:contxt",
        "is not a setting this program knows; did you mean kubernetes:context?",
    ),
    (
        {"okta:orgname": "dev-123456"},
        "okta:orgname",
        "is not a setting this program knows; did you mean okta:orgName?",
    ),
    (
        {f"{P}:publicURL": "http://192.168.49.2:30080"},
        f"{P}:publicURL",
        f"is not a setting this program knows; did you mean {P}:publicUrl?",
    ),
    (
        {f"{P}:auth": {"clusterAdmin": ["group:a"]}},
        f"{P}:auth.clusterAdmin",
        f"is not a setting this program knows; did you mean {P}:auth.clusterAdmins?",
    ),
    (
        {f"{P}:okta": {"lable": "Pachyderm"}},
        f"{P}:okta.lable",
        f"is not a setting this program knows; did you mean {P}:okta.appLabel?",
    ),
    (
        {f"{P}:pachyderm": {"colour": "blue"}},
        f"{P}:pachyderm.colour",
        "is not a setting this program knows (check the spelling against docs/configuration.md)",
    ),
    (
        {"kubernetes:namespace": "pachyderm"},
        "kubernetes:namespace",
        "is a Kubernetes provider setting this program refuses: it would move the resources "
        "that name no namespace; the program places each in pachyderm-okta:pachyderm.namespace; "
        "remove the key",
    ),
    (
        {"kubernetes:cluster": "other"},
        "kubernetes:cluster",
        "is a Kubernetes provider setting this program refuses: it would pick another "
        "kubeconfig cluster than the one of the context; choose the cluster with "
        "kubernetes:context; remove the key",
    ),
    (
        {"kubernetes:renderYamlToDirectory": "out"},
        "kubernetes:renderYamlToDirectory",
        "is a Kubernetes provider setting this program refuses: it would make the Kubernetes "
        "provider write manifests to a directory instead of deploying them to the cluster; "
        "remove the key",
    ),
    (
        {"kubernetes:enableServerSideApply": "false"},
        "kubernetes:enableServerSideApply",
        "is a Kubernetes provider setting that this program does not pass on: it builds its "
        "Kubernetes provider only from the kubernetes keys listed in docs/configuration.md, and "
        "Pulumi.yaml disables the default provider that would read it; remove the key",
    ),
    (
        {"kubernetes:kubeClientSettings": {"burts": 40}},
        "kubernetes:kubeClientSettings.burts",
        "is not a setting this program knows; did you mean kubernetes:kubeClientSettings.burst?",
    ),
    (
        {"kubernetes:kubeClientSettings": {"qps": "fast"}},
        "kubernetes:kubeClientSettings.qps",
        "expected a number, got a string",
    ),
    ({"okta:maxApiCapacity": 0}, "okta:maxApiCapacity", "must be at least 1"),
    ({"okta:maxApiCapacity": 101}, "okta:maxApiCapacity", "must be at most 100"),
    ({"okta:requestTimeout": 301}, "okta:requestTimeout", "must be at most 300"),
    ({"okta:logLevel": "verbose"}, "okta:logLevel", "expected a whole number, got a string"),
    ({"okta:backoff": "maybe"}, "okta:backoff", "expected true or false, got a string"),
    (
        {f"{P}:ignoreNamespaces": ["okta"]},
        f"{P}:ignoreNamespaces[0]",
        'lists "okta", a namespace this program reads: its keys are validated, never ignored; '
        "remove it from the list",
    ),
    (
        {f"{P}:ignoreNamespaces": "aws"},
        f"{P}:ignoreNamespaces",
        "expected a list, got a string",
    ),
    (
        {f"{P}:ignoreNamespaces": ["aws", "aws"]},
        f"{P}:ignoreNamespaces",
        "lists 'aws' more than once",
    ),
]


@pytest.mark.parametrize(
    ("changes", "key", "message"), REPORTED, ids=[key for _, key, _ in REPORTED]
)
def test_a_key_nothing_reads_is_reported_by_its_full_key(
    changes: dict[str, Any], key: str, message: str
) -> None:
    assert config_problems(config_source(**changes)) == [(key, message)]


def test_pulumi_own_keys_pass_through() -> None:
    settings = load_settings(
        lambda: config_source(
            **{
                "pulumi:disable-default-providers": ["okta", "kubernetes"],
                "pulumi:tags": {"team": "data"},
                "pulumi:autonaming": {"mode": "verbatim"},
                "pulumi:some-future-engine-key": "on",
            }
        )
    )
    assert settings.okta_org.org_name == "dev-123456"


def test_a_key_in_an_unread_namespace_is_reported_even_when_empty_or_secret() -> None:
    secret = "test-unread-secret-0045"
    found = config_problems(
        {**MINIMAL_SOURCE, "aws:secretKey": (secret, True), "gcp:project": ("", False)}
    )
    assert [key for key, _ in found] == ["aws:secretKey", "gcp:project"]
    assert all(secret not in message for _, message in found)


def test_misspelled_namespace_is_reported_with_every_other_problem() -> None:
    found = config_problems(
        config_source(
            **{
                "pachyderm-okts:auth": AUTH,
                "okta:orgName": "dev.123",
                f"{P}:okta": {"groups": "admins"},
            }
        )
    )
    assert [key for key, _ in found] == [
        "okta:orgName",
        f"{P}:okta.groups",
        "pachyderm-okts:auth",
    ]


def test_every_provider_key_the_program_reads_is_one_its_provider_accepts() -> None:
    # Otherwise a key the program reads could never reach the explicit provider it builds.
    assert set(known_keys(OktaOrgConfig)) <= provider_keys("okta")
    assert set(known_keys(KubernetesConfig)) <= provider_keys("kubernetes")
    assert {key.partition(":")[2] for key in REFUSED_PROVIDER_KEYS} <= provider_keys("kubernetes")


def test_the_kube_client_settings_are_those_the_kubernetes_sdk_accepts() -> None:
    accepted = inspect.signature(pulumi_kubernetes.KubeClientSettingsArgs).parameters
    assert set(known_keys(KubeClientSettings)) == set(accepted)


def test_a_namespace_the_stack_ignores_is_not_read() -> None:
    """A stack that imports an ESC environment shared with an AWS program."""
    source = {
        **config_source(**{"aws:region": "us-east-1"}),
        "aws:secretKey": ("test-aws-secret-0046", True),
    }
    assert [key for key, _ in config_problems(source)] == ["aws:region", "aws:secretKey"]

    settings = load_settings(lambda: {**source, f"{P}:ignoreNamespaces": ('["aws"]', False)})

    assert settings.project.ignore_namespaces == ("aws",)


@pytest.mark.parametrize("namespace", ["pachyderm-okts", "Pachyderm-Okta", "otka", "kubernets"])
def test_a_typo_of_a_namespace_the_program_reads_is_reported_even_when_ignored(
    namespace: str,
) -> None:
    meant = {"pachyderm-okts": P, "Pachyderm-Okta": P, "otka": "okta", "kubernets": "kubernetes"}[
        namespace
    ]
    found = config_problems(
        config_source(**{f"{namespace}:auth": AUTH, f"{P}:ignoreNamespaces": ["aws", namespace]})
    )
    assert sorted(found) == sorted(
        [
            (
                f"{namespace}:auth",
                f'is in the config namespace "{namespace}", which this program does not read; '
                f'did you mean "{meant}" ({meant}:auth)? {P}:ignoreNamespaces lists "{namespace}", '
                f'but a namespace that looks like a typo of "{meant}" is never ignored',
            ),
            (
                f"{P}:ignoreNamespaces[1]",
                f'lists "{namespace}", which looks like a typo of "{meant}": its keys are '
                f"reported, never ignored; remove it from the list and rename its keys to "
                f"{meant}:...",
            ),
        ]
    )


@pytest.mark.parametrize("namespace", [P, "okta", "kubernetes", "pulumi"])
def test_a_namespace_the_program_reads_cannot_be_ignored(namespace: str) -> None:
    found = config_problems(config_source(**{f"{P}:ignoreNamespaces": [namespace]}))
    assert found == [
        (
            f"{P}:ignoreNamespaces[0]",
            f'lists "{namespace}", a namespace this program reads: its keys are validated, '
            "never ignored; remove it from the list",
        )
    ]


def test_another_programs_namespace_close_to_ours_can_be_ignored() -> None:
    # Real Pulumi package namespaces that merely share a prefix are not typos.
    settings = load_settings(
        lambda: config_source(
            **{
                "kubernetes-cert-manager:version": "1.0",
                f"{P}:ignoreNamespaces": ["kubernetes-cert-manager"],
            }
        )
    )
    assert settings.project.ignore_namespaces == ("kubernetes-cert-manager",)
