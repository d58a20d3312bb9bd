"""Pydantic's validation errors in the words of a YAML stack file, each named by its full key.

The one place that turns a pydantic error type into a message: a wrong type says what the stack
file should hold and what it holds (``expected a list, got a string``), in YAML's words - list,
mapping, string, number, true or false - never pydantic's (tuple, dict, "valid tuple"). A message
never quotes the value it is about (it may be a secret); it names only the value's kind.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from components.settings.namespaces import (
    PROJECT,
    PROVIDER_NAMESPACES,
    REFUSED_PROVIDER_KEYS,
    provider_keys,
)
from components.settings.problems import PROBLEM_ERROR_TYPE, ConfigProblem
from components.settings.schema import known_keys, model_at

# What a setting must hold, by pydantic error type: the type errors a stack can trigger.
EXPECTED_BY_ERROR_TYPE: Mapping[str, str] = {
    "string_type": "a string",
    "tuple_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_parsing_size": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
}

# Messages of the other error types a stack can trigger, from the error's context.
MESSAGES_BY_ERROR_TYPE: Mapping[str, Callable[[Mapping[str, Any]], str]] = {
    "missing": lambda _: "is required",
    "int_from_float": lambda _: "expected a whole number, got a number with a fraction",
    "literal_error": lambda ctx: f"must be {ctx['expected']}",
    "greater_than": lambda ctx: f"must be more than {_number(ctx['gt'])}",
    "greater_than_equal": lambda ctx: f"must be at least {_number(ctx['ge'])}",
    "less_than_equal": lambda ctx: f"must be at most {_number(ctx['le'])}",
}

# Where every key is documented: generated from the settings models (scripts/config_reference.py).
REFERENCE = "docs/configuration.md"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _number(bound: object) -> str:
    """A bound as a stack file would write it: ``600``, not ``600.0``."""
    if isinstance(bound, float) and bound.is_integer():
        return str(int(bound))
    return str(bound)


def yaml_kind(value: object) -> str:
    """What a YAML stack file calls ``value``: a string, a number, a list, a mapping, ..."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return "a value of another kind"


def config_key(loc: tuple[int | str, ...]) -> str:
    """``("pachyderm-okta", "okta", "groups", 1)`` -> ``pachyderm-okta:okta.groups[1]``."""
    if len(loc) < 2:
        return str(loc[0]) if loc else PROJECT
    key = f"{loc[0]}:{loc[1]}"
    parts = loc[2:]
    for index, part in enumerate(parts):
        if part == "[key]":
            continue
        is_mapping_key = index + 1 < len(parts) and parts[index + 1] == "[key]"
        if isinstance(part, int):
            key += f"[{part}]"
        elif not is_mapping_key and _IDENTIFIER.fullmatch(part):
            key += f".{part}"
        else:
            key += f"[{json.dumps(part)}]"
    return key


def _closest(word: str, candidates: list[str]) -> str | None:
    by_lower = {candidate.lower(): candidate for candidate in candidates}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1)
    return by_lower[close[0]] if close else None


def unknown_key_message(loc: tuple[int | str, ...]) -> str:
    """The message for a key the settings model at ``loc[:-1]`` does not declare."""
    parent, key = loc[:-1], str(loc[-1])
    model = model_at(parent)
    keys = known_keys(model) if model is not None else []
    if len(loc) == 2 and str(loc[0]) in PROVIDER_NAMESPACES:
        namespace = str(loc[0])
        label = PROVIDER_NAMESPACES[namespace][0]
        refused = REFUSED_PROVIDER_KEYS.get(f"{namespace}:{key}")
        if refused is not None:
            return f"is a {label} provider setting this program refuses: {refused}; remove the key"
        if key in provider_keys(namespace):
            article = "an" if label[0] in "AEIOU" else "a"
            return (
                f"is {article} {label} provider setting that this program does not pass on: it "
                f"builds its {label} provider only from the {namespace} keys listed in "
                f"{REFERENCE}, and Pulumi.yaml disables the default provider that would read "
                "it; remove the key"
            )
    meant = _closest(key, keys)
    if meant is not None:
        return f"is not a setting this program knows; did you mean {config_key((*parent, meant))}?"
    return f"is not a setting this program knows (check the spelling against {REFERENCE})"


def message(error: ErrorDetails) -> str:
    """The message for one pydantic error, in the words of a YAML stack file."""
    kind = error["type"]
    if kind == PROBLEM_ERROR_TYPE:
        return error["msg"]
    if kind == "extra_forbidden":
        return unknown_key_message(error["loc"])
    if kind in EXPECTED_BY_ERROR_TYPE:
        given = error.get("input")
        return f"expected {EXPECTED_BY_ERROR_TYPE[kind]}, got {yaml_kind(given)}"
    if kind in MESSAGES_BY_ERROR_TYPE:
        return MESSAGES_BY_ERROR_TYPE[kind](error.get("ctx", {}))
    # Not reachable from a stack file as far as the tests know; pydantic's text, lower-cased.
    text = error["msg"]
    return text[0].lower() + text[1:] if text else kind


def problems_from(error: ValidationError) -> list[ConfigProblem]:
    """Turn pydantic's errors into config problems named by their full config key."""
    return [
        ConfigProblem(key=config_key(detail["loc"]), message=message(detail))
        for detail in error.errors(include_url=False)
    ]
