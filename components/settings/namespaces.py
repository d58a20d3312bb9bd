"""Which config namespaces a stack may use, and what a key in any other namespace is told.

Every key the engine passes to the program is either read by it or reported, so that a typo never
deploys silently (``pachyderm-okts:auth`` would otherwise mean "no role bindings"):

- ``pachyderm-okta`` (the project), ``okta`` and ``kubernetes`` are validated key by key by the
  settings models: an unknown key there is a problem too.
- ``pulumi`` is the engine's own namespace and passes through unread: Pulumi reads
  ``pulumi:disable-default-providers`` (pulumi/pulumi pkg/resource/deploy/default_providers.go,
  ``GetPackageConfig("pulumi")``), ``pulumi:autonaming`` (pkg/resource/autonaming/config.go) and
  ``pulumi:tags`` (stack tags, pulumi/pulumi#12856), all documented under "Configuration" at
  https://www.pulumi.com/docs/iac/concepts/config/; a newer CLI may add keys there.
- Every other namespace is a problem. A provider's default instance is configured from its
  package's namespace (``GetPackageConfig(req.Package())`` in the same default_providers.go), but
  the only default provider this program uses is pulumi-random's, which takes no configuration;
  the Okta and Kubernetes default providers are disabled in Pulumi.yaml.

The Okta and Kubernetes providers are built explicitly from the keys the settings models declare;
a provider setting the program does not pass on (``kubernetes:namespace``, ``okta:backoff``) would
be ignored, so it is reported as well, with a message that says so.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect

from pydantic.alias_generators import to_camel

from components.settings.problems import ConfigProblem

PROJECT = "pachyderm-okta"
OKTA = "okta"
KUBERNETES = "kubernetes"
# Namespaces the settings models read, key by key.
NAMESPACES = (PROJECT, OKTA, KUBERNETES)
# The engine's own namespace (see the module docstring).
PULUMI = "pulumi"
# Each provider namespace the settings read: a readable name, and the provider's SDK package.
PROVIDER_NAMESPACES: dict[str, tuple[str, str]] = {
    OKTA: ("Okta", "pulumi_okta"),
    KUBERNETES: ("Kubernetes", "pulumi_kubernetes"),
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
    return namespace in NAMESPACES or namespace == PULUMI


def unknown_namespace_problem(full_key: str) -> ConfigProblem:
    """The problem for ``full_key``, whose namespace nothing reads, with the likely intended one."""
    namespace, _, key = full_key.partition(":")
    close = difflib.get_close_matches(namespace.lower(), [*NAMESPACES, PULUMI], n=1)
    if close:
        meant = close[0]
        return ConfigProblem(
            full_key,
            f'is in the config namespace "{namespace}", which this program does not read; '
            f'did you mean "{meant}" ({meant}:{key})?',
        )
    return ConfigProblem(
        full_key,
        f'is in the config namespace "{namespace}", which this program does not read (it reads '
        f"{PROJECT}, {OKTA} and {KUBERNETES} keys, and Pulumi reads {PULUMI} keys); remove the key",
    )
