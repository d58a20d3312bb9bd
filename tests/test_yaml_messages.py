"""Wrong types in a stack file are told in the stack file's words, never in pydantic's.

Guards the message a user reads when a value has the wrong shape: what the key must hold and what
it holds, as YAML calls them (list, mapping, string, number, true or false), for every pydantic
error type a stack can trigger - and that the table in ``components.settings.messages`` covers
each of them, so no ``input should be a valid tuple`` reaches a user.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from components.settings import (
    AuthSettings,
    OktaAppSettings,
    PachydermSettings,
    StackConfigError,
    StackSettings,
    load_settings,
)
from components.settings.loader import raw_settings
from components.settings.messages import (
    EXPECTED_BY_ERROR_TYPE,
    MESSAGES_BY_ERROR_TYPE,
    config_key,
    yaml_kind,
)
from components.settings.schema import known_keys
from testkit.stacks import (
    PYDANTIC_WORDS,
    config_problems,
    config_source,
)

P = "pachyderm-okta"


def pydantic_errors(source: dict[str, tuple[str, bool]]) -> set[tuple[str, str]]:
    """``(full key, pydantic error type)`` of every model error ``source`` triggers."""
    raw, _ = raw_settings(source)
    try:
        StackSettings.model_validate(raw, context={"dry_run": True})
    except ValidationError as error:
        return {(config_key(detail["loc"]), detail["type"]) for detail in error.errors()}
    return set()


BIG_NUMBER = "1" * 5000  # beyond Python's int-from-string limit: pydantic's int_parsing_size

# (pydantic error type, changes to MINIMAL_SOURCE, the full key, the exact message)
CASES: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "string_type",
        {f"{P}:okta": {"appLabel": ["Pachyderm"]}},
        f"{P}:okta.appLabel",
        "expected a string, got a list",
    ),
    (
        "string_type",
        {f"{P}:pachyderm": {"chartVersion": 2.12}},
        f"{P}:pachyderm.chartVersion",
        "expected a string, got a number",
    ),
    (
        "tuple_type",
        {f"{P}:okta": {"groups": "pachyderm-admins"}},
        f"{P}:okta.groups",
        "expected a list, got a string",
    ),
    (
        "tuple_type",
        {"okta:scopes": "okta.apps.manage"},
        "okta:scopes",
        "expected a list, got a string",
    ),
    (
        "tuple_type",
        {f"{P}:auth": {"roleBindings": {"group:eng": "repoReader"}}},
        f'{P}:auth.roleBindings["group:eng"]',
        "expected a list, got a string",
    ),
    (
        "tuple_type",
        {f"{P}:auth": {"clusterAdmins": {"group:eng": True}}},
        f"{P}:auth.clusterAdmins",
        "expected a list, got a mapping",
    ),
    (
        "dict_type",
        {f"{P}:auth": {"roleBindings": ["group:eng"]}},
        f"{P}:auth.roleBindings",
        "expected a mapping, got a list",
    ),
    (
        "dict_type",
        {f"{P}:pachyderm": {"values": "etcd.storageSize=1Gi"}},
        f"{P}:pachyderm.values",
        "expected a mapping, got a string",
    ),
    ("model_type", {f"{P}:okta": ["groups"]}, f"{P}:okta", "expected a mapping, got a list"),
    ("model_type", {f"{P}:auth": "groups: [a"}, f"{P}:auth", "expected a mapping, got a string"),
    ("model_type", {f"{P}:pachyderm": 5}, f"{P}:pachyderm", "expected a mapping, got a number"),
    ("model_type", {f"{P}:auth": True}, f"{P}:auth", "expected a mapping, got true/false"),
    (
        "bool_type",
        {f"{P}:okta": {"createGroups": None}},
        f"{P}:okta.createGroups",
        "expected true or false, got an empty value",
    ),
    (
        "bool_type",
        {f"{P}:auth": {"deactivateOnDelete": ["yes"]}},
        f"{P}:auth.deactivateOnDelete",
        "expected true or false, got a list",
    ),
    (
        "bool_parsing",
        {f"{P}:okta": {"createGroups": "maybe"}},
        f"{P}:okta.createGroups",
        "expected true or false, got a string",
    ),
    (
        "bool_parsing",
        {f"{P}:auth": {"skipEmailVerified": 2}},
        f"{P}:auth.skipEmailVerified",
        "expected true or false, got a number",
    ),
    (
        "int_type",
        {f"{P}:pachyderm": {"helmTimeoutSeconds": [900]}},
        f"{P}:pachyderm.helmTimeoutSeconds",
        "expected a whole number, got a list",
    ),
    (
        "int_parsing",
        {"okta:maxRetries": "a few"},
        "okta:maxRetries",
        "expected a whole number, got a string",
    ),
    (
        "int_parsing_size",
        {"okta:maxRetries": BIG_NUMBER},
        "okta:maxRetries",
        "expected a whole number, got a string",
    ),
    (
        "int_from_float",
        {f"{P}:pachyderm": {"helmTimeoutSeconds": 120.5}},
        f"{P}:pachyderm.helmTimeoutSeconds",
        "expected a whole number, got a number with a fraction",
    ),
    (
        "float_type",
        {f"{P}:auth": {"callTimeoutSeconds": None}},
        f"{P}:auth.callTimeoutSeconds",
        "expected a number, got an empty value",
    ),
    (
        "float_parsing",
        {f"{P}:auth": {"pachdReadyTimeoutSeconds": "ten minutes"}},
        f"{P}:auth.pachdReadyTimeoutSeconds",
        "expected a number, got a string",
    ),
    (
        "literal_error",
        {f"{P}:okta": {"refreshTokenRotation": "SOMETIMES"}},
        f"{P}:okta.refreshTokenRotation",
        "must be 'STATIC' or 'ROTATE'",
    ),
    (
        "literal_error",
        {f"{P}:pachyderm": {"serviceType": 80}},
        f"{P}:pachyderm.serviceType",
        "must be 'NodePort', 'LoadBalancer' or 'ClusterIP'",
    ),
    (
        "greater_than",
        {f"{P}:auth": {"callTimeoutSeconds": 0}},
        f"{P}:auth.callTimeoutSeconds",
        "must be more than 0",
    ),
    (
        "greater_than_equal",
        {f"{P}:pachyderm": {"helmTimeoutSeconds": 5}},
        f"{P}:pachyderm.helmTimeoutSeconds",
        "must be at least 60",
    ),
    (
        "less_than_equal",
        {f"{P}:auth": {"callTimeoutSeconds": 601}},
        f"{P}:auth.callTimeoutSeconds",
        "must be at most 600",
    ),
    ("less_than_equal", {"okta:maxRetries": "1000"}, "okta:maxRetries", "must be at most 100"),
    ("missing", {"okta:orgName": None}, "okta:orgName", "is required"),
]


@pytest.mark.parametrize(
    ("error_type", "changes", "key", "message"),
    CASES,
    ids=[f"{error_type}-{key}" for error_type, _, key, _ in CASES],
)
def test_each_pydantic_error_type_reads_as_yaml(
    error_type: str, changes: dict[str, Any], key: str, message: str
) -> None:
    source = config_source(**changes)
    assert (key, error_type) in pydantic_errors(source)
    assert config_problems(source) == [(key, message)]


def test_every_error_type_with_a_message_is_covered() -> None:
    mapped = {*EXPECTED_BY_ERROR_TYPE, *MESSAGES_BY_ERROR_TYPE}
    assert mapped == {error_type for error_type, *_ in CASES}


# Every kind of value a YAML stack file can hold, alone, in a list and in a mapping.
SCALARS: list[Any] = ["text", 7, 2.5, True, None, BIG_NUMBER]
SHAPES: list[Any] = [
    *SCALARS,
    *([kind] for kind in SCALARS),
    *({"group:x": kind} for kind in SCALARS),
    [],
    {},
]
OBJECT_KEYS: list[tuple[str, type[BaseModel]]] = [
    (f"{P}:okta", OktaAppSettings),
    (f"{P}:pachyderm", PachydermSettings),
    (f"{P}:auth", AuthSettings),
]
SETTINGS = [(key, field) for key, model in OBJECT_KEYS for field in known_keys(model)]
# Stack keys whose whole value is not a string (the engine passes them as JSON).
STRUCTURED = [*(key for key, _ in OBJECT_KEYS), "okta:scopes", "okta:maxRetries"]


def _assert_only_mapped_error_types(source: dict[str, tuple[str, bool]]) -> None:
    mapped = {*EXPECTED_BY_ERROR_TYPE, *MESSAGES_BY_ERROR_TYPE, "stack_config", "extra_forbidden"}
    assert {error_type for _, error_type in pydantic_errors(source)} <= mapped
    with pytest.raises(StackConfigError) as raised:
        load_settings(lambda: source)
    text = str(raised.value).lower()
    assert [word for word in PYDANTIC_WORDS if word in text] == []


@pytest.mark.parametrize(("key", "field"), SETTINGS, ids=[f"{k}.{f}" for k, f in SETTINGS])
def test_any_shape_in_any_setting_gets_a_mapped_message(key: str, field: str) -> None:
    for shape in SHAPES:
        source = config_source(**{key: {field: shape}})
        if pydantic_errors(source):
            _assert_only_mapped_error_types(source)


@pytest.mark.parametrize("key", STRUCTURED)
def test_any_shape_in_any_structured_key_gets_a_mapped_message(key: str) -> None:
    for shape in SHAPES:
        source = config_source(**{key: shape if not isinstance(shape, str) else json.dumps(shape)})
        if pydantic_errors(source):
            _assert_only_mapped_error_types(source)


def test_no_message_names_a_python_type() -> None:
    for _, changes, _, _ in CASES:
        for _, message in config_problems(config_source(**changes)):
            assert not any(word in message.lower() for word in PYDANTIC_WORDS), message


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("x", "a string"),
        (3, "a number"),
        (2.5, "a number"),
        (True, "true/false"),
        (None, "an empty value"),
        (["x"], "a list"),
        ({"x": 1}, "a mapping"),
        (object(), "a value of another kind"),
    ],
)
def test_values_are_named_by_their_yaml_kind(value: object, kind: str) -> None:
    assert yaml_kind(value) == kind


def test_a_value_of_the_wrong_kind_is_never_quoted() -> None:
    secret = "hunter2-0044"  # stands for anything sensitive pasted into the wrong key
    found = config_problems(config_source(**{f"{P}:okta": {"appLabel": {"label": secret}}}))
    assert found == [(f"{P}:okta.appLabel", "expected a string, got a mapping")]
