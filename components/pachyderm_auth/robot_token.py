"""A robot's token: minted by pachd with a lifetime, rotated before it expires, revoked on delete.

The stack never mints a token without a lifetime. Rotation keeps one token of grace: a new
token becomes ``token`` and the one it replaces stays valid as ``previous_token`` until the
rotation after (consumers read a mounted Secret only after the kubelet syncs it, and an
environment variable never), so every rotation revokes exactly the token two rotations old.
Delete revokes the two tokens this resource minted and no other token of the robot
(docs/decisions.md, decision 50).

A rotation is due when the stack asks (``rotation`` raised, a new ``ttl``) or when the token is
``rotate_after_seconds`` old: ``diff`` compares the issue time with the clock, so a preview
shows a due rotation and the next ``up`` makes it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated, Any

import grpc
import pulumi
from pulumi.dynamic import DiffResult

from components.pachyderm_auth.base import PachdArgs, PachdProvider, PachdResource
from components.pachyderm_auth.credentials import SECRET
from components.pachyderm_auth.pachd import grpc_status, not_activated, pachd_client
from components.pachyderm_auth.props import PachdState, Props, is_unknown


class RobotTokenState(PachdState):
    """The robot and its token's lifetime (set by the stack), and the tokens pachd minted."""

    robot: str
    ttl_seconds: int
    rotate_after_seconds: int
    rotation: int = 0
    token: Annotated[str, SECRET] = ""
    previous_token: Annotated[str, SECRET] = ""
    issued_at: float = 0.0
    """When ``token`` was minted (seconds since the epoch)."""
    expires_at: float = 0.0
    """When pachd says ``token`` expires (seconds since the epoch)."""


_MINTED = ("token", "previous_token", "issued_at", "expires_at")


def rotation_due(state: RobotTokenState, now: float) -> bool:
    """Whether ``state``'s token is old enough to be replaced."""
    return bool(state.token) and now >= state.issued_at + state.rotate_after_seconds


class RobotTokenProvider(PachdProvider[RobotTokenState]):
    """Mints, rotates and revokes one robot's tokens."""

    state_model = RobotTokenState
    resource_kind = "robot token"
    replace_on = frozenset({"robot"})
    # When the next rotation is due changes no token: stored without a call.
    local_fields = frozenset({"rotate_after_seconds"})
    output_fields = _MINTED

    def _id(self, props: Props[RobotTokenState]) -> str:
        return f"robot:{props.state.robot}"

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """The stack's changes, plus a rotation the token's age makes due; no pachd call."""
        result = super().diff(id_, olds, news)
        if result.changes or is_unknown(news.get("rotate_after_seconds")):
            return result
        stored = RobotTokenState.model_validate(
            {**olds, "rotate_after_seconds": news.get("rotate_after_seconds", 0)}
        )
        return DiffResult(changes=rotation_due(stored, time.time()), replaces=[])

    def _pachd_changes(self, previous: PachdState, current: PachdState) -> list[str]:
        changed = super()._pachd_changes(previous, current)
        if isinstance(previous, RobotTokenState) and isinstance(current, RobotTokenState):
            renewed = previous.model_copy(
                update={"rotate_after_seconds": current.rotate_after_seconds}
            )
            if rotation_due(renewed, time.time()):
                changed.append("token")
        return changed

    def _apply(
        self, props: Props[RobotTokenState], previous: Props[RobotTokenState] | None
    ) -> dict[str, Any]:
        state = props.state
        with pachd_client(props.connection) as client:
            if previous is not None and previous.state.previous_token:
                # Two rotations old: no consumer should still hold it.
                self._revoke(client, props, previous.state.previous_token)
            token = self._call(
                f"minting a token for robot {state.robot!r}",
                props,
                lambda: client.auth.get_robot_token(robot=state.robot, ttl=state.ttl_seconds).token,
            )
        issued_at = time.time()
        return {
            "token": token,
            "previous_token": previous.state.token if previous is not None else "",
            "issued_at": issued_at,
            "expires_at": self._expiry(props, token) or issued_at + state.ttl_seconds,
        }

    def _expiry(self, props: Props[RobotTokenState], token: str) -> float | None:
        """When pachd says ``token`` expires; ``None`` when it holds no such token."""
        as_robot = props.connection.model_copy(update={"root_token": token})
        with pachd_client(as_robot) as client:
            try:
                expiration = client.auth.who_am_i().expiration
            except (grpc.RpcError, ConnectionError) as error:
                if grpc_status(error)[0] == grpc.StatusCode.UNAUTHENTICATED:
                    return None
                raise
        return expiration.timestamp() if expiration is not None else None

    def _read(self, props: Props[RobotTokenState]) -> dict[str, Any] | None:
        """The token's expiry as pachd knows it; a revoked or expired token reads as gone."""
        if not props.state.token:
            return None
        try:
            expires_at = self._expiry(props, props.state.token)
        except (grpc.RpcError, ConnectionError) as error:
            if not_activated(error):
                return None
            raise
        return None if expires_at is None else {"expires_at": expires_at}

    def _remove(self, props: Props[RobotTokenState]) -> None:
        with pachd_client(props.connection) as client:
            for token in (props.state.token, props.state.previous_token):
                if token:
                    self._revoke(client, props, token)

    def _revoke(self, client: Any, props: Props[RobotTokenState], token: str) -> None:
        """Revoke exactly ``token``; one already gone (expired, revoked) is fine."""
        try:
            client.auth.revoke_auth_token(token=token)
        except (grpc.RpcError, ConnectionError) as error:
            if not not_activated(error):
                raise


@dataclass(frozen=True)
class RobotTokenArgs(PachdArgs):
    """The robot and its token's lifetime (wire names as in :class:`RobotTokenState`)."""

    robot: pulumi.Input[str]
    ttl_seconds: pulumi.Input[int]
    rotate_after_seconds: pulumi.Input[int]
    rotation: pulumi.Input[int]


class RobotToken(PachdResource[RobotTokenArgs], module="pachyderm", name="RobotToken"):
    """A robot's current token (``token``, secret) and the one it replaced (``previous_token``)."""

    provider_type = RobotTokenProvider
    token: pulumi.Output[str]
    previous_token: pulumi.Output[str]
    expires_at: pulumi.Output[float]
