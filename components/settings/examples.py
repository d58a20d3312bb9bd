"""The shipped stack files' example values, which a stack must replace before it can deploy.

``Pulumi.dev.yaml`` and ``Pulumi.prod.yaml`` write every value only the user can know as
``<your-...>`` (``<your-okta-org>``, ``group:<your-okta-admin-group>``, ``s3://<your-bucket>``).
No Okta org, group, host, bucket or kube context is named that, so a value that still holds one
is refused by its key before anything is created, and the other problems of that key are left
out: "replace the example value" is the one thing to do there. Real defaults (``okta.com``, the
``minikube`` context) stay as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from components.settings.fields import SecretText
from components.settings.messages import config_key
from components.settings.problems import ConfigProblem

EXAMPLE_VALUE = re.compile(r"<your-[A-Za-z0-9-]+>")


def _examples_in(
    value: Any, loc: tuple[int | str, ...]
) -> Iterable[tuple[tuple[int | str, ...], str]]:
    """``(loc, example)`` of every example value at or under ``loc``; secrets are never read."""
    if isinstance(value, str):
        found = EXAMPLE_VALUE.search(value)
        if found:
            yield loc, found.group(0)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            found = EXAMPLE_VALUE.search(str(key))
            if found:
                yield (*loc, str(key), "[key]"), found.group(0)
            else:
                yield from _examples_in(item, (*loc, str(key)))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _examples_in(item, (*loc, index))
    # SecretText and scalars of other kinds hold no example value.


def example_value_problems(raw: Mapping[str, Mapping[str, Any]]) -> list[ConfigProblem]:
    """One problem per setting that still holds an example value of the shipped stack files."""
    problems = []
    for namespace, settings in raw.items():
        for key, value in settings.items():
            if isinstance(value, SecretText):
                continue
            for loc, example in _examples_in(value, (namespace, key)):
                problems.append(
                    ConfigProblem(
                        config_key(loc),
                        f"still holds the example value {example} of the shipped stack file: "
                        "replace the example value with yours",
                    )
                )
    return problems


def covered_by(problem: ConfigProblem, example_problems: Iterable[ConfigProblem]) -> bool:
    """Whether ``problem`` is about a setting (or a part of one) that holds an example value."""
    return any(
        problem.key == example.key or problem.key.startswith((f"{example.key}.", f"{example.key}["))
        for example in example_problems
    )
