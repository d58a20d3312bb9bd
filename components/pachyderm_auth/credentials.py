"""Credential fields, declared once on the props models (docs/decisions-provider.md, section 3).

From ``Annotated[str, SECRET]`` (or ``Credential(keys=...)`` for a document with credentials
inside) follow the resource's ``additional_secret_outputs`` and what every message is redacted of.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True)
class Credential:
    """Marks a props field as a credential; ``keys`` name the credentials inside a document."""

    keys: tuple[str, ...] = ()


SECRET = Credential()
"""The marker for a field whose whole value is a credential."""


def _marker(model: type[BaseModel], name: str) -> Credential | None:
    for item in model.model_fields[name].metadata:
        if isinstance(item, Credential):
            return item
    return None


def credential_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """Names of the fields of ``model`` declared as credentials, in declaration order."""
    return tuple(name for name in model.model_fields if _marker(model, name) is not None)


def credential_values(props: BaseModel) -> list[str]:
    """The credential values ``props`` holds: what must never appear in a message."""
    values: list[str] = []
    model = type(props)
    for name in credential_fields(model):
        marker = _marker(model, name)
        value = getattr(props, name)
        if marker is not None and marker.keys and isinstance(value, Mapping):
            values.extend(_text(value.get(key)) for key in marker.keys)
        else:
            values.append(_text(value))
    return [value for value in values if value]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
