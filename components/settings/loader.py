"""Reading the stack's configuration: every key the engine passes, validated before any resource.

``load_settings()`` reads every ``namespace:key`` the engine passed to the program and either
returns a :class:`~components.settings.schema.StackSettings` or raises one
:class:`~components.settings.problems.StackConfigError` listing every problem, each by its full
key. Secret keys stay ``pulumi.Output`` secrets inside the model; a secret stored in plaintext in
``Pulumi.<stack>.yaml`` is itself a problem, and no message contains a secret value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from pulumi.runtime import config as runtime_config
from pydantic import ValidationError

from components.settings.examples import covered_by, example_value_problems
from components.settings.fields import SecretText
from components.settings.messages import problems_from
from components.settings.namespaces import (
    IGNORE_NAMESPACES_KEY,
    KUBERNETES,
    NAMESPACES,
    OKTA,
    PROJECT,
    reads_namespace,
    unknown_namespace_problem,
)
from components.settings.problems import ConfigProblem, StackConfigError
from components.settings.rules import cross_setting_problems
from components.settings.schema import StackSettings

# Keys of `pulumi config` that hold secrets. Anything here must be set with `--secret`.
SECRET_KEYS = frozenset(
    {
        f"{PROJECT}:licenseKey",
        f"{PROJECT}:rootToken",
        f"{OKTA}:apiToken",
        f"{OKTA}:accessToken",
        f"{OKTA}:privateKey",
    }
)
# Keys whose value is not a string. The engine passes YAML mappings and lists as JSON and
# scalars as their text; a value that is not JSON was a YAML string, and is validated as one so
# that its message says so ("expected a list, got a string").
STRUCTURED_KEYS = frozenset(
    {
        f"{PROJECT}:okta",
        f"{PROJECT}:pachyderm",
        f"{PROJECT}:auth",
        IGNORE_NAMESPACES_KEY,
        *(
            f"{OKTA}:{key}"
            for key in (
                "scopes",
                "backoff",
                "minWaitSeconds",
                "maxWaitSeconds",
                "maxRetries",
                "maxApiCapacity",
                "requestTimeout",
                "parallelism",
                "logLevel",
            )
        ),
        *(
            f"{KUBERNETES}:{key}"
            for key in ("kubeClientSettings", "deleteUnreachable", "skipUpdateUnreachable")
        ),
    }
)

ConfigSource = Callable[[], Mapping[str, tuple[str, bool]]]


def runtime_config_source() -> dict[str, tuple[str, bool]]:
    """Every ``namespace:key`` the engine passed to this program, with its secret flag.

    ``pulumi.Config`` has no way to list keys, and listing is what lets a typo in the stack file
    fail instead of being ignored, so this reads the runtime's config map (``PULUMI_CONFIG`` first,
    then what the language host or ``set_all_config`` installed).
    """
    merged: dict[str, Any] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return {
        key: (str(value), runtime_config.is_config_secret(key)) for key, value in merged.items()
    }


def _raw_value(full_key: str, text: str) -> Any:
    if full_key in SECRET_KEYS:
        # Validation goes on without ever seeing the text.
        return SecretText(text)
    if full_key in STRUCTURED_KEYS:
        try:
            return json.loads(text)
        except ValueError:  # not JSON, or an integer beyond Python's 4300-digit limit
            return text
    return text


def ignored_namespaces(entries: Mapping[str, tuple[str, bool]]) -> frozenset[str]:
    """The namespaces ``pachyderm-okta:ignoreNamespaces`` lists (its settings model checks it)."""
    text, _ = entries.get(IGNORE_NAMESPACES_KEY, ("", False))
    listed = _raw_value(IGNORE_NAMESPACES_KEY, text)
    if not isinstance(listed, list):
        return frozenset()
    return frozenset(namespace for namespace in listed if isinstance(namespace, str))


def raw_settings(
    entries: Mapping[str, tuple[str, bool]],
) -> tuple[dict[str, Any], list[ConfigProblem]]:
    """The entries the models read, by namespace, and the problems found on the way.

    Problems here: a key in a namespace nothing reads (unless the stack ignores that namespace),
    and a secret key stored in plaintext.
    """
    raw: dict[str, dict[str, Any]] = {namespace: {} for namespace in NAMESPACES}
    problems: list[ConfigProblem] = []
    ignored = ignored_namespaces(entries)
    for full_key, (text, is_secret) in sorted(entries.items()):
        namespace, _, key = full_key.partition(":")
        if not reads_namespace(namespace):
            unread = unknown_namespace_problem(full_key, ignored)
            if unread is not None:
                problems.append(unread)
            continue
        if namespace not in raw or text == "":
            # `pulumi:*` is Pulumi's own. An empty value means "not set": Pulumi.yaml declares
            # optional scalar keys with `default: ""` (a declared key without a default is
            # required by the CLI, pulumi/pulumi#21797).
            continue
        if full_key in SECRET_KEYS and not is_secret:
            problems.append(
                ConfigProblem(
                    full_key,
                    "is stored in plaintext in the stack file; set it with "
                    f"`pulumi config set --secret {full_key}`, which asks for the value "
                    "(and rotate it)",
                )
            )
        raw[namespace][key] = _raw_value(full_key, text)
    return raw, problems


def _all_problems(raw: dict[str, Any], problems: list[ConfigProblem]) -> list[ConfigProblem]:
    try:
        StackSettings.model_validate(raw, context={"dry_run": True})
    except ValidationError as error:
        problems = [*problems, *problems_from(error)]
    problems = [*problems, *cross_setting_problems(raw)]
    examples = example_value_problems(raw)
    kept = [problem for problem in problems if not covered_by(problem, examples)]
    return sorted([*examples, *kept], key=lambda problem: problem.key)


def settings_problems(entries: Mapping[str, tuple[str, bool]]) -> list[ConfigProblem]:
    """Every problem :func:`load_settings` would report for ``entries``, sorted by key."""
    return _all_problems(*raw_settings(entries))


def load_settings(source: ConfigSource = runtime_config_source) -> StackSettings:
    """Read and validate the whole stack configuration, or raise one :class:`StackConfigError`."""
    raw, problems = raw_settings(source())
    problems = _all_problems(raw, problems)
    if problems:
        raise StackConfigError(problems)
    return StackSettings.model_validate(raw)
