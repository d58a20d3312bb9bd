"""pachd RPCs per ``pulumi up`` phase, and the same for the manual procedure it replaces.

The phases run against one fresh fake pachd, in order, through :class:`OfflineEngine` (the real
dynamic provider host): first ``up`` of the dev stack, a no-op ``up`` (same inputs), an ``up``
after the Okta client secret was rotated, and ``destroy``. The manual procedure is replayed call
for call against another fresh fake with the real ``pachyderm_sdk`` client: ``pachctl auth
activate`` (``ActivateCmd``, pachyderm/pachyderm src/server/auth/cmds/cmds.go), ``pachctl idp
create-connector`` and one ``pachctl auth set cluster <role> <principal>`` per principal the dev
stack binds.

``python -m bench`` prints these counts and ``tests/test_pachd_calls_per_phase.py`` asserts them,
both through this module, so the two count the same calls.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from pachyderm_sdk.api import auth, identity

from components.settings import StackSettings, load_settings
from testkit.dynamic_host import DynamicProviderHost
from testkit.fake_pachd import FakePachd, is_read
from testkit.offline_up import OfflineEngine, Plan, World, dev_stack, plan_program
from testkit.stacks import ROOT

ROTATED_OKTA_SECRET = "bench-rotated-okta-client-secret-0007"
ROTATION_CALLS = ("identity.GetIDPConnector", "identity.UpdateIDPConnector")
FIRST_UP_MAX_RATIO = 1.25

# pachctl auth activate's defaults (``ActivateCmd`` flags; the scopes are auth.DefaultOIDCScopes):
# client id and OIDC scopes.
PACHCTL_CLIENT_ID = "pachd"
PACHCTL_SCOPES = ("email", "profile", "groups", "openid")


class CallLog(Protocol):
    """A pachd whose calls are logged: the fake, or the real one behind a counting proxy."""

    calls: list[str]

    def reads(self) -> list[str]:
        """The read calls so far."""

    def writes(self) -> list[str]:
        """The other calls so far."""

    def reset_calls(self) -> None:
        """Forget the calls so far."""


@dataclass(frozen=True)
class Calls:
    """The pachd RPCs of one phase, in order (short names such as ``auth.Activate``)."""

    calls: tuple[str, ...]

    @property
    def reads(self) -> tuple[str, ...]:
        """Get*/List*/Inspect*/WhoAmI calls (the fake's classification)."""
        return tuple(c for c in self.calls if is_read(c))

    @property
    def writes(self) -> tuple[str, ...]:
        """Every other call."""
        return tuple(c for c in self.calls if not is_read(c))

    @property
    def total(self) -> int:
        """Number of calls."""
        return len(self.calls)

    @classmethod
    def take(cls, pachd: CallLog) -> Calls:
        """The fake's call log so far; the log is then cleared for the next phase."""
        calls = cls(tuple(pachd.calls))
        assert len(pachd.reads()) + len(pachd.writes()) == calls.total
        pachd.reset_calls()
        return calls


@dataclass(frozen=True)
class Lifecycle:
    """pachd calls of each phase of the stack's life, plus the first plan (for the replay)."""

    first_up: Calls
    noop_up: Calls
    rotation: Calls
    delete: Calls
    plan: Plan
    stack: tuple[dict[str, str], list[str]]

    def phases(self) -> list[tuple[str, Calls]]:
        """``(label, calls)`` in the order they ran."""
        return [
            ("first up", self.first_up),
            ("no-op up", self.noop_up),
            ("Okta secret rotation", self.rotation),
            ("delete (destroy)", self.delete),
        ]


@contextmanager
def provider_host() -> Iterator[DynamicProviderHost]:
    """The real dynamic provider host, configured as the engine does before any resource call."""
    with DynamicProviderHost(cwd=ROOT) as host:
        host.configure()
        yield host


def measure_lifecycle(host: DynamicProviderHost) -> Lifecycle:
    """Run first up, no-op up, rotation and destroy against one fresh fake; count each."""
    with FakePachd() as pachd:
        engine = OfflineEngine(host)
        stack = dev_stack(pachd.address)
        plan = plan_program(stack)
        pachd.reset_calls()
        engine.up(plan)
        first = Calls.take(pachd)
        engine.up(plan_program(dev_stack(pachd.address)))
        noop = Calls.take(pachd)
        rotated = World(okta_client_secret=ROTATED_OKTA_SECRET)
        engine.up(plan_program(dev_stack(pachd.address), world=rotated))
        rotation = Calls.take(pachd)
        assert pachd.state.connectors["okta"]["config"]["clientSecret"] == ROTATED_OKTA_SECRET
        engine.destroy()
        delete = Calls.take(pachd)
    return Lifecycle(first, noop, rotation, delete, plan, stack)


def stack_settings(stack: tuple[dict[str, str], list[str]]) -> StackSettings:
    """The validated settings of a stack, loaded as ``__main__.py`` loads them (under mocks).

    Under a mocks run because secret settings become ``pulumi.Output`` values, which need the
    runtime's event loop.
    """
    loaded: list[StackSettings] = []
    plan_program(stack, program=lambda: loaded.append(load_settings()))
    (settings,) = loaded
    return settings


@dataclass(frozen=True)
class ManualInputs:
    """What an operator types for the manual procedure: the same values the program uses."""

    issuer: str
    redirect_uri: str
    connector: dict[str, Any]
    role_bindings: dict[str, tuple[str, ...]]

    @classmethod
    def of(cls, plan: Plan, settings: StackSettings) -> ManualInputs:
        """Take issuer, redirect URI and connector from the plan, bindings from the settings."""
        auth_config = OfflineEngine.inputs(plan.one("AuthConfig"))
        connector = OfflineEngine.inputs(plan.one("IdpConnector"))
        return cls(
            issuer=str(OfflineEngine.inputs(plan.one("IdentityServerConfig"))["issuer"]),
            redirect_uri=str(auth_config["redirect_uri"]),
            connector={
                "id": connector["connector_id"],
                "name": connector["name"],
                "type": connector["type"],
                "config": connector["config"],
            },
            role_bindings=settings.project.auth.cluster_role_bindings(),
        )


def _close(client: Any) -> None:
    client._channel.close()


def replay_manual(pachd: FakePachd, inputs: ManualInputs) -> Calls:
    """The manual procedure's RPCs against ``pachd`` with the real SDK client, call for call."""
    pachd.reset_calls()
    # pachctl auth activate (``ActivateCmd``), single cluster, no --supply-root-token.
    anonymous = pachd.client("")
    try:
        token = anonymous.auth.activate(root_token="").pach_token
    finally:
        _close(anonymous)
    client = pachd.client(token)
    try:
        client.pfs.activate_auth()
        client.pps.activate_auth()
        client.identity.set_identity_server_config(
            config=identity.IdentityServerConfig(issuer=inputs.issuer)
        )
        created = client.identity.create_oidc_client(
            client=identity.OidcClient(
                id=PACHCTL_CLIENT_ID,
                name=PACHCTL_CLIENT_ID,
                trusted_peers=[],
                redirect_uris=[inputs.redirect_uri],
            )
        )
        client.auth.set_configuration(
            configuration=auth.OidcConfig(
                issuer=inputs.issuer,
                client_id=PACHCTL_CLIENT_ID,
                client_secret=created.client.secret,
                redirect_uri=inputs.redirect_uri,
                localhost_issuer=True,
                scopes=list(PACHCTL_SCOPES),
            )
        )
        # pachctl idp create-connector --config okta.json
        connector = inputs.connector
        client.identity.create_idp_connector(
            connector=identity.IdpConnector(
                id=connector["id"],
                name=connector["name"],
                type=connector["type"],
                config_version=0,
                json_config=json.dumps(connector["config"]),
            )
        )
        # pachctl auth set cluster <roles> <principal>, once per principal
        cluster = auth.Resource(type=auth.ResourceType.CLUSTER)
        for principal, roles in inputs.role_bindings.items():
            client.auth.modify_role_binding(
                resource=cluster, principal=principal, roles=list(roles)
            )
    finally:
        _close(client)
    state = pachd.state
    assert state.auth_active
    assert state.auth_config is not None
    assert connector["id"] in state.connectors
    return Calls.take(pachd)


def measure_manual(lifecycle: Lifecycle) -> Calls:
    """Replay the manual procedure for the same stack against a fresh fake pachd."""
    inputs = ManualInputs.of(lifecycle.plan, stack_settings(lifecycle.stack))
    with FakePachd() as pachd:
        return replay_manual(pachd, inputs)
