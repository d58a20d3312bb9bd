"""The access table: who the stack gives which roles where, pachd's own grants marked as such.

Built from the settings alone (``components/access.py``); ``make check`` prints it for a stack
whose ``auth`` is valid, other problems or not, and the program exports it as ``access``.
"""

from __future__ import annotations

import io

from components import program
from components.access import (
    CREATOR,
    DECLARED,
    PACHD_DEFAULT,
    UNBOUND,
    Grant,
    access_table,
    render,
)
from components.settings import load_settings
from scripts import check_stack
from testkit.offline_up import dev_stack, plan_program
from testkit.runtime import drained_event_loop
from testkit.stacks import config_source, dev_auth

P = "pachyderm-okta"
TEAM_AUTH = {
    "clusterAdmins": ["group:pachyderm-admins"],
    "roleBindings": {"allClusterUsers": []},
    "projects": {
        "team-a": {"create": True, "roleBindings": {"group:team-a": ["projectOwner"]}},
        "default": {"roleBindings": {"allClusterUsers": ["projectViewer"]}},
        "legacy": {"roleBindings": {"group:team-b": ["repoReader", "projectViewer"]}},
    },
    "repos": {"team-a/raw": {"roleBindings": {"group:analysts": ["repoReader"]}}},
}


def test_the_table_holds_the_declared_grants_and_pachds_own() -> None:
    auth = load_settings(lambda: config_source(**{f"{P}:auth": TEAM_AUTH})).project.auth

    assert access_table(auth) == [
        Grant("cluster", "allClusterUsers", (), f"{DECLARED} (pachd's default: projectCreator)"),
        Grant("cluster", "group:pachyderm-admins", ("clusterAdmin",), DECLARED),
        Grant("cluster", "internal:auth-server", ("clusterAdmin",), PACHD_DEFAULT),
        Grant("cluster", "pach:root", ("clusterAdmin",), PACHD_DEFAULT),
        Grant(
            "project default",
            "allClusterUsers",
            ("projectViewer",),
            f"{DECLARED} (pachd's default: projectWriter)",
        ),
        Grant("project legacy", "group:team-b", ("projectViewer", "repoReader"), DECLARED),
        Grant("project team-a", "group:team-a", ("projectOwner",), DECLARED),
        Grant("project team-a", "pach:root", ("projectOwner",), CREATOR),
        Grant("repo team-a/raw", "group:analysts", ("repoReader",), DECLARED),
    ]


def test_the_rendered_table_lines_up_and_says_none() -> None:
    grants = [
        Grant("cluster", "allClusterUsers", (), DECLARED),
        Grant("repo team-a/raw", "group:analysts", ("repoReader", "repoWriter"), DECLARED),
    ]

    assert render(grants).splitlines() == [
        "resource         principal        roles                   source",
        "cluster          allClusterUsers  (none)                  declared",
        "repo team-a/raw  group:analysts   repoReader, repoWriter  declared",
    ]


def test_make_check_prints_the_table_of_the_shipped_stack_before_its_problems() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()

    status = check_stack.main(["prod"], stdout, stderr)

    # The shipped file still holds example values: the table shows them as they are.
    assert status == 1
    assert stdout.getvalue().splitlines() == [
        "Pulumi.prod.yaml: access the stack declares (bindings made by hand live only in pachd):",
        "resource         principal                      roles           source",
        "cluster          allClusterUsers                projectCreator  pachd's default",
        "cluster          group:<your-okta-admin-group>  clusterAdmin    declared",
        "cluster          group:<your-okta-data-group>   projectWriter   declared",
        "cluster          internal:auth-server           clusterAdmin    pachd's default",
        "cluster          pach:root                      clusterAdmin    pachd's default",
        "project default  allClusterUsers                projectWriter   pachd's default",
    ]


def test_the_program_exports_the_table() -> None:
    with drained_event_loop():
        plan = plan_program(
            dev_stack("grpc://127.0.0.1:30650", pachyderm_okta__auth=dev_auth(**TEAM_AUTH))
        )

    exported = plan.exports[program.OUTPUT_ACCESS]

    assert exported[0] == {
        "resource": "cluster",
        "principal": "allClusterUsers",
        "roles": [],
        "source": "declared (pachd's default: projectCreator)",
    }
    assert exported[-1] == {
        "resource": "repo team-a/raw",
        "principal": "group:analysts",
        "roles": ["repoReader"],
        "source": "declared",
    }


def test_robots_are_listed_with_their_token_lifetime_and_secret() -> None:
    robots = {
        "ci": {"ttl": "720h", "secret": {"namespace": "ci", "name": "pachyderm-robot-ci"}},
        "etl": {"ttl": "24h", "rotateAfter": "20h", "secret": {"namespace": "etl", "name": "etl"}},
    }
    auth_config = {"robots": robots, "repos": {"team-a/raw": {"roleBindings": {"robot:ci": [
        "repoWriter"]}}}}  # fmt: skip
    auth = load_settings(lambda: config_source(**{f"{P}:auth": auth_config})).project.auth

    robot_grants = [grant for grant in access_table(auth) if grant.principal.startswith("robot:")]

    assert robot_grants == [
        Grant(
            "repo team-a/raw",
            "robot:ci",
            ("repoWriter",),
            f"{DECLARED}; token lives 720h, renewed after 360h, in Secret ci/pachyderm-robot-ci",
        ),
        # A robot bound nowhere still holds a token the stack minted.
        Grant(
            UNBOUND,
            "robot:etl",
            (),
            f"{DECLARED}; token lives 24h, renewed after 20h, in Secret etl/etl",
        ),
    ]
