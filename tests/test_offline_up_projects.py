"""The whole program with a team's project and repo, offline: registrations, up, second up, destroy.

``__main__.py`` under the mocks with the dev stack plus ``auth.projects`` and ``auth.repos``, its
dynamic resources through Pulumi's real dynamic-provider host against a fake pachd 2.12.2: the
project is registered to be retained on delete and its bindings wait for it, a first ``up``
leaves pachd with the declared bindings, a second calls nothing, and destroy gives pachd's
default back on ``default`` and leaves the project. A repo pachd lacks stops ``up`` at its
binding with the stack's key and project, not pachd's words.
"""

from __future__ import annotations

from typing import Any

import pytest
from pachyderm_sdk.api import pfs

from components.naming import name_suffix
from testkit.dynamic_host import HostError
from testkit.fake_pachd import FakePachd
from testkit.offline_up import (
    DYNAMIC_PREFIX,
    HostPool,
    OfflineEngine,
    Plan,
    dev_stack,
    password_value,
    plan_program,
)
from testkit.runtime import drained_event_loop
from testkit.stacks import dev_auth

PROJECTS = {
    "team-a": {"create": True, "roleBindings": {"group:team-a": ["projectOwner"]}},
    "default": {"roleBindings": {"allClusterUsers": []}},
}
REPOS = {"team-a/raw": {"roleBindings": {"group:analysts": ["repoReader"]}}}
ROOT_TOKEN = password_value("auth-root-token")


def _plan(pachd: FakePachd, **auth: Any) -> Plan:
    with drained_event_loop():
        return plan_program(dev_stack(pachd.address, pachyderm_okta__auth=dev_auth(**auth)))


def _by_type(plan: Plan, name: str) -> list[Any]:
    return [r for r in plan.registrations if r.type == f"{DYNAMIC_PREFIX}{name}"]


def test_the_project_is_retained_and_its_bindings_wait_for_it(pachd: FakePachd) -> None:
    plan = _plan(pachd, projects=PROJECTS, repos=REPOS)

    [project] = _by_type(plan, "Project")
    assert project.name == f"auth-project-{name_suffix('team-a')}"
    assert project.plain_inputs["name"] == "team-a"
    assert project.retain_on_delete
    bindings = {r.plain_inputs["project"]: r for r in _by_type(plan, "ProjectRoleBinding")}
    assert project.urn in bindings["team-a"].dependencies
    # `default` is pachd's own: nothing to wait for but activation.
    assert project.urn not in bindings["default"].dependencies
    assert bindings["default"].plain_inputs["roles"] == []
    [repo] = _by_type(plan, "RepoRoleBinding")
    assert repo.plain_inputs["repo"] == "team-a/raw"
    assert project.urn in repo.dependencies


def test_a_team_stack_converges_calls_nothing_again_and_destroy_leaves_the_project(
    hosts: HostPool, pachd: FakePachd
) -> None:
    engine = OfflineEngine(hosts)
    engine.up(_plan(pachd, projects=PROJECTS))
    root = pachd.client(ROOT_TOKEN)
    root.pfs.create_repo(repo=pfs.Repo(name="raw", type="user", project=pfs.Project(name="team-a")))
    engine.up(_plan(pachd, projects=PROJECTS, repos=REPOS))
    bindings = pachd.state.resource_role_bindings

    assert bindings["PROJECT:team-a"] == {
        "pach:root": {"projectOwner"},
        "group:team-a": {"projectOwner"},
    }
    assert bindings["PROJECT:default"] == {}
    assert bindings["REPO:team-a/raw"] == {
        "pach:root": {"repoOwner"},
        "group:analysts": {"repoReader"},
    }

    pachd.reset_calls()
    second = engine.up(_plan(pachd, projects=PROJECTS, repos=REPOS))
    assert second.changed == []
    assert pachd.calls == []

    engine.destroy()

    assert bindings["PROJECT:default"] == {"allClusterUsers": {"projectWriter"}}
    assert bindings["PROJECT:team-a"] == {"pach:root": {"projectOwner"}}
    assert bindings["REPO:team-a/raw"] == {"pach:root": {"repoOwner"}}
    assert "team-a" in pachd.state.projects
    assert "pfs.DeleteProject" not in pachd.calls


def test_a_repo_pachd_lacks_stops_up_at_its_binding_in_the_stacks_words(
    hosts: HostPool, pachd: FakePachd
) -> None:
    engine = OfflineEngine(hosts)

    with pytest.raises(HostError) as raised:
        engine.up(_plan(pachd, projects=PROJECTS, repos=REPOS))

    message = str(raised.value)
    assert (
        "pachyderm-okta:auth.repos[\"team-a/raw\"]: pachd has no repo 'raw' in project "
        "'team-a', so 'group:analysts' cannot be bound to it"
    ) in message
    assert "no role binding exists" not in message
    # Everything before it converged: the project exists, a re-run resumes from there.
    assert "team-a" in pachd.state.projects
    assert pachd.state.repos == set()
