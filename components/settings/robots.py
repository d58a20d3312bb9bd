"""``pachyderm-okta:auth.robots``: robot accounts whose scoped, expiring tokens the stack mints.

A robot is a pachd principal (``robot:<name>``) for what is not a person: CI jobs, notebooks,
S3 clients. The stack mints its token with a lifetime (never without one), delivers it in a
Kubernetes Secret and rotates it before it expires; its roles come from the cluster, project
and repo bindings like anyone's (docs/operations.md, "Robot accounts").
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from components.settings.fields import DnsLabel, GoDuration
from components.settings.frozen import Frozen
from components.settings.problems import problem

# pachd refuses only a colon (``GetRobotToken``, src/server/auth/server/api_server.go); the name
# also names Pulumi resources and Kubernetes objects, so this keeps to a portable alphabet.
_ROBOT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
# A Kubernetes object name (RFC 1123 subdomain).
_SUBDOMAIN = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}

MIN_TTL_SECONDS = 3600
MAX_TTL_SECONDS = 365 * 24 * 3600
MIN_ROTATE_AFTER_SECONDS = 60


def duration_seconds(duration: str) -> int:
    """A Go duration (``720h``, ``1h30m``) in whole seconds."""
    return int(sum(float(n) * _SECONDS[unit] for n, unit in _DURATION_PART.findall(duration)))


def _check_robot_name(value: str) -> str:
    if ":" in value:
        raise problem(f"{value!r}: pachd refuses a colon in a robot name; use the bare name")
    if not _ROBOT_NAME.fullmatch(value):
        raise problem(
            f"{value!r} is not a robot name: letters, digits, '.', '_' and '-', starting with a "
            "letter or digit, at most 63 characters"
        )
    return value


def _check_subdomain(value: str) -> str:
    if not _SUBDOMAIN.fullmatch(value):
        raise problem(
            f"{value!r} is not a Kubernetes object name: lower-case letters, digits, '-' and "
            "'.', starting and ending with a letter or digit"
        )
    return value


RobotName = Annotated[str, AfterValidator(_check_robot_name)]
ObjectName = Annotated[str, AfterValidator(_check_subdomain)]


class SecretRef(Frozen):
    """Where a robot's token is delivered: a Kubernetes Secret the stack owns."""

    namespace: DnsLabel = Field(description="Namespace of the Secret; it must exist.")
    name: ObjectName = Field(description="Name of the Secret; the stack creates and owns it.")


class RobotSettings(Frozen):
    """``pachyderm-okta:auth.robots.<name>``: one robot's token."""

    ttl: GoDuration = Field(
        description="Lifetime of each token, a Go duration from 1h to 8760h (a year): the stack "
        "mints no token that never expires."
    )
    rotate_after: GoDuration | None = Field(
        default=None,
        description="Age at which the next `up` mints a new token (the previous one stays valid "
        "until the rotation after); default half the `ttl`. An `up` must run between this age "
        "and `ttl`, or the token expires.",
    )
    rotation: int = Field(
        default=0,
        ge=0,
        description="Raise it to have the next `up` mint a new token now (`make rotate-robot "
        "NAME=<name>` does).",
    )
    secret: SecretRef = Field(description="The Kubernetes Secret that receives the token.")

    @property
    def ttl_seconds(self) -> int:
        """``ttl`` in seconds."""
        return duration_seconds(self.ttl)

    @property
    def rotate_after_seconds(self) -> int:
        """``rotateAfter`` in seconds (half the ``ttl`` when unset)."""
        if self.rotate_after is None:
            return self.ttl_seconds // 2
        return duration_seconds(self.rotate_after)

    @field_validator("ttl")
    @classmethod
    def _bounded_ttl(cls, value: str) -> str:
        if not MIN_TTL_SECONDS <= duration_seconds(value) <= MAX_TTL_SECONDS:
            raise problem(
                f"{value} is outside 1h to 8760h: a robot token must expire, within a year"
            )
        return value

    @field_validator("rotate_after")
    @classmethod
    def _before_expiry(cls, value: str | None, info: ValidationInfo) -> str | None:
        ttl = info.data.get("ttl")
        if value is None or ttl is None:
            return value
        if not MIN_ROTATE_AFTER_SECONDS <= duration_seconds(value) < duration_seconds(ttl):
            raise problem(
                f"{value} must be at least 1m and shorter than ttl {ttl}: the new token has to "
                "arrive before the old one expires"
            )
        return value
