"""Project and repo role bindings, and the projects the stack creates, against a fake pachd.

The providers are called directly (no Pulumi host). They keep the cluster binding's rules: one
read of what the principal held and one write to create, the held roles given back on delete, a
removed binding read as gone, an empty role list as a binding of its own. A project or repo pachd
lacks is refused in the stack's words (the key and the project), never pachd's raw "no role
binding exists"; a project the stack creates is owned by ``pach:root`` and never deleted.
"""

from __future__ import annotations

from typing import Any

import pytest
from pachyderm_sdk.api import pfs

from components.pachyderm_auth.activation import ActivationProvider
from components.pachyderm_auth.pachd import PachdError
from components.pachyderm_auth.pachd_project import ProjectProvider
from components.pachyderm_auth.resource_binding import (
    ProjectRoleBindingProvider,
    RepoRoleBindingProvider,
)
from components.pachyderm_auth.role_binding import RoleBindingProvider
from testkit.auth_props import AuthProps
from testkit.fake_pachd import FakePachd

ROOT = "test-root-token-resource-bindings-0001"
PROPS = AuthProps(
    root_token=ROOT,
    license_key="",
    enterprise_secret="",
    pachd_secret="test-pachd-client-secret-resource-bindings-0002",
    okta_secret="test-okta-client-secret-resource-bindings-0003",
    timeout_seconds=2,
)
TEAM_A = pfs.Project(name="team-a")
RAW = pfs.Repo(name="raw", type="user", project=TEAM_A)
BIND = ["auth.GetRoleBinding", "auth.ModifyRoleBinding"]


def _activate(fake: FakePachd) -> None:
    """Auth active as the program activates it (PFS's ActivateAuth included), calls forgotten."""
    ActivationProvider().create({**PROPS.activation(fake.address), "root_token": ROOT})
    fake.reset_calls()


def _project(fake: FakePachd, name: str = "team-a") -> dict[str, Any]:
    return {**PROPS.connection(fake.address), "name": name}


def _project_binding(
    fake: FakePachd, principal: str = "group:team-a", *roles: str, project: str = "team-a"
) -> dict[str, Any]:
    chosen = list(roles) if roles else ["projectOwner"]
    return {**PROPS.connection(fake.address), "project": project, "principal": principal,
            "roles": chosen}  # fmt: skip


def _repo_binding(
    fake: FakePachd, principal: str = "group:analysts", *roles: str, repo: str = "team-a/raw"
) -> dict[str, Any]:
    chosen = list(roles) if roles else ["repoReader"]
    return {**PROPS.connection(fake.address), "repo": repo, "principal": principal,
            "roles": chosen}  # fmt: skip


def _bindings(fake: FakePachd, key: str) -> dict[str, set[str]] | None:
    return fake.state.resource_role_bindings.get(key)


# --- projects -----------------------------------------------------------------------------------


def test_a_project_is_created_once_owned_by_root_and_never_deleted(fake: FakePachd) -> None:
    _activate(fake)
    provider = ProjectProvider()

    created = provider.create(_project(fake))

    assert fake.calls == ["pfs.CreateProject"]
    assert created.id == "project/team-a"
    assert created.outs == {**_project(fake), "created": True}
    # pachd makes the creator the projectOwner (createProjectInTransaction).
    assert _bindings(fake, "PROJECT:team-a") == {"pach:root": {"projectOwner"}}
    assert provider.read(created.id, created.outs).outs == created.outs

    fake.reset_calls()
    provider.delete(created.id, created.outs)

    assert fake.calls == []
    assert "team-a" in fake.state.projects


def test_a_project_that_exists_is_taken_as_is(fake: FakePachd) -> None:
    _activate(fake)
    fake.client(ROOT).pfs.create_project(project=TEAM_A)
    fake.reset_calls()

    created = ProjectProvider().create(_project(fake))

    assert fake.calls == ["pfs.CreateProject"]
    assert created.outs == {**_project(fake), "created": False}


def test_a_project_deleted_by_hand_reads_as_gone(fake: FakePachd) -> None:
    _activate(fake)
    provider = ProjectProvider()
    created = provider.create(_project(fake))
    assert created.outs is not None
    fake.client(ROOT).pfs.delete_project(project=TEAM_A)

    assert provider.read(created.id, created.outs).id is None


# --- project bindings ---------------------------------------------------------------------------


def test_project_binding_create_read_update_delete(fake: FakePachd) -> None:
    _activate(fake)
    ProjectProvider().create(_project(fake))
    provider = ProjectRoleBindingProvider()
    fake.reset_calls()

    created = provider.create(_project_binding(fake))

    assert fake.calls == BIND
    assert created.id == "project/team-a/group:team-a"
    assert created.outs == {**_project_binding(fake), "roles_before": []}
    assert _bindings(fake, "PROJECT:team-a") == {
        "pach:root": {"projectOwner"},
        "group:team-a": {"projectOwner"},
    }
    assert provider.read(created.id, created.outs).outs == created.outs

    news = _project_binding(fake, "group:team-a", "projectWriter", "repoReader")
    fake.reset_calls()
    updated = provider.update(created.id, created.outs, news)
    assert fake.calls == ["auth.ModifyRoleBinding"]
    assert updated.outs == {**news, "roles_before": []}

    fake.reset_calls()
    provider.delete(created.id, updated.outs)
    assert fake.calls == ["auth.ModifyRoleBinding"]
    assert _bindings(fake, "PROJECT:team-a") == {"pach:root": {"projectOwner"}}
    assert provider.read(created.id, updated.outs).id is None


def test_all_cluster_users_lose_and_get_back_pachds_default_on_the_default_project(
    fake: FakePachd,
) -> None:
    # pfs ActivateAuth binds allClusterUsers to projectWriter on `default`
    # (ActivateAuthInTransaction, src/server/pfs/server/api_server.go, 2.11.x and 2.12.x).
    _activate(fake)
    assert _bindings(fake, "PROJECT:default") == {"allClusterUsers": {"projectWriter"}}
    provider = ProjectRoleBindingProvider()
    locked = {**_project_binding(fake, "allClusterUsers", project="default"), "roles": []}

    created = provider.create(locked)

    assert created.outs is not None
    assert created.outs["roles_before"] == ["projectWriter"]
    assert _bindings(fake, "PROJECT:default") == {}
    # No roles declared and none held: in place, not gone.
    assert provider.read(created.id, created.outs).outs == created.outs

    provider.delete(created.id, created.outs)

    assert _bindings(fake, "PROJECT:default") == {"allClusterUsers": {"projectWriter"}}


def test_a_locked_down_binding_that_regained_roles_reads_as_drift(fake: FakePachd) -> None:
    _activate(fake)
    provider = ProjectRoleBindingProvider()
    locked = {**_project_binding(fake, "allClusterUsers", project="default"), "roles": []}
    created = provider.create(locked)
    assert created.outs is not None
    fake.state.resource_role_bindings["PROJECT:default"]["allClusterUsers"] = {"projectViewer"}

    read = provider.read(created.id, created.outs)

    assert read.outs is not None
    assert read.outs["roles"] == ["projectViewer"]


def test_a_binding_on_a_missing_project_names_the_key_and_the_project(fake: FakePachd) -> None:
    _activate(fake)

    with pytest.raises(PachdError) as raised:
        ProjectRoleBindingProvider().create(_project_binding(fake))

    # pachd answers `no role binding exists for PROJECT team-a`; nothing was written.
    assert str(raised.value) == (
        "pachyderm-okta:auth.projects[\"team-a\"]: pachd has no project 'team-a', so "
        "'group:team-a' cannot be bound to it; set `create: true` for it, or create it first "
        "(`pachctl create project team-a`)"
    )
    assert fake.calls == BIND
    assert _bindings(fake, "PROJECT:team-a") is None


def test_deleting_a_binding_of_a_project_deleted_meanwhile_succeeds(fake: FakePachd) -> None:
    _activate(fake)
    ProjectProvider().create(_project(fake))
    provider = ProjectRoleBindingProvider()
    created = provider.create(_project_binding(fake))
    assert created.outs is not None
    fake.client(ROOT).pfs.delete_project(project=TEAM_A)

    provider.delete(created.id, created.outs)

    assert "team-a" not in fake.state.projects


def test_moving_a_binding_to_another_project_replaces_it(fake: FakePachd) -> None:
    diff = ProjectRoleBindingProvider().diff(
        "x", _project_binding(fake), _project_binding(fake, project="team-b")
    )
    assert diff.replaces == ["project"]
    assert fake.calls == []


# --- repo bindings ------------------------------------------------------------------------------


def test_repo_binding_create_and_delete_give_back_what_was_held(fake: FakePachd) -> None:
    _activate(fake)
    root = fake.client(ROOT)
    root.pfs.create_project(project=TEAM_A)
    root.pfs.create_repo(repo=RAW)
    fake.state.resource_role_bindings["REPO:team-a/raw"]["group:analysts"] = {"repoWriter"}
    provider = RepoRoleBindingProvider()
    fake.reset_calls()

    created = provider.create(_repo_binding(fake))

    assert fake.calls == BIND
    assert created.id == "repo/team-a/raw/group:analysts"
    assert created.outs is not None
    assert created.outs["roles_before"] == ["repoWriter"]
    assert _bindings(fake, "REPO:team-a/raw") == {
        "pach:root": {"repoOwner"},
        "group:analysts": {"repoReader"},
    }

    provider.delete(created.id, created.outs)

    assert _bindings(fake, "REPO:team-a/raw") == {
        "pach:root": {"repoOwner"},
        "group:analysts": {"repoWriter"},
    }


def test_a_binding_on_a_missing_repo_names_the_key_and_the_project(fake: FakePachd) -> None:
    _activate(fake)
    fake.client(ROOT).pfs.create_project(project=TEAM_A)

    with pytest.raises(PachdError) as raised:
        RepoRoleBindingProvider().create(_repo_binding(fake))

    assert str(raised.value) == (
        "pachyderm-okta:auth.repos[\"team-a/raw\"]: pachd has no repo 'raw' in project "
        "'team-a', so 'group:analysts' cannot be bound to it; repos belong to pipelines and "
        "users, not to this stack: create it (`pachctl create repo raw --project team-a`) or "
        "remove the key"
    )


def test_a_locked_down_cluster_takes_project_creator_away_until_destroy(fake: FakePachd) -> None:
    # `roleBindings: {allClusterUsers: []}`: the cluster binding holds no roles while it exists.
    _activate(fake)
    provider = RoleBindingProvider()
    locked = {**PROPS.binding(fake.address, "allClusterUsers"), "roles": []}

    created = provider.create(locked)

    assert created.outs is not None
    assert created.outs["roles_before"] == ["projectCreator"]
    assert "allClusterUsers" not in fake.state.cluster_role_bindings
    assert provider.read(created.id, created.outs).outs == created.outs

    provider.delete(created.id, created.outs)

    assert fake.state.cluster_role_bindings["allClusterUsers"] == {"projectCreator"}
