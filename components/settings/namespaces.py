"""Which config namespaces a stack may use, and what a key in any other namespace is told.

Every key the engine passes to the program is read or reported, so a typo never deploys silently
(docs/decisions.md, decisions 25 and 36): the project's, ``okta`` and ``kubernetes`` keys are
validated by the settings models; ``pulumi`` is the engine's and passes unread; any other
namespace is a problem unless ``pachyderm-okta:ignoreNamespaces`` lists it and it is no typo of
one the program reads. Provider settings the explicit providers would ignore are reported too.
"""

from __future__ import annotations

import functools
import importlib
import inspect

from pydantic.alias_generators import to_camel

from components.project import PROJECT
from components.settings.problems import ConfigProblem

OKTA = "okta"
KUBERNETES = "kubernetes"
# Namespaces the settings models read, key by key.
NAMESPACES = (PROJECT, OKTA, KUBERNETES)
# The engine's own namespace (see the module docstring).
PULUMI = "pulumi"
READ_NAMESPACES = (*NAMESPACES, PULUMI)
IGNORE_NAMESPACES_KEY = f"{PROJECT}:ignoreNamespaces"
# How many typing mistakes away from a namespace the program reads a namespace is a typo of it.
MAX_TYPING_MISTAKES = 2
# Each provider namespace the settings read: a readable name, and the provider's SDK package.
PROVIDER_NAMESPACES: dict[str, tuple[str, str]] = {
    OKTA: ("Okta", "pulumi_okta"),
    KUBERNETES: ("Kubernetes", "pulumi_kubernetes"),
}


# Provider settings that would change what the program targets, and why each is refused.
REFUSED_PROVIDER_KEYS: dict[str, str] = {
    f"{KUBERNETES}:renderYamlToDirectory": (
        "it would make the Kubernetes provider write manifests to a directory instead of "
        "deploying them to the cluster"
    ),
    f"{KUBERNETES}:cluster": (
        "it would pick another kubeconfig cluster than the one of the context; choose the "
        f"cluster with {KUBERNETES}:context"
    ),
    f"{KUBERNETES}:namespace": (
        "it would move the resources that name no namespace; the program places each in "
        f"{PROJECT}:pachyderm.namespace"
    ),
}


@functools.cache
def provider_keys(namespace: str) -> frozenset[str]:
    """Every config key the provider of ``namespace`` accepts, from its pinned SDK.

    A provider SDK's ``ProviderArgs`` has one keyword per provider config key (the snake_case of
    the camelCase key): the generated SDKs build both from the provider schema's ``config``. The
    SDK is imported here, on first use, because importing pulumi_okta takes about two seconds and
    only a stack with an unknown okta/kubernetes key needs it (the dynamic provider host, which
    imports the settings too, does not).
    """
    sdk = importlib.import_module(PROVIDER_NAMESPACES[namespace][1])
    parameters = inspect.signature(sdk.ProviderArgs).parameters
    return frozenset(to_camel(name) for name in parameters if not name.startswith("_"))


def reads_namespace(namespace: str) -> bool:
    """Whether a key in ``namespace`` is read, by the settings or by Pulumi itself."""
    return namespace in READ_NAMESPACES


def _typing_distance(word: str, other: str) -> int:
    """Edits (insert, delete, replace, swap two neighbours) from ``word`` to ``other``."""
    previous2: list[int] = []
    previous = list(range(len(other) + 1))
    for i, char in enumerate(word, 1):
        current = [i]
        for j, other_char in enumerate(other, 1):
            cost = 0 if char == other_char else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char == other[j - 2] and word[i - 2] == other_char:
                best = min(best, previous2[j - 2] + 1)
            current.append(best)
        previous2, previous = previous, current
    return previous[-1]


def near_miss(namespace: str) -> str | None:
    """The namespace the program reads that ``namespace`` is probably a typo of, if any.

    Case is ignored and up to two typing mistakes count, so ``pachyderm-okts``, ``otka`` and
    ``Pachyderm-Okta`` are near misses, while another program's ``aws`` or
    ``kubernetes-cert-manager`` are not.
    """
    if namespace in READ_NAMESPACES:
        return None
    lowered = namespace.lower()
    distance, meant = min((_typing_distance(lowered, read), read) for read in READ_NAMESPACES)
    return meant if distance <= MAX_TYPING_MISTAKES else None


def why_not_ignorable(namespace: str) -> str | None:
    """Why ``namespace`` may not be listed in ``ignoreNamespaces``, or None if it may."""
    if not namespace or ":" in namespace:
        return "must be a config namespace, the part of a key before its ':' (e.g. aws)"
    if namespace in READ_NAMESPACES:
        return (
            f'lists "{namespace}", a namespace this program reads: its keys are validated, '
            "never ignored; remove it from the list"
        )
    meant = near_miss(namespace)
    if meant is not None:
        return (
            f'lists "{namespace}", which looks like a typo of "{meant}": its keys are reported, '
            f"never ignored; remove it from the list and rename its keys to {meant}:..."
        )
    return None


def unknown_namespace_problem(full_key: str, ignored: frozenset[str]) -> ConfigProblem | None:
    """The problem for ``full_key``, whose namespace nothing reads, or None if it is ignored."""
    namespace, _, key = full_key.partition(":")
    meant = near_miss(namespace)
    if meant is not None:
        text = (
            f'is in the config namespace "{namespace}", which this program does not read; '
            f'did you mean "{meant}" ({meant}:{key})?'
        )
        if namespace in ignored:
            text += (
                f' {IGNORE_NAMESPACES_KEY} lists "{namespace}", but a namespace that looks like '
                f'a typo of "{meant}" is never ignored'
            )
        return ConfigProblem(full_key, text)
    if namespace in ignored:
        return None
    return ConfigProblem(
        full_key,
        f'is in the config namespace "{namespace}", which this program does not read (it reads '
        f"{PROJECT}, {OKTA} and {KUBERNETES} keys, and Pulumi reads {PULUMI} keys); remove the "
        "key, or, if it comes from an ESC environment shared with other programs, list its "
        f"namespace in {IGNORE_NAMESPACES_KEY} ([{namespace}])",
    )
