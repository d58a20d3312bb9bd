"""The model config every settings model shares."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class Frozen(BaseModel):
    """Shared model config: immutable, unknown keys rejected, camelCase keys as in stack files."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        validate_default=True,
        arbitrary_types_allowed=True,
        str_strip_whitespace=True,
    )
