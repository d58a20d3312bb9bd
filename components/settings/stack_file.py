"""A stack's configuration read from its files, merged as the engine merges it, with no Pulumi CLI.

What ``make check`` validates: the ``namespace:key`` map ``pulumi up`` hands the program, built
from ``Pulumi.<stack>.yaml`` and the ``config:`` declarations of ``Pulumi.yaml`` the way
pulumi/pulumi ``sdk/go/common/workspace/config.go`` (``mergeConfig``) builds it: a key the stack
file does not set takes its declaration's ``default`` (else its ``value``), a declaration without a
namespace belongs to the project. A scalar reaches the program as its text, a mapping or list as
JSON (``sdk/go/common/resource/config/object.go``, ``MarshalString``); the stack files are read as
Go's YAML reads them, where only ``true``/``false`` are booleans (``yes`` stays a string).

What cannot be read offline is reported as such, never guessed: a ``secure:`` value is present but
encrypted (it reaches the settings as a placeholder, and only secret keys are validated without
their text), and keys imported from an ESC environment (the stack file's ``environment:``, a list
of environment names or an inline definition, pulumi/pulumi ``sdk/go/common/workspace/project.go``
``Environment``) are unknown.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# The text an encrypted value is validated with: secret keys are never read, only their presence.
ENCRYPTED_PLACEHOLDER = "[encrypted in the stack file]"


class StackFileError(Exception):
    """A stack or project file that is missing or is not the YAML Pulumi expects."""


class _GoYamlLoader(yaml.SafeLoader):
    """YAML as Pulumi's Go parser reads it: ``true``/``false`` are the only booleans."""


_GoYamlLoader.yaml_implicit_resolvers = {
    first: [
        (tag, pattern)
        for tag, pattern in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_GoYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


@dataclass(frozen=True)
class StackFile:
    """What ``Pulumi.<stack>.yaml`` and ``Pulumi.yaml`` give the program, as far as files tell."""

    path: Path
    entries: dict[str, tuple[str, bool]]
    """``namespace:key`` -> (text as the engine passes it, is secret), project defaults merged."""
    stack_keys: frozenset[str]
    """The keys the stack file itself sets."""
    encrypted_keys: frozenset[str]
    """The keys holding a ``secure:`` value, at the top or nested."""
    environments: tuple[str, ...]
    """The ESC environments the stack imports (``the inline environment`` for a definition)."""


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("secure"), str)


def _without_ciphertext(value: Any) -> tuple[Any, bool]:
    """``value`` with every ``secure:`` value replaced by the placeholder, and whether any was."""
    if _is_secure(value):
        return ENCRYPTED_PLACEHOLDER, True
    if isinstance(value, dict):
        pairs = [(str(key), _without_ciphertext(item)) for key, item in value.items()]
        return {key: item for key, (item, _) in pairs}, any(secure for _, (_, secure) in pairs)
    if isinstance(value, list):
        items = [_without_ciphertext(item) for item in value]
        return [item for item, _ in items], any(secure for _, secure in items)
    return value, False


def config_text(value: Any) -> str:
    """A config value as the engine passes it to the program: a string as is, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def _load(path: Path) -> dict[str, Any]:
    try:
        document = yaml.load(path.read_text(), Loader=_GoYamlLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as error:
        raise StackFileError(f"{path.name} is not valid YAML: {error}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise StackFileError(f"{path.name} must be a YAML mapping")
    return document


def _environments(stack_name: str, block: Any) -> tuple[str, ...]:
    if isinstance(block, list):
        return tuple(str(name) for name in block)
    if not isinstance(block, dict):
        return ()
    names = []
    for entry in block.get("imports") or []:
        # An import is a name, or a mapping from the name to its options.
        names.extend([str(entry)] if not isinstance(entry, dict) else [str(key) for key in entry])
    if block.get("values"):
        names.append(f"the environment defined in Pulumi.{stack_name}.yaml")
    return tuple(names)


def read_stack_file(project_dir: Path, stack_name: str) -> StackFile:
    """``Pulumi.<stack_name>.yaml`` in ``project_dir``, merged with ``Pulumi.yaml``'s defaults."""
    project = _load(project_dir / "Pulumi.yaml")
    project_name = str(project.get("name", ""))
    path = project_dir / f"Pulumi.{stack_name}.yaml"
    if not path.is_file():
        raise StackFileError(
            f"there is no stack file {path.name}: copy Pulumi.dev.yaml to {path.name} and "
            "replace its example values"
        )
    stack = _load(path)
    entries: dict[str, tuple[str, bool]] = {}
    encrypted = set()
    for key, value in (stack.get("config") or {}).items():
        plain, secure = _without_ciphertext(value)
        entries[str(key)] = (config_text(plain), secure)
        if secure:
            encrypted.add(str(key))
    stack_keys = frozenset(entries)
    for name, declaration in (project.get("config") or {}).items():
        key = name if ":" in name else f"{project_name}:{name}"
        if key in entries:
            continue
        if not isinstance(declaration, dict):
            entries[key] = (config_text(declaration), False)
        elif "default" in declaration or "value" in declaration:
            value = declaration["default"] if "default" in declaration else declaration["value"]
            entries[key] = (config_text(value), False)
    return StackFile(
        path=path,
        entries=entries,
        stack_keys=stack_keys,
        encrypted_keys=frozenset(encrypted),
        environments=_environments(stack_name, stack.get("environment")),
    )
