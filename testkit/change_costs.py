"""pachd calls per kind of change between two ``pulumi up`` runs, against the allowed budget.

Each change starts from a freshly installed fake pachd (one server per pachd version, wiped
between changes, so its address - part of the stack config - stays the same; 2.12.2 unless the
change is about 2.11): a first ``up`` of the dev stack (the
"before" side), then ``preview`` and ``up`` with the "after" side, through
:class:`OfflineEngine` and Pulumi's real dynamic-provider host configured with each side's stack
config (as the engine configures it), reaching pachd directly or through a stand-in Kubernetes
API's port-forward (``testkit/kube_api.py``). The calls the second ``up`` sends pachd are
counted and checked against the budget; the preview records which resources it would show as
changing (and makes no call).

``python -m bench`` prints these measurements as its cost-per-change table and
``tests/test_pachd_call_budget.py`` asserts them call for call, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol
from unittest import mock

import grpc
from pachyderm_sdk import Client
from pachyderm_sdk.api import pfs

from components import dex
from components.pachyderm_auth.pachd import is_status
from testkit.call_counts import CallLog, Calls
from testkit.dynamic_host import DiffKind
from testkit.fake_pachd import FakePachd
from testkit.kube_api import KubeApiStandIn
from testkit.offline_up import (
    HostPool,
    OfflineEngine,
    Plan,
    Stack,
    World,
    password_value,
    plan_program,
)
from testkit.stacks import TEST_SECRETS, dev_auth, dev_pachyderm, stack_config

ADOPTED_TOKEN = "bench-adopted-root-token-0008"
ROTATED_TOKEN = "bench-rotated-root-token-0009"
REMINTED_TOKEN = "bench-reminted-root-token-0010"
ROTATED_OKTA_SECRET = "bench-rotated-okta-client-secret-0011"
RENEWED_LICENSE_KEY = "bench-renewed-license-key-0012"
LEGACY_PACHD = (2, 11, 6)
ROOT_TOKEN_RESOURCE = "auth-root-token"
NAMESPACE = "pachyderm"
# A team's project and repo the cost rows bind (and the created-project row creates); names no
# other test uses, since a real pachd keeps projects and repos across the tier's wipes.
COST_PROJECT = "cost-team"
COST_REPO = "raw"
CREATED_PROJECT = "cost-created"


class MeasuredPachd(CallLog, Protocol):
    """What a change is measured against: the fake, or the real pachd behind a counting proxy."""

    port: int

    @property
    def address(self) -> str:
        """Where the stack reaches pachd."""

    def wipe(self) -> None:
        """Back to a pachd the stack has never touched."""


@dataclass(frozen=True)
class Side:
    """One side of a change: the stack's config overrides, the mocks' world, the scopes."""

    overrides: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, str] | None = None
    world: World = field(default_factory=World)
    connector_scopes: tuple[str, ...] | None = None
    connector_without: tuple[str, ...] = ()
    """Connector keys an earlier version of the program did not set (an upgrade's first side)."""
    address: Callable[[str], str] = lambda address: address
    """The pachd address the stack names, given the fake's own."""
    port_forward: bool = False
    """Reach pachd through the stand-in Kubernetes API (``pachdAccess: portForward``) instead."""

    def stack(self, pachd: MeasuredPachd, api: KubeApiStandIn) -> Stack:
        """The config and secret keys this side runs with against ``pachd``."""
        secrets = {"okta:apiToken": TEST_SECRETS["okta:apiToken"], **(self.secrets or {})}
        if self.port_forward:
            return stack_config(
                "dev",
                secrets={**secrets, "kubernetes:kubeconfig": api.kubeconfig()},
                pachyderm_okta__pachdAccess="portForward",
                kubernetes__context="stand-in",
                **self.overrides,
            )
        return stack_config(
            "dev",
            secrets=secrets,
            pachyderm_okta__pachdAddress=self.address(pachd.address),
            **self.overrides,
        )

    def plan(self, pachd: MeasuredPachd, api: KubeApiStandIn) -> Plan:
        """The program's registrations for this side."""
        scopes = (
            mock.patch.object(dex, "OKTA_CONNECTOR_SCOPES", self.connector_scopes)
            if self.connector_scopes is not None
            else nullcontext()
        )
        with scopes, self._earlier_connector():
            return plan_program(self.stack(pachd, api), world=self.world)

    def _earlier_connector(self) -> AbstractContextManager[object]:
        if not self.connector_without:
            return nullcontext()
        build = dex.okta_connector_config
        without = self.connector_without

        def earlier(**kwargs: Any) -> dict[str, Any]:
            return {k: v for k, v in build(**kwargs).items() if k not in without}

        return mock.patch.object(dex, "okta_connector_config", earlier)


def _adopted(token: str) -> Side:
    return Side(secrets={"pachyderm-okta:rootToken": token})


def _licensed(key: str) -> Side:
    """The dev stack on chart 2.11.6 with licence ``key``."""
    return Side(
        overrides={"pachyderm_okta__pachyderm": dev_pachyderm(chartVersion="2.11.6")},
        secrets={"pachyderm-okta:licenseKey": key},
    )


ONE_CONNECTOR_WRITE = ("identity.GetIDPConnector", "identity.UpdateIDPConnector")
ONE_BINDING_WRITE = ("auth.ModifyRoleBinding",)
# A new binding first reads what the principal held, which its delete gives back.
ONE_BINDING_CREATE = ("auth.GetRoleBinding", "auth.ModifyRoleBinding")
# The project first (pachd makes it, or answers it exists), then its binding.
PROJECT_CREATE = ("pfs.CreateProject", *ONE_BINDING_CREATE)
ROTATION = ("version.GetVersion", "auth.RotateRootToken")
# A robot's token minted, and its expiry read back with it.
ROBOT_TOKEN_MINTED = ("auth.GetRobotToken", "auth.WhoAmI")
COST_ROBOT = {"ttl": "720h", "secret": {"namespace": "ci", "name": "pachyderm-robot-ci"}}
LICENCE_CHANGE = ("version.GetVersion", "license.Activate", "enterprise.Activate")


@dataclass(frozen=True)
class Change:
    """A change between two ups and the pachd calls it may cost."""

    label: str
    allowed: str
    before: Side
    after: Side
    within: Callable[[Calls], bool]
    pachd_version: tuple[int, int, int] = (2, 12, 2)
    between: Callable[[KubeApiStandIn], None] = lambda _api: None
    """What happens in the cluster between the two ups."""
    in_pachd: Callable[[MeasuredPachd], None] = lambda _pachd: None
    """What someone does in pachd between the two ups (as root, e.g. ``pachctl create repo``)."""


def _team_repo_made(pachd: MeasuredPachd) -> None:
    """The team's project and repo, made by hand with the stack's root token (if not there yet)."""
    root = Client(host="127.0.0.1", port=pachd.port, auth_token=password_value(ROOT_TOKEN_RESOURCE))
    project = pfs.Project(name=COST_PROJECT)
    for make in (
        lambda: root.pfs.create_project(project=project),
        lambda: root.pfs.create_repo(repo=pfs.Repo(name=COST_REPO, type="user", project=project)),
    ):
        try:
            make()
        except grpc.RpcError as error:
            if not is_status(error, grpc.StatusCode.ALREADY_EXISTS):
                raise


def _projects(**projects: Any) -> Side:
    return Side(overrides={"pachyderm_okta__auth": dev_auth(projects=projects)})


def _none(calls: Calls) -> bool:
    return calls.total == 0


def _no_writes(calls: Calls) -> bool:
    return calls.writes == ()


def _rotation(calls: Calls) -> bool:
    return calls.writes == ("auth.RotateRootToken",) and len(calls.reads) <= 1


def _exactly(expected: tuple[str, ...]) -> Callable[[Calls], bool]:
    return lambda calls: calls.calls == expected


def _in_any_order(expected: tuple[str, ...]) -> Callable[[Calls], bool]:
    """Calls to resources that do not depend on each other, made in no fixed order."""
    return lambda calls: sorted(calls.calls) == sorted(expected)


CHANGES: tuple[Change, ...] = (
    Change("none (second up)", "0", Side(), Side(), _none),
    Change(
        "auth.callTimeoutSeconds 30 -> 31",
        "0 writes",
        Side(),
        Side(overrides={"pachyderm_okta__auth": dev_auth(callTimeoutSeconds=31)}),
        _no_writes,
    ),
    Change(
        "pachd address, same cluster",
        "0 writes",
        Side(),
        Side(address=lambda address: address.replace("127.0.0.1", "localhost")),
        _no_writes,
    ),
    Change(
        "pachdAccess direct -> portForward",
        "0 writes",
        Side(),
        Side(port_forward=True),
        _none,
    ),
    Change(
        "pachd pod replaced behind the port-forward",
        "0 writes",
        Side(port_forward=True),
        Side(port_forward=True),
        _none,
        between=lambda api: api.restart_pod(NAMESPACE, "pachd-0", "pachd-1"),
    ),
    Change(
        "root token set in config",
        "1 write: RotateRootToken",
        _adopted(ADOPTED_TOKEN),
        _adopted(ROTATED_TOKEN),
        _rotation,
    ),
    Change(
        "root token re-minted",
        "1 write: RotateRootToken",
        Side(),
        Side(world=World(passwords={ROOT_TOKEN_RESOURCE: REMINTED_TOKEN})),
        _rotation,
    ),
    Change(
        "Okta client secret",
        "1 read + 1 write",
        Side(),
        Side(world=World(okta_client_secret=ROTATED_OKTA_SECRET)),
        _exactly(ONE_CONNECTOR_WRITE),
    ),
    Change(
        "principal added",
        "1 read + 1 write",
        Side(),
        Side(
            overrides={
                "pachyderm_okta__auth": dev_auth(
                    roleBindings={
                        "allClusterUsers": ["projectViewer"],
                        "group:data-team": ["repoReader"],
                    }
                )
            }
        ),
        _exactly(ONE_BINDING_CREATE),
    ),
    Change(
        "principal removed",
        "1 write",
        Side(),
        Side(overrides={"pachyderm_okta__auth": dev_auth(roleBindings={})}),
        _exactly(ONE_BINDING_WRITE),
    ),
    Change(
        "principal's roles changed",
        "1 write",
        Side(),
        Side(
            overrides={
                "pachyderm_okta__auth": dev_auth(
                    roleBindings={"allClusterUsers": ["projectWriter"]}
                )
            }
        ),
        _exactly(ONE_BINDING_WRITE),
    ),
    Change(
        "project binding added",
        "1 read + 1 write",
        Side(),
        _projects(default={"roleBindings": {"group:data-team": ["projectViewer"]}}),
        _exactly(ONE_BINDING_CREATE),
    ),
    Change(
        "project binding removed",
        "1 write",
        _projects(default={"roleBindings": {"group:data-team": ["projectViewer"]}}),
        Side(),
        _exactly(ONE_BINDING_WRITE),
    ),
    Change(
        "project created, with a binding",
        "1 project write + 1 read + 1 write",
        Side(),
        _projects(
            **{CREATED_PROJECT: {"create": True, "roleBindings": {"group:team": ["projectOwner"]}}}
        ),
        _exactly(PROJECT_CREATE),
    ),
    Change(
        "repo binding added",
        "1 read + 1 write",
        Side(),
        Side(
            overrides={
                "pachyderm_okta__auth": dev_auth(
                    repos={
                        f"{COST_PROJECT}/{COST_REPO}": {
                            "roleBindings": {"group:analysts": ["repoReader"]}
                        }
                    }
                )
            }
        ),
        _exactly(ONE_BINDING_CREATE),
        in_pachd=_team_repo_made,
    ),
    Change(
        "connector name",
        "1 read + 1 write",
        Side(),
        Side(overrides={"pachyderm_okta__auth": dev_auth(connectorName="Okta SSO")}),
        _exactly(ONE_CONNECTOR_WRITE),
    ),
    Change(
        "connector scopes",
        "1 read + 1 write",
        Side(),
        Side(connector_scopes=(*dex.OKTA_CONNECTOR_SCOPES, "address")),
        _exactly(ONE_CONNECTOR_WRITE),
    ),
    Change(
        "skip-email setting",
        "1 read + 2 writes",
        Side(),
        Side(overrides={"pachyderm_okta__auth": dev_auth(skipEmailVerified=False)}),
        _in_any_order((*ONE_CONNECTOR_WRITE, "auth.SetConfiguration")),
    ),
    Change(
        "program upgrade: connector gains getUserInfo",
        "1 read + 1 write",
        Side(connector_without=("getUserInfo",)),
        Side(),
        _exactly(ONE_CONNECTOR_WRITE),
    ),
    Change(
        "robot added",
        "1 read + 1 write",
        Side(),
        Side(overrides={"pachyderm_okta__auth": dev_auth(robots={"ci": COST_ROBOT})}),
        _exactly(ROBOT_TOKEN_MINTED),
    ),
    Change(
        "robot rotation asked (make rotate-robot)",
        "1 read + 1 write",
        Side(overrides={"pachyderm_okta__auth": dev_auth(robots={"ci": COST_ROBOT})}),
        Side(
            overrides={
                "pachyderm_okta__auth": dev_auth(robots={"ci": COST_ROBOT | {"rotation": 1}})
            }
        ),
        _exactly(ROBOT_TOKEN_MINTED),
    ),
    Change(
        "2.11 licence change",
        "1 read + 2 licence writes",
        _licensed(TEST_SECRETS["pachyderm-okta:licenseKey"]),
        _licensed(RENEWED_LICENSE_KEY),
        _exactly(LICENCE_CHANGE),
        pachd_version=LEGACY_PACHD,
    ),
)


@dataclass(frozen=True)
class Measured:
    """What one change cost: pachd calls of the second up, and what its preview showed."""

    change: Change
    calls: Calls
    previewed: tuple[str, ...]
    """Resource names the preview shows as changing (created, updated, replaced, deleted)."""
    engine: OfflineEngine

    @property
    def within_budget(self) -> bool:
        """Whether the calls are within the change's budget."""
        return self.change.within(self.calls)


def previewed_changes(engine: OfflineEngine, plan: Plan) -> tuple[str, ...]:
    """Names of the resources ``pulumi preview`` would show as changing."""
    kinds = engine.preview(plan)
    changed = {urn for urn, kind in kinds.items() if kind != DiffKind.NONE}
    removed = {urn for urn in engine.state if urn not in kinds}
    return tuple(sorted(urn.split("::")[-1] for urn in changed | removed))


def measure(hosts: HostPool, pachd: MeasuredPachd, change: Change, api: KubeApiStandIn) -> Measured:
    """Run ``change`` against ``pachd``, wiped first; the engine is returned with the result.

    ``api`` is reset first to hold the release, whose one ready pod forwards to ``pachd``.
    """
    pachd.wipe()
    api.delete_namespace(NAMESPACE)
    api.add_release(NAMESPACE, "pachyderm", ("127.0.0.1", pachd.port))
    engine = OfflineEngine(hosts)
    engine.up(change.before.plan(pachd, api))
    change.between(api)
    change.in_pachd(pachd)
    pachd.reset_calls()
    after = change.after.plan(pachd, api)
    previewed = previewed_changes(engine, after)
    assert pachd.calls == [], f"preview called pachd: {pachd.calls}"
    engine.up(after)
    return Measured(change, Calls.take(pachd), previewed, engine)


def measure_changes(hosts: HostPool) -> list[Measured]:
    """Every change in :data:`CHANGES`, against one fake pachd per version and one stand-in API."""
    results: dict[str, Measured] = {}
    with KubeApiStandIn() as api:
        for version in dict.fromkeys(change.pachd_version for change in CHANGES):
            with FakePachd(version=version) as pachd:
                for change in CHANGES:
                    if change.pachd_version == version:
                        results[change.label] = measure(hosts, pachd, change, api)
    return [results[change.label] for change in CHANGES]
