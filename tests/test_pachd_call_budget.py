"""Each change between two ``pulumi up`` runs costs pachd only what changed.

The bench's own measurements (``testkit.change_costs``): the dev stack's first ``up`` against a
fresh fake pachd, then ``preview`` and ``up`` with one change, every dynamic resource through
Pulumi's real dynamic-provider host configured with the stack config, as the engine configures it.
Asserted call for call, with what ``pulumi preview`` would show: a change that writes nothing to
pachd previews as no change at all.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from testkit.change_costs import CHANGES, Change, Measured, measure_changes
from testkit.offline_up import HostPool
from testkit.runtime import drained_event_loop, pickler_restored

ROTATION = ["version.GetVersion", "auth.RotateRootToken"]
CONNECTOR_UPDATE = ["identity.GetIDPConnector", "identity.UpdateIDPConnector"]
BINDING_CREATE = ["auth.GetRoleBinding", "auth.ModifyRoleBinding"]
DEFAULT_PROJECT_BINDING = "auth-project-binding-default-group-data-team-39bfb4ef"
EVERY_DYNAMIC_RESOURCE = [
    "auth-activation",
    "auth-binding-allclusterusers-b72cc0ee",
    "auth-binding-group-pachyderm-admins-8c31b75d",
    "auth-connector",
    "auth-console-client",
    "auth-identity",
    "auth-oidc-config",
    "auth-pachd-client",
]
EXPECTED: dict[str, tuple[list[str], list[str]]] = {
    # change: (pachd calls of the second up, resources the preview shows as changing)
    "none (second up)": ([], []),
    "auth.callTimeoutSeconds 30 -> 31": ([], []),
    "pachd address, same cluster": ([], []),
    "pachdAccess direct -> portForward": ([], []),
    "pachd pod replaced behind the port-forward": ([], []),
    "root token set in config": (ROTATION, ["auth-activation"]),
    # A minted token is nowhere but in the state, so every resource stores the new one - an
    # update without a pachd call - to reach pachd with it later (docs/decisions-provider.md).
    "root token re-minted": (ROTATION, EVERY_DYNAMIC_RESOURCE),
    "Okta client secret": (CONNECTOR_UPDATE, ["auth-connector"]),
    "principal added": (
        ["auth.GetRoleBinding", "auth.ModifyRoleBinding"],
        ["auth-binding-group-data-team-086f8300"],
    ),
    "principal removed": (["auth.ModifyRoleBinding"], ["auth-binding-allclusterusers-b72cc0ee"]),
    "principal's roles changed": (
        ["auth.ModifyRoleBinding"],
        ["auth-binding-allclusterusers-b72cc0ee"],
    ),
    "project binding added": (BINDING_CREATE, [DEFAULT_PROJECT_BINDING]),
    "project binding removed": (["auth.ModifyRoleBinding"], [DEFAULT_PROJECT_BINDING]),
    # The project before its binding; a project the stack creates is never deleted.
    "project created, with a binding": (
        ["pfs.CreateProject", *BINDING_CREATE],
        [
            "auth-project-binding-cost-created-group-team-5999309f",
            "auth-project-cost-created-9a06c355",
        ],
    ),
    "repo binding added": (
        BINDING_CREATE,
        ["auth-repo-binding-cost-team-raw-group-analysts-65f67b55"],
    ),
    "connector name": (CONNECTOR_UPDATE, ["auth-connector"]),
    "connector scopes": (CONNECTOR_UPDATE, ["auth-connector"]),
    # The connector (Dex) and pachd's OIDC config both carry it (docs/decisions.md, decision 46).
    "skip-email setting": (
        [*CONNECTOR_UPDATE, "auth.SetConfiguration"],
        ["auth-connector", "auth-oidc-config"],
    ),
    # A stack deployed by a version before getUserInfo (docs/decisions.md, decision 28).
    "program upgrade: connector gains getUserInfo": (CONNECTOR_UPDATE, ["auth-connector"]),
    # The token is minted with its lifetime, which WhoAmI with the new token reads back; the
    # first rotation revokes nothing (the replaced token stays valid until the next).
    "robot added": (["auth.GetRobotToken", "auth.WhoAmI"], ["auth-robot-ci"]),
    "robot rotation asked (make rotate-robot)": (
        ["auth.GetRobotToken", "auth.WhoAmI"],
        ["auth-robot-ci"],
    ),
    # The new key is applied at once, and only licence calls are made (no auth call).
    "2.11 licence change": (
        ["version.GetVersion", "license.Activate", "enterprise.Activate"],
        ["auth-activation"],
    ),
}


@pytest.fixture(scope="module")
def measurements() -> Iterator[dict[str, Measured]]:
    with drained_event_loop(), pickler_restored(), HostPool() as hosts:
        yield {result.change.label: result for result in measure_changes(hosts)}


def test_every_change_of_the_table_is_measured() -> None:
    assert [change.label for change in CHANGES] == list(EXPECTED)


@pytest.mark.parametrize("change", CHANGES, ids=lambda change: change.label)
def test_pachd_calls_and_preview_of_each_change(
    measurements: dict[str, Measured], change: Change
) -> None:
    result = measurements[change.label]
    calls, previewed = EXPECTED[change.label]
    # Independent resources converge in no fixed order; each one reads before it writes.
    assert sorted(result.calls.calls) == sorted(calls)
    assert [call for call in result.calls.calls if call in CONNECTOR_UPDATE] == [
        call for call in calls if call in CONNECTOR_UPDATE
    ]
    assert list(result.previewed) == previewed
    assert result.within_budget
