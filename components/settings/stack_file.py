"""A stack's configuration read from its files, merged as the engine merges it, with no Pulumi CLI.

What ``make check`` validates: the ``namespace:key`` map ``pulumi up`` hands the program, built
from ``Pulumi.<stack>.yaml`` and the ``config:`` declarations of ``Pulumi.yaml`` the way
pulumi/pulumi ``pkg/workspace/config.go`` (``mergeConfig``) builds it: a key the stack file does
not set takes its declaration's ``default`` (else its ``value``), a declaration without a namespace
belongs to the project. The stack file itself is read as the engine reads it
(:mod:`components.settings.engine_config`): YAML as Go's yaml.v3 reads it, a key with no colon in
the project's namespace, the legacy ``ns:config:key`` form, a key with no value as ``""`` (with
the engine's warning), a scalar as its text and a mapping or list as JSON.

What cannot be read offline is reported as such, never guessed: a ``secure:`` value is present but
encrypted (it reaches the settings as a placeholder, and only secret keys are validated without
their text), and keys imported from an ESC environment (the stack file's ``environment:``, a list
of environment names or an inline definition, pulumi/pulumi ``sdk/go/common/workspace/project.go``
``Environment``) are unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from components.settings.engine_config import (
    EngineReadError,
    EngineValue,
    GoYamlLoader,
    empty_value_warning,
    engine_key,
    engine_text,
    engine_value,
    is_secure,
)

# The text an encrypted value is validated with: secret keys are never read, only their presence.
ENCRYPTED_PLACEHOLDER = "[encrypted in the stack file]"


class StackFileError(Exception):
    """A stack or project file that is missing or is not the YAML Pulumi expects."""


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
    stack_values: dict[str, Any] = field(default_factory=dict)
    """The stack file's own values by ``namespace:key``, as read (``secure:`` mappings kept)."""
    engine_values: dict[str, EngineValue] = field(default_factory=dict)
    """The stack file's values as the engine's own checks see them."""
    declarations: dict[str, Any] = field(default_factory=dict)
    """``Pulumi.yaml``'s ``config:`` declarations, by the name they are declared under."""
    project_name: str = ""
    warnings: tuple[str, ...] = ()
    """What the engine warns about while reading the stack file."""


def _without_ciphertext(value: Any) -> tuple[Any, bool]:
    """``value`` with every ``secure:`` value replaced by the placeholder, and whether any was."""
    if is_secure(value):
        return ENCRYPTED_PLACEHOLDER, True
    if isinstance(value, dict):
        pairs = [(str(key), _without_ciphertext(item)) for key, item in value.items()]
        return {key: item for key, (item, _) in pairs}, any(secure for _, (_, secure) in pairs)
    if isinstance(value, list):
        items = [_without_ciphertext(item) for item in value]
        return [item for item, _ in items], any(secure for _, secure in items)
    return value, False


def config_text(value: Any) -> str:
    """A config value as the engine passes it to the program (:func:`engine_text`)."""
    return engine_text(value)


def _load(path: Path) -> dict[str, Any]:
    try:
        document = yaml.load(path.read_text(encoding="utf-8-sig"), Loader=GoYamlLoader)  # noqa: S506 - a SafeLoader
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


def _key_text(key: Any) -> str:
    """A mapping key as Go prints it (``fmt.Sprintf("%v")``)."""
    return ("true" if key else "false") if isinstance(key, bool) else str(key)


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
    config = stack.get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError(f"{path.name}: config must be a mapping of keys to values")
    entries: dict[str, tuple[str, bool]] = {}
    stack_values: dict[str, Any] = {}
    engine_values: dict[str, EngineValue] = {}
    written_as: dict[str, str] = {}
    encrypted = set()
    empty = []
    for raw_key, value in config.items():
        written = _key_text(raw_key)
        try:
            key = engine_key(project_name, written)
            plain, secure = _without_ciphertext(value)
            entries[key] = (config_text(plain), secure)
            engine_values[key] = engine_value(value, secure_text=ENCRYPTED_PLACEHOLDER)
        except EngineReadError as error:  # the engine's words (config.Map's UnmarshalYAML)
            raise StackFileError(
                f"{path.name}: invalid YAML file: could not unmarshal map: {error}"
            ) from None
        if key in written_as:
            # The engine keeps one of the two, whichever its map iteration meets last.
            raise StackFileError(
                f"{path.name} sets {key} twice, as {written_as[key]} and as {written}: pulumi "
                "keeps one of them, at random; keep one"
            )
        written_as[key] = written
        stack_values[key] = value
        if value is None:
            empty.append(key)  # named as the engine names it (loaders.go rewrites, then warns)
        if secure:
            encrypted.add(key)
    stack_keys = frozenset(entries)
    declarations = project.get("config") or {}
    for name, declaration in declarations.items():
        key = name if ":" in name else f"{project_name}:{name}"
        if key in entries:
            continue
        if not isinstance(declaration, dict):
            entries[key] = (config_text(declaration), False)
        elif declaration.get("default") is not None or declaration.get("value") is not None:
            # createConfigValue: the default when there is one, else the value.
            default = declaration.get("default")
            value = default if default is not None else declaration["value"]
            entries[key] = (config_text(value), False)
    warning = empty_value_warning(empty)
    return StackFile(
        path=path,
        entries=entries,
        stack_keys=stack_keys,
        encrypted_keys=frozenset(encrypted),
        environments=_environments(stack_name, stack.get("environment")),
        stack_values=stack_values,
        engine_values=engine_values,
        declarations=dict(declarations),
        project_name=project_name,
        warnings=(warning,) if warning else (),
    )
