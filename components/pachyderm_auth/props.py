"""Props of the auth providers: the flat bag Pulumi stores, parsed into connection and state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pulumi.output import Unknown
from pydantic import BaseModel, ConfigDict, ValidationError

from components.pachyderm_auth.credentials import credential_values
from components.pachyderm_auth.pachd import Connection

_UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


class PachdState(BaseModel):
    """The pachd state one provider owns; credentials are declared with ``SECRET``."""

    model_config = ConfigDict(frozen=True, extra="ignore")


S = TypeVar("S", bound=PachdState)


@dataclass(frozen=True)
class Props(Generic[S]):
    """Parsed props: the connection and the pachd state, apart."""

    connection: Connection
    state: S
    other_secrets: tuple[str, ...] = ()
    """Credentials from elsewhere (the stack config, the stored outputs), redacted as well."""

    @property
    def secrets(self) -> list[str]:
        """Every credential these props hold or were given: redacted from all messages."""
        return [
            *credential_values(self.connection),
            *credential_values(self.state),
            *self.other_secrets,
        ]

    def outputs(self) -> dict[str, Any]:
        """The flat bag Pulumi stores."""
        # A direct connection stores exactly what it stored before port-forwards existed.
        unset = {"port_forward"} if self.connection.port_forward is None else set()
        return {
            **self.connection.model_dump(mode="json", exclude=unset),
            **self.state.model_dump(mode="json"),
        }


def is_unknown(value: Any) -> bool:
    """True if ``value`` is, or holds, a value not known yet (a preview)."""
    if isinstance(value, Unknown) or value == _UNKNOWN_SENTINEL:
        return True
    if isinstance(value, Mapping):
        return any(is_unknown(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(is_unknown(item) for item in value)
    return False


def normalised(value: Any) -> Any:
    """A value as it compares across the wire: integral floats as ints, tuples as lists."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {key: normalised(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [normalised(item) for item in value]
    return value


def field_errors(error: ValidationError) -> list[tuple[str, str]]:
    """``(field path, message)`` per problem; never the input, which holds the root token."""
    return [
        (".".join(str(part) for part in detail["loc"]), detail["msg"])
        for detail in error.errors(include_url=False, include_input=False)
    ]
