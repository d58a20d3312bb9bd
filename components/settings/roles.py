"""Pachyderm's role names per minor version: the names ``ModifyRoleBinding`` accepts.

The one place the lists live: stack validation and the test fake pachd both read them. Each list
is the ``registerRole`` calls of pachyderm/pachyderm ``src/server/auth/server/roles.go`` on that
release branch (the names are the ``*Role`` constants of ``src/auth/auth.go``); pachd refuses any
other name with ``unknown role "<name>"`` (``getRole``, same file). Every listed role can be bound
to the CLUSTER resource; which can also be bound to a project or a repo is each role's
``CanBeBoundTo`` in the same file, which pachd itself never checks (docs/decisions.md, decision 48).
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

CLUSTER = "CLUSTER"
PROJECT = "PROJECT"
REPO = "REPO"
RESOURCE_WORDS = {CLUSTER: "the cluster", PROJECT: "a project", REPO: "a repo"}
"""How a message names each kind of resource."""

# CanBeBoundTo of roles.go beyond CLUSTER, identical on 2.11.x and 2.12.x (jobAdmin's JOB is not
# a resource a stack binds); every role not listed is bindable to the cluster only.
_BEYOND_THE_CLUSTER: Mapping[str, frozenset[str]] = {
    "repoReader": frozenset({PROJECT, REPO}),
    "repoWriter": frozenset({PROJECT, REPO}),
    "repoOwner": frozenset({PROJECT, REPO}),
    "projectViewer": frozenset({PROJECT}),
    "projectWriter": frozenset({PROJECT}),
    "projectOwner": frozenset({PROJECT}),
}

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


def bindable_to(role: str) -> frozenset[str]:
    """The resource types ``role`` can be bound to, as roles.go's ``CanBeBoundTo`` lists them."""
    return frozenset({CLUSTER}) | _BEYOND_THE_CLUSTER.get(role, frozenset())


def roles_bindable_to(resource_type: str, version: tuple[int, ...]) -> tuple[str, ...]:
    """The roles of Pachyderm ``version`` that can be bound to ``resource_type``, in order."""
    available = roles_of(version)
    return tuple(
        role for role in KNOWN_ROLES if role in available and resource_type in bindable_to(role)
    )
