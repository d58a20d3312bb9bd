"""An offline ``pulumi up``: the program under mocks, its dynamic resources through the real host.

There is no Pulumi CLI, cluster or Okta org here, so the engine's part is played in two steps:

1. :func:`plan_program` runs ``__main__.py`` under recording mocks with a stack's config. The
   mocks stand in for Okta, Kubernetes and pulumi-random (client ids and secrets, passwords),
   and every registration is kept, with the exact inputs the engine would receive.
2. :class:`OfflineEngine` drives every ``pulumi-python:dynamic/pachyderm:*`` registration through
   Pulumi's real dynamic provider host (``python -m pulumi.dynamic``) against pachd - the fake in
   ``testkit/fake_pachd.py`` - in dependency order, as ``pulumi up`` does: Check and Create for
   new resources, Diff then Update (or Delete and Create for a replacement) for existing ones,
   and Delete in reverse order for ``destroy``. Its state maps URN to the outputs the host
   returned, as the state file would: when Diff answers "no change" the stored outputs stay as
   they were, exactly as the engine's ``SameStep`` keeps them (pulumi/pulumi
   pkg/resource/deploy/step.go).

The engine configures the dynamic provider with the whole stack config before any resource call
(``Target.GetPackageConfig``, pulumi/pulumi pkg/resource/deploy/target.go), and the host
configures each provider once per process. Given a :class:`HostPool`, the engine does the same:
every ``up``/``preview`` runs in a host configured with that plan's stack config, and
``refresh``/``destroy`` (no program run) in one configured with the last ``up``'s config - what
the default provider's state records. Given a single host, that host serves every operation with
whatever config it was given.

Typical use (see tests/test_offline_up.py, bench/)::

    with FakePachd() as pachd, HostPool() as hosts:
        engine = OfflineEngine(hosts)
        first = engine.up(plan_program(dev_stack(pachd.address)))
        second = engine.up(plan_program(dev_stack(pachd.address)))
        assert second.changed == []
"""

from __future__ import annotations

import runpy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import pulumi
from pulumi.runtime import rpc

from testkit.dynamic_host import DiffKind, DynamicProviderHost, strip_secrets
from testkit.mocks import MockRun, OktaGroups, Registration, set_stack_config, start_mock_run
from testkit.stacks import ROOT, TEST_SECRETS, stack_config

DYNAMIC_PREFIX = "pulumi-python:dynamic/pachyderm:"
OKTA_APP = "okta:app/oAuth:OAuth"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
RANDOM_ID = "random:index/randomId:RandomId"
GET_GROUP = "okta:group/getGroup:getGroup"
GET_USER = "okta:user/getUser:getUser"
GET_ORG_METADATA = "okta:index/getOrgMetadata:getOrgMetadata"
GET_SERVER_SCOPES = "okta:auth/getServerScopes:getServerScopes"
GET_SERVER_CLAIMS = "okta:index/getAuthServerClaims:getAuthServerClaims"
AUTH_SERVER = "okta:auth/server:Server"

# What Okta would return for the app: distinctive, so leak scans can look for them.
OKTA_CLIENT_ID = "0oa-test-okta-client-id"
OKTA_CLIENT_SECRET = "test-okta-client-secret-0004"


def password_value(resource_name: str) -> str:
    """The ``result`` the mocks give ``RandomPassword`` ``resource_name``: unique and greppable."""
    return f"test-password-{resource_name}-0005"


@dataclass(frozen=True)
class World:
    """What the mocks answer for resources Pulumi's other providers would create."""

    okta_client_secret: str = OKTA_CLIENT_SECRET
    okta_client_id: str = OKTA_CLIENT_ID
    unknown_okta_outputs: bool = False
    """Preview of a first run: the Okta app's id and secret are not known yet."""
    passwords: Mapping[str, str] = field(default_factory=dict)
    """``RandomPassword`` results by resource name (a re-minted password); else
    :func:`password_value`."""
    okta_org_url: str = "https://dev-123456.okta.com"
    """The org URL Okta publishes (the dev stack's okta:orgName and okta:baseUrl)."""

    def install(self, run: MockRun) -> None:
        """Register these answers with a mocks run."""

        def okta_app(_args: Any) -> dict[str, Any]:
            if self.unknown_okta_outputs:
                return {"clientId": rpc.UNKNOWN, "clientSecret": rpc.UNKNOWN}
            return {"clientId": self.okta_client_id, "clientSecret": self.okta_client_secret}

        run.mocks.outputs[OKTA_APP] = okta_app
        run.mocks.outputs[RANDOM_PASSWORD] = lambda args: {
            "result": self.passwords.get(args.name, password_value(args.name))
        }
        run.mocks.outputs[RANDOM_ID] = lambda _args: {"hex": "0123456789abcdef0123456789abcdef"}
        # Every group the stack names exists under exactly that name (OktaGroups models the rest).
        run.mocks.invokes[GET_GROUP] = lambda args: OktaGroups((args["name"],)).get_group(args)
        run.mocks.invokes[GET_USER] = lambda args: {"id": f"00u-{args['searches'][0]['value']}"}
        run.mocks.invokes[GET_ORG_METADATA] = lambda _args: {
            "id": "00o-test-org",
            "pipeline": "idx",
            "domains": {"organization": self.okta_org_url, "alternate": ""},
        }
        # A custom authorization server in ORG_URL issuer mode, with Okta's default scopes only.
        run.mocks.outputs[AUTH_SERVER] = lambda args: {
            "issuer": f"{self.okta_org_url}/oauth2/{args.resource_id}",
            "issuerMode": "ORG_URL",
        }
        run.mocks.invokes[GET_SERVER_SCOPES] = lambda args: {
            "authServerId": args["authServerId"],
            "id": args["authServerId"],
            "scopes": [],
        }
        run.mocks.invokes[GET_SERVER_CLAIMS] = lambda args: {
            "authServerId": args["authServerId"],
            "id": args["authServerId"],
            "claims": [],
        }


Stack = tuple[dict[str, str], list[str]]
"""``(config, secret_keys)`` as :func:`testkit.stacks.stack_config` returns them."""


@dataclass(frozen=True)
class Plan:
    """One run of the program under mocks: what it registered and exported, with which config."""

    registrations: list[Registration]
    exports: dict[str, Any]
    export_secrets: dict[str, bool]
    stack: Stack = ({}, [])

    @property
    def dynamic(self) -> list[Registration]:
        """The dynamic resources, in dependency order (registration order breaks ties)."""
        dynamic = [r for r in self.registrations if r.type.startswith(DYNAMIC_PREFIX)]
        urns = {r.urn for r in dynamic}
        ordered: list[Registration] = []
        placed: set[str] = set()
        while len(ordered) < len(dynamic):
            for registration in dynamic:
                if registration.urn in placed:
                    continue
                if all(d in placed for d in registration.dependencies if d in urns):
                    ordered.append(registration)
                    placed.add(registration.urn)
        return ordered

    def one(self, type_name: str) -> Registration:
        """The single dynamic resource of a type (short name, e.g. ``IdpConnector``)."""
        (found,) = [r for r in self.dynamic if r.type == DYNAMIC_PREFIX + type_name]
        return found


def dev_stack(pachd_address: str, **overrides: Any) -> Stack:
    """The dev example stack pointed at a (fake) pachd, as the engine would pass it."""
    return stack_config("dev", pachyderm_okta__pachdAddress=pachd_address, **overrides)


def plan_program(
    stack: Stack,
    *,
    world: World | None = None,
    preview: bool = False,
    program: Callable[[], object] | None = None,
) -> Plan:
    """Run ``__main__.py`` (or ``program``) under fresh recording mocks and return its plan."""
    config, secret_keys = stack
    run = start_mock_run(preview=preview)
    (world or World()).install(run)
    set_stack_config(config, secret_keys)
    run.run(program or (lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")))
    exports: dict[str, Any] = {}
    export_secrets: dict[str, bool] = {}
    stack_resource = pulumi.runtime.settings.get_root_resource()
    outputs = getattr(stack_resource, "outputs", {}) or {}
    for key, value in outputs.items():
        resolved, _known, secret = run.resolve(pulumi.Output.from_input(value))
        exports[key] = resolved
        export_secrets[key] = secret
    return Plan(run.registrations, exports, export_secrets, (dict(config), list(secret_keys)))


@dataclass
class Step:
    """What the engine did with one resource during an ``up``."""

    urn: str
    action: str  # "create" | "update" | "replace" | "same"
    replaces: list[str] = field(default_factory=list)


@dataclass
class UpResult:
    """The steps of one ``up``, in order."""

    steps: list[Step]

    @property
    def changed(self) -> list[str]:
        """URNs of resources the up created, updated or replaced."""
        return [step.urn for step in self.steps if step.action != "same"]

    def action(self, urn_suffix: str) -> str:
        """The action taken for the resource whose URN ends with ``urn_suffix``."""
        (step,) = [s for s in self.steps if s.urn.endswith(urn_suffix)]
        return step.action


class HostPool:
    """Real dynamic-provider hosts, one per distinct stack config, each configured with it.

    The engine starts a host per deployment and configures it with the stack config; a host
    configured with the same config behaves the same, so hosts are reused per config.
    """

    def __init__(self, **host_options: Any) -> None:
        self.host_options = {"cwd": ROOT, **host_options}
        self._hosts: dict[tuple[tuple[str, str], ...], DynamicProviderHost] = {}

    def host_for(self, stack: Stack) -> DynamicProviderHost:
        """A running host configured with ``stack`` (started on first use)."""
        config, secret_keys = stack
        key = tuple(sorted(config.items()))
        if key not in self._hosts:
            host = DynamicProviderHost(**self.host_options).start()
            host.configure(config, secret_keys=secret_keys)
            self._hosts[key] = host
        return self._hosts[key]

    @property
    def processes(self) -> int:
        """How many host processes the pool started (one per stack config)."""
        return len(self._hosts)

    def stderr_text(self) -> str:
        """What every host wrote to stderr so far."""
        return "".join(host.stderr_text() for host in self._hosts.values())

    def close(self) -> None:
        """Stop every host."""
        for host in self._hosts.values():
            host.stop()
        self._hosts.clear()

    def __enter__(self) -> HostPool:
        """The pool itself; hosts start on demand."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop every host."""
        self.close()


class OfflineEngine:
    """The engine's side of ``pulumi up``/``preview``/``destroy`` for the dynamic resources."""

    def __init__(self, hosts: DynamicProviderHost | HostPool) -> None:
        self.hosts = hosts
        self.state: dict[str, dict[str, Any]] = {}
        self.ids: dict[str, str] = {}
        self.order: list[str] = []
        self.stack: Stack = ({}, [])
        """The config of the last ``up``: what ``refresh`` and ``destroy`` are configured with."""
        self._active: Stack = self.stack

    @property
    def host(self) -> DynamicProviderHost:
        """The host the current operation runs in."""
        if isinstance(self.hosts, HostPool):
            return self.hosts.host_for(self._active)
        return self.hosts

    @staticmethod
    def inputs(registration: Registration) -> dict[str, Any]:
        """The registration's inputs as the host receives them (secret markers stripped)."""
        stripped: dict[str, Any] = strip_secrets(registration.inputs)
        return stripped

    def preview(self, plan: Plan) -> dict[str, DiffKind]:
        """Check and Diff every resource (what ``pulumi preview`` calls); no Create or Update."""
        self._active = plan.stack
        kinds: dict[str, DiffKind] = {}
        for registration in plan.dynamic:
            news = self.inputs(registration)
            olds = self.state.get(registration.urn, {})
            checked, failures = self.host.check(registration.urn, olds, news)
            assert failures == [], f"{registration.name}: {failures}"
            if registration.urn in self.state:
                diff = self.host.diff(registration.urn, self.ids[registration.urn], olds, checked)
                kinds[registration.urn] = diff.kind
            else:
                kinds[registration.urn] = DiffKind.SOME
        return kinds

    def up(self, plan: Plan) -> UpResult:
        """Converge every dynamic resource of ``plan``, in dependency order."""
        self.stack = self._active = plan.stack
        steps: list[Step] = []
        for registration in plan.dynamic:
            steps.append(self._converge(registration))
        planned = {r.urn for r in plan.dynamic}
        for urn in reversed(list(self.order)):
            if urn not in planned:
                self._delete(urn)
        return UpResult(steps)

    def _converge(self, registration: Registration) -> Step:
        urn = registration.urn
        news = self.inputs(registration)
        olds = self.state.get(urn)
        checked, failures = self.host.check(urn, olds or {}, news)
        assert failures == [], f"{registration.name}: {failures}"
        if olds is None:
            self._create(urn, checked)
            return Step(urn, "create")
        diff = self.host.diff(urn, self.ids[urn], olds, checked)
        if diff.kind == DiffKind.NONE:
            return Step(urn, "same")
        if diff.replaces:
            # Every replacement here is delete-before-replace: the pachd object keeps its id.
            assert diff.delete_before_replace, f"{registration.name} replaces without deleting"
            self._delete(urn)
            self._create(urn, checked)
            return Step(urn, "replace", list(diff.replaces))
        result = self.host.update(urn, self.ids[urn], olds, checked)
        self.state[urn] = result.outputs
        return Step(urn, "update")

    def _create(self, urn: str, inputs: Mapping[str, Any]) -> None:
        result = self.host.create(urn, inputs)
        self.state[urn] = result.outputs
        self.ids[urn] = result.id
        if urn not in self.order:
            self.order.append(urn)

    def _delete(self, urn: str) -> None:
        self.host.delete(urn, self.ids[urn], self.state[urn])
        del self.state[urn]
        del self.ids[urn]
        self.order.remove(urn)

    def refresh(self) -> dict[str, dict[str, Any] | None]:
        """Read every resource (``pulumi refresh``); ``None`` for those gone from pachd."""
        self._active = self.stack
        live: dict[str, dict[str, Any] | None] = {}
        for urn in self.order:
            result = self.host.read(urn, self.ids[urn], self.state[urn])
            live[urn] = None if result is None else result.outputs
        return live

    def destroy(self) -> list[str]:
        """Delete every resource in reverse creation order; return the URNs deleted."""
        self._active = self.stack
        deleted = list(reversed(self.order))
        for urn in deleted:
            self._delete(urn)
        return deleted


__all__ = [
    "OKTA_CLIENT_ID",
    "OKTA_CLIENT_SECRET",
    "TEST_SECRETS",
    "HostPool",
    "OfflineEngine",
    "Plan",
    "Stack",
    "Step",
    "UpResult",
    "World",
    "dev_stack",
    "password_value",
    "plan_program",
]
