"""Pachyderm's role names per minor version: the names ``ModifyRoleBinding`` accepts.

The one place the lists live: stack validation and the test fake pachd both read them. Each list
is the ``registerRole`` calls of pachyderm/pachyderm ``src/server/auth/server/roles.go`` on that
release branch (the names are the ``*Role`` constants of ``src/auth/auth.go``); pachd refuses any
other name with ``unknown role "<name>"`` (``getRole``, same file). Every listed role can be bound
to the CLUSTER resource.
"""

from __future__ import annotations

from collections.abc import Mapping

# 2.11.x roles.go, in registration order.
_ROLES_2_11 = (
    "repoReader",
    "repoWriter",
    "repoOwner",
    "oidcAppAdmin",
    "idpAdmin",
    "identityAdmin",
    "debugger",
    "lokiLogReader",
    "robotUser",
    "licenseAdmin",
    "secretAdmin",
    "pachdLogReader",
    "projectViewer",
    "projectWriter",
    "projectOwner",
    "projectCreator",
    "clusterAdmin",
)
# 2.12.x roles.go registers the same roles plus jobAdmin (for PJS jobs).
_ROLES_2_12 = (*_ROLES_2_11, "jobAdmin")

ROLES_BY_MINOR: Mapping[tuple[int, int], tuple[str, ...]] = {
    (2, 11): _ROLES_2_11,
    (2, 12): _ROLES_2_12,
}
"""Role names by ``(major, minor)`` of the Pachyderm release, as each branch registers them."""

KNOWN_ROLES: tuple[str, ...] = tuple(
    dict.fromkeys(role for roles in ROLES_BY_MINOR.values() for role in roles)
)
"""Every role name of any release listed, each once."""


def roles_of(version: tuple[int, ...]) -> frozenset[str]:
    """The role names of Pachyderm ``version`` (``(2, 11, 6)`` or ``(2, 11)``).

    A release newer than the last one listed gets the newest list (pachd has only added roles so
    far); an older one gets the oldest.
    """
    minor = (version[0], version[1])
    listed = sorted(ROLES_BY_MINOR)
    chosen = max((known for known in listed if known <= minor), default=listed[0])
    return frozenset(ROLES_BY_MINOR[chosen])


def first_release_with(role: str) -> tuple[int, int] | None:
    """The oldest listed ``(major, minor)`` that has ``role``; ``None`` for an unknown role."""
    return min((minor for minor, roles in ROLES_BY_MINOR.items() if role in roles), default=None)
