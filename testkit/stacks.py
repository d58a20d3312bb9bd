"""Stack files as the engine hands them to the program, for tests.

The engine flattens ``Pulumi.yaml`` defaults and ``Pulumi.<stack>.yaml`` into ``namespace:key``
strings (objects as JSON) and passes secrets decrypted, with their keys listed as secret. Tests do
the same, with obviously fake secret values injected in place of ``pulumi config set --secret``.

The shipped stack files hold example values (``<your-okta-org>``) that the settings refuse, so a
test's stack is the shipped one with each example value filled in as a user would
(:data:`EXAMPLE_FILLS`): same shape, valid values.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.settings import SECRET_KEYS, StackConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "pachyderm-okta"

# Fake secrets, distinctive so that a leak scan can find them anywhere.
TEST_SECRETS: dict[str, str] = {
    "okta:apiToken": "test-okta-api-token-SSWS-0001",
    f"{PROJECT}:licenseKey": "test-license-key-0002",
    f"{PROJECT}:rootToken": "test-adopted-root-token-0003",
}

# Words of pydantic's type names and messages that must never reach a user: errors speak YAML.
PYDANTIC_WORDS = ("tuple", "dict", "frozenset", "input should be a valid")


# What a user writes in place of each example value of the shipped stack files.
EXAMPLE_FILLS: dict[str, str] = {
    "<your-okta-org>": "dev-123456",
    "<your-okta-admin-group>": "pachyderm-admins",
    "<your-okta-data-group>": "data-engineers",
    "<your-kube-context>": "prod-cluster",
    "<your-pachyderm-host>": "pachyderm.example.com",
    "<your-bucket>": "example-pachyderm-data",
    "<your-bucket-region>": "us-east-1",
}


def filled_stack_text(text: str) -> str:
    """A stack file's text with every example value replaced by :data:`EXAMPLE_FILLS`."""
    for example, value in EXAMPLE_FILLS.items():
        text = text.replace(example, value)
    return text


def stack_document(stack: str) -> dict[str, Any]:
    """``Pulumi.<stack>.yaml`` as a test uses it: the shipped file, example values filled in."""
    path = ROOT / f"Pulumi.{stack}.yaml"
    document: dict[str, Any] = copy.deepcopy(_parsed(path, path.stat().st_mtime_ns, filled=True))
    return document


def _as_config_string(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@cache
def _parsed(path: Path, _modified_ns: int, *, filled: bool = False) -> Any:
    """A YAML file of the project, parsed once per version of it (read-only to callers).

    Every offline ``up`` and every stack-file test reads these files; parsed anew each time they
    were about a twentieth of a program run under mocks.
    """
    text = path.read_text()
    return yaml.safe_load(filled_stack_text(text) if filled else text)


def _project_file(name: str) -> Any:
    path = ROOT / name
    return _parsed(path, path.stat().st_mtime_ns)


def project_defaults() -> dict[str, str]:
    """The defaults ``Pulumi.yaml`` declares for project keys, as the CLI injects them."""
    project = _project_file("Pulumi.yaml")
    defaults: dict[str, str] = {}
    for key, declaration in project.get("config", {}).items():
        if ":" in key or not isinstance(declaration, dict) or "default" not in declaration:
            continue
        defaults[f"{PROJECT}:{key}"] = _as_config_string(declaration["default"])
    return defaults


def stack_config(
    stack: str, *, secrets: dict[str, str] | None = None, **overrides: Any
) -> tuple[dict[str, str], list[str]]:
    """``(config, secret_keys)`` for :func:`stack_document` plus secrets and overrides.

    ``secrets`` defaults to just ``okta:apiToken``; overrides use ``namespace:key`` names with
    ``__`` for ``:`` (``pachyderm_okta__publicUrl="..."``) or pass a dict via ``**{key: value}``.
    """
    document = stack_document(stack)
    config = project_defaults()
    for key, value in document.get("config", {}).items():
        config[key] = _as_config_string(value)
    for key, value in overrides.items():
        full_key = key.replace("pachyderm_okta__", f"{PROJECT}:").replace("__", ":")
        if value is None:
            config.pop(full_key, None)
        else:
            config[full_key] = _as_config_string(value)
    chosen = {"okta:apiToken": TEST_SECRETS["okta:apiToken"]} if secrets is None else secrets
    config.update(chosen)
    return config, sorted(chosen)


def dev_auth(**changes: Any) -> str:
    """The dev stack's ``pachyderm-okta:auth`` object with ``changes`` applied, as config text."""
    config, _ = stack_config("dev")
    auth: dict[str, Any] = json.loads(config[f"{PROJECT}:auth"])
    return json.dumps({**auth, **changes})


def dev_pachyderm(**changes: Any) -> str:
    """The dev stack's ``pachyderm-okta:pachyderm`` object with ``changes`` applied, as text."""
    config, _ = stack_config("dev")
    pachyderm: dict[str, Any] = json.loads(config[f"{PROJECT}:pachyderm"])
    return json.dumps({**pachyderm, **changes})


# The smallest valid stack, as a config source for ``components.settings.load_settings``:
# ``{"namespace:key": (value as the engine passes it, is_secret)}``.
MINIMAL_SOURCE: dict[str, tuple[str, bool]] = {
    "okta:orgName": ("dev-123456", False),
    "okta:baseUrl": ("okta.com", False),
    "okta:apiToken": (TEST_SECRETS["okta:apiToken"], True),
    f"{PROJECT}:publicUrl": ("http://192.168.49.2:30080", False),
}


def config_source(**changes: Any) -> dict[str, tuple[str, bool]]:
    """:data:`MINIMAL_SOURCE` with ``{"namespace:key": value}`` changes as the engine passes them.

    Mappings and lists become JSON; a plain string stays as written (a YAML string); a
    ``(text, is_secret)`` tuple is taken as is; None removes the key. A key is secret when the
    program reads it as one.
    """
    source = dict(MINIMAL_SOURCE)
    for key, value in changes.items():
        if value is None:
            source.pop(key, None)
        elif isinstance(value, tuple):
            source[key] = value
        else:
            source[key] = (_as_config_string(value), key in SECRET_KEYS)
    return source


def config_problems(source: dict[str, tuple[str, bool]]) -> list[tuple[str, str]]:
    """``(key, message)`` of every problem loading ``source`` reports; none may speak pydantic."""
    with pytest.raises(StackConfigError) as raised:
        load_settings(lambda: source)
    found = [(problem.key, problem.message) for problem in raised.value.problems]
    for _, message in found:
        assert not any(word in message.lower() for word in PYDANTIC_WORDS), message
    return found
