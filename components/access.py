"""Who the stack gives which roles on which resource: the access table a reviewer reads.

Pure: built from the validated auth settings alone, offline. It holds what the stack declares,
plus what pachd grants by itself and the stack leaves alone - at activation ``pach:root`` and
``internal:auth-server`` get ``clusterAdmin`` and ``allClusterUsers`` gets ``projectCreator``
(``activateInTransaction``, src/server/auth/server/api_server.go), PFS's ``ActivateAuth`` gives
``allClusterUsers`` ``projectWriter`` on the ``default`` project, and a project's creator
(``pach:root`` for the projects the stack creates) becomes its ``projectOwner`` - the same on
2.11.x and 2.12.x (docs/decisions.md, decision 48). Bindings made by hand live only in pachd:
``pachctl auth get cluster`` / ``get project <name>`` / ``get repo <name>`` show them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace

from components.settings import AuthSettings
from components.settings.robots import RobotSettings

CLUSTER = "cluster"
DECLARED = "declared"
PACHD_DEFAULT = "pachd's default"
CREATOR = "pachd: the creator"
DEFAULT_PROJECT = "default"
UNBOUND = "(bound nowhere)"

# What pachd grants by itself, by resource and principal.
_PACHD_DEFAULTS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    CLUSTER: {
        "allClusterUsers": ("projectCreator",),
        "internal:auth-server": ("clusterAdmin",),
        "pach:root": ("clusterAdmin",),
    },
    f"project {DEFAULT_PROJECT}": {"allClusterUsers": ("projectWriter",)},
}


@dataclass(frozen=True)
class Grant:
    """One principal's roles on one resource, and who grants them."""

    resource: str
    """``cluster``, ``project <name>`` or ``repo <project>/<repo>``."""
    principal: str
    roles: tuple[str, ...]
    """Empty: the stack takes every role away (e.g. a locked-down ``allClusterUsers``)."""
    source: str
    """``declared`` (with pachd's default it replaces, if any), pachd's default, or creator."""


def _declared(
    resource: str, bindings: Mapping[str, tuple[str, ...]], creator: bool = False
) -> Iterator[Grant]:
    defaults = dict(_PACHD_DEFAULTS.get(resource, {}))
    if creator:
        defaults["pach:root"] = ("projectOwner",)
    for principal in sorted({*bindings, *defaults}):
        if principal in bindings:
            replaced = defaults.get(principal)
            source = DECLARED + (f" (pachd's default: {', '.join(replaced)})" if replaced else "")
            yield Grant(resource, principal, tuple(sorted(bindings[principal])), source)
        else:
            source = CREATOR if creator and principal == "pach:root" else PACHD_DEFAULT
            yield Grant(resource, principal, defaults[principal], source)


def access_table(auth: AuthSettings) -> list[Grant]:
    """Every grant the stack declares or leaves to pachd: the cluster, each project, each repo."""
    grants = list(_declared(CLUSTER, auth.cluster_role_bindings()))
    projects = {DEFAULT_PROJECT: None, **auth.projects}
    for name in sorted(projects, key=lambda project: (project != DEFAULT_PROJECT, project)):
        access = projects[name]
        bindings = access.role_bindings if access is not None else {}
        creator = access is not None and access.create
        grants.extend(_declared(f"project {name}", bindings, creator=creator))
    for name in sorted(auth.repos):
        grants.extend(_declared(f"repo {name}", auth.repos[name].role_bindings))
    return _with_robot_tokens(grants, auth)


def _with_robot_tokens(grants: list[Grant], auth: AuthSettings) -> list[Grant]:
    """Each robot the stack mints says how long its token lives and where it is delivered.

    A robot bound nowhere still holds a token: it gets a row of its own, with no roles.
    """
    described = []
    for grant in grants:
        robot = auth.robots.get(grant.principal.removeprefix("robot:"))
        if grant.principal.startswith("robot:") and robot is not None:
            grant = replace(grant, source=f"{grant.source}; {_token(robot)}")
        described.append(grant)
    bound = {grant.principal for grant in grants}
    for name, robot in sorted(auth.robots.items()):
        if f"robot:{name}" not in bound:
            described.append(Grant(UNBOUND, f"robot:{name}", (), f"declared; {_token(robot)}"))
    return described


def _token(robot: RobotSettings) -> str:
    secret = f"{robot.secret.namespace}/{robot.secret.name}"
    renewed = robot.rotate_after or f"{robot.rotate_after_seconds // 3600}h"
    return f"token lives {robot.ttl}, renewed after {renewed}, in Secret {secret}"


def as_output(grants: list[Grant]) -> list[dict[str, object]]:
    """The table as the ``access`` stack output: one mapping per grant."""
    return [
        {
            "resource": grant.resource,
            "principal": grant.principal,
            "roles": list(grant.roles),
            "source": grant.source,
        }
        for grant in grants
    ]


def render(grants: list[Grant]) -> str:
    """The table as aligned text columns, one grant a line; no roles print as ``(none)``."""
    rows = [("resource", "principal", "roles", "source")]
    rows += [
        (grant.resource, grant.principal, ", ".join(grant.roles) or "(none)", grant.source)
        for grant in grants
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True))
        + "  "
        + row[3]
        for row in rows
    )
