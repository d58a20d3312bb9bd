"""One principal's role binding on one project, or on one repo.

The cluster binding's lifecycle (``role_binding.BindingProvider``): create reads the roles held
before and delete gives them back. pachd keeps a binding per project and repo from the moment it
exists, and refuses a binding on one it lacks (docs/decisions.md, decision 48): that refusal is
told in the stack's terms, naming the config key and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TypeVar

import pulumi
from pachyderm_sdk.api import auth

from components.pachyderm_auth.base import PachdArgs, PachdResource
from components.pachyderm_auth.props import Props
from components.pachyderm_auth.role_binding import BindingProvider, RoleBindingState
from components.settings.messages import config_key
from components.settings.namespaces import PROJECT


class ProjectBindingState(RoleBindingState):
    """A principal's roles on the project ``project``."""

    project: str


class RepoBindingState(RoleBindingState):
    """A principal's roles on the repo ``repo`` (``<project>/<repo>``, pachd's resource name)."""

    repo: str


N = TypeVar("N", bound=RoleBindingState)


def project_key(project: str) -> str:
    """The stack key that declares ``project``'s bindings."""
    return config_key((PROJECT, "auth", "projects", project))


def repo_key(repo: str) -> str:
    """The stack key that declares ``repo``'s bindings."""
    return config_key((PROJECT, "auth", "repos", repo))


class _NamedResourceBindingProvider(BindingProvider[N]):
    """A binding on the project or repo whose pachd name is the state's ``name_field``."""

    resource_type: ClassVar[auth.ResourceType]
    name_field: ClassVar[str]

    def _name(self, state: N) -> str:
        return str(getattr(state, self.name_field))

    def _id(self, props: Props[N]) -> str:
        return f"{self.name_field}/{self._name(props.state)}/{props.state.principal}"

    def _resource(self, state: N) -> auth.Resource:
        return auth.Resource(type=self.resource_type, name=self._name(state))


class ProjectRoleBindingProvider(_NamedResourceBindingProvider[ProjectBindingState]):
    """One principal's roles on one project."""

    state_model = ProjectBindingState
    resource_kind = "project role binding"
    resource_type = auth.ResourceType.PROJECT
    name_field = "project"
    replace_on = frozenset({"principal", "project"})

    def _missing(self, state: ProjectBindingState) -> str:
        project = state.project
        return (
            f"{project_key(project)}: pachd has no project {project!r}, so {state.principal!r} "
            f"cannot be bound to it; set `create: true` for it, or create it first "
            f"(`pachctl create project {project}`)"
        )


class RepoRoleBindingProvider(_NamedResourceBindingProvider[RepoBindingState]):
    """One principal's roles on one repo."""

    state_model = RepoBindingState
    resource_kind = "repo role binding"
    resource_type = auth.ResourceType.REPO
    name_field = "repo"
    replace_on = frozenset({"principal", "repo"})

    def _missing(self, state: RepoBindingState) -> str:
        project, _, repo = state.repo.partition("/")
        return (
            f"{repo_key(state.repo)}: pachd has no repo {repo!r} in project {project!r}, so "
            f"{state.principal!r} cannot be bound to it; repos belong to pipelines and users, "
            f"not to this stack: create it (`pachctl create repo {repo} --project {project}`) "
            "or remove the key"
        )


@dataclass(frozen=True)
class ProjectBindingArgs(PachdArgs):
    """Inputs of :class:`ProjectRoleBinding` beside the connection."""

    project: str
    principal: str
    roles: list[str]


@dataclass(frozen=True)
class RepoBindingArgs(PachdArgs):
    """Inputs of :class:`RepoRoleBinding` beside the connection."""

    repo: str
    principal: str
    roles: list[str]


class ProjectRoleBinding(
    PachdResource[ProjectBindingArgs], module="pachyderm", name="ProjectRoleBinding"
):
    """One principal's roles on one project."""

    provider_type = ProjectRoleBindingProvider
    roles_before: pulumi.Output[list[str]]
    """The principal's roles on the project before this binding; destroy restores them."""


class RepoRoleBinding(PachdResource[RepoBindingArgs], module="pachyderm", name="RepoRoleBinding"):
    """One principal's roles on one repo."""

    provider_type = RepoRoleBindingProvider
    roles_before: pulumi.Output[list[str]]
    """The principal's roles on the repo before this binding; destroy restores them."""
