"""A Pachyderm project the stack makes sure exists (``pachyderm-okta:auth.projects.<name>.create``).

Created when pachd lacks it, as ``pach:root``, whom pachd makes its projectOwner; one that exists
already is taken as is. Never deleted: a project holds its teams' repos and pipelines, so destroy
leaves it (the resource is also registered with ``retain_on_delete``, which the preview shows as
``delete[retain]``). docs/decisions.md, decision 48.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
import pulumi
from pachyderm_sdk.api import pfs

from components.pachyderm_auth.base import PachdArgs, PachdProvider, PachdResource
from components.pachyderm_auth.pachd import is_status, pachd_client, unless_gone
from components.pachyderm_auth.props import PachdState, Props

# pachd's InspectProject on a project it lacks: NOT_FOUND `... project "<name>" not found`.
_NOT_FOUND = "not found"


class ProjectState(PachdState):
    """The project's name."""

    name: str


class ProjectProvider(PachdProvider[ProjectState]):
    """Makes sure the project exists; delete leaves it, with its data."""

    state_model = ProjectState
    resource_kind = "project"
    replace_on = frozenset({"name"})
    output_fields = ("created",)

    def _id(self, props: Props[ProjectState]) -> str:
        return f"project/{props.state.name}"

    def _apply(
        self, props: Props[ProjectState], previous: Props[ProjectState] | None
    ) -> dict[str, Any]:
        project = pfs.Project(name=props.state.name)
        with pachd_client(props.connection) as client:
            try:
                client.pfs.create_project(project=project)
            except grpc.RpcError as error:
                # Made by hand, or by a run whose answer was lost: the same project.
                if is_status(error, grpc.StatusCode.ALREADY_EXISTS):
                    return {"created": False}
                raise
        return {"created": True}

    def _read(self, props: Props[ProjectState]) -> dict[str, Any] | None:
        project = pfs.Project(name=props.state.name)
        with pachd_client(props.connection) as client:
            found = unless_gone(lambda: client.pfs.inspect_project(project=project), _NOT_FOUND)
        return None if found is None else {"name": found.project.name}

    def _remove(self, props: Props[ProjectState]) -> None:
        # Never deleted: it holds data the stack does not own.
        return


@dataclass(frozen=True)
class ProjectArgs(PachdArgs):
    """Inputs of :class:`PachydermProject` beside the connection."""

    name: str


class PachydermProject(PachdResource[ProjectArgs], module="pachyderm", name="Project"):
    """A project that exists while the stack names it, and after."""

    provider_type = ProjectProvider
    created: pulumi.Output[bool]
    """Whether this stack created it (pachd then made ``pach:root`` its projectOwner)."""
