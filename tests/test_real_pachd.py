"""The real pachd 2.12.2: the fake answers as it does, and the whole program converges against it.

Guards every claim the other tiers make about pachd with pachd itself: built from Pachyderm's Go
module by ``make test`` (``scripts/build_pachd.py``), run on loopback in the chart's environment
with PostgreSQL, etcd and the stand-in Kubernetes API (``testkit/real_pachd.py``). It proves:

- the fake and the real pachd give the same answer - response or code and details - to every
  step of one conversation holding every RPC the auth providers make and every refusal they
  match on (``testkit/pachd_conversation.py``);
- the whole program through Pulumi's real dynamic-provider host: a first ``up`` leaves pachd as
  a manual set-up would, each kind of change of the cost table costs what the table says
  (``testkit/change_costs.py``, counted by a pass-through proxy; the port-forward ones through
  the stand-in API server), drift made with the real ``pachctl`` is found by refresh and put
  back by ``up``, and destroy gives principals back the roles they held.

pachd's Dex opens the Okta connector by OIDC discovery whenever it is stored, so the stacks'
Okta issuer is the stand-in Okta on loopback (``testkit/okta_standin.py``). One real pachd
runs per machine (its Dex binds a fixed port), so this tier is one test module, on one worker.
Opt out with ``PACHYDERM_OKTA_SKIP_REAL_PACHD=1``; without it a missing build fails.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import grpc
import pytest
from pachyderm_sdk.api import auth, pfs

from components.pachyderm_auth.idp_connector import connector_config
from components.robot_secrets import robot_secret_data
from testkit import change_costs
from testkit.counting_proxy import CountingProxy
from testkit.dex_identity import DexIdentity, PachdLoginError, pachd_login
from testkit.dynamic_host import HostError
from testkit.fake_pachd import FakePachd
from testkit.kube_api import KubeApiStandIn
from testkit.login import CALLBACK_PATH as LOGIN_CALLBACK
from testkit.login import Person
from testkit.offline_up import (
    OKTA_CLIENT_ID,
    OKTA_CLIENT_SECRET,
    HostPool,
    OfflineEngine,
    Plan,
    World,
    dev_stack,
    password_value,
    plan_program,
)
from testkit.okta_standin import OktaOrg, OktaStandInMissingError, OktaUser, StandInOkta
from testkit.pachd_conversation import STEPS, Answer, converse
from testkit.public_proxy import PublicProxy
from testkit.real_pachd import (
    DEX_PORT,
    PACHCTL,
    PACHYDERM_VERSION,
    SKIP_VARIABLE,
    RealPachd,
    RealPachdMissingError,
    run_pachctl,
)
from testkit.runtime import drained_event_loop
from testkit.stacks import ROOT, dev_auth, dev_pachyderm

ROOT_TOKEN = password_value("auth-root-token")
KNOWN_ROOT_TOKENS = (
    ROOT_TOKEN,
    change_costs.ADOPTED_TOKEN,
    change_costs.ROTATED_TOKEN,
    change_costs.REMINTED_TOKEN,
)
PUBLIC_URL = "http://192.168.49.2:30080"
UNREACHABLE_ISSUER = "http://127.0.0.1:9/unreachable"
CLUSTER = auth.Resource(type=auth.ResourceType.CLUSTER)
PACHD_DEFAULT_BINDINGS = {
    "pach:root": {"clusterAdmin"},
    "internal:auth-server": {"clusterAdmin"},
    "allClusterUsers": {"projectCreator"},
}


@dataclasses.dataclass
class Tier:
    """The running real pachd, the proxy counting calls to it, and the Okta issuer."""

    pachd: RealPachd
    proxy: CountingProxy
    okta: StandInOkta
    hosts: HostPool
    api: KubeApiStandIn

    def plan(self, **overrides: Any) -> Plan:
        """The dev stack's program run, with pachd behind the proxy and Okta's issuer here."""
        with drained_event_loop():
            return plan_program(
                dev_stack(self.proxy.address, **overrides),
                world=World(okta_org_url=self.okta.url),
            )

    def bindings(self) -> dict[str, set[str]]:
        """pachd's cluster role bindings, read with the stack's root token."""
        binding = self.pachd.client(ROOT_TOKEN).auth.get_role_binding(resource=CLUSTER).binding
        return {principal: set(roles.roles) for principal, roles in binding.entries.items()}


@pytest.fixture(scope="module")
def tier() -> Iterator[Tier]:
    if os.environ.get(SKIP_VARIABLE):
        pytest.skip(f"{SKIP_VARIABLE} is set: the real-pachd tier is not wanted in this run")
    with drained_event_loop():
        # The chart's values do not depend on where the deployer reaches pachd.
        environment_plan = plan_program(dev_stack("grpc://127.0.0.1:30650"))
    try:
        pachd = RealPachd(environment_plan.registrations)
        okta = StandInOkta()
    except (RealPachdMissingError, OktaStandInMissingError) as missing:
        pytest.fail(str(missing))
    with (
        okta,
        pachd,
        CountingProxy(f"127.0.0.1:{pachd.port}", pachd.client, KNOWN_ROOT_TOKENS) as proxy,
        HostPool() as hosts,
        KubeApiStandIn() as api,
    ):
        with drained_event_loop():
            org_plan = plan_program(dev_stack(proxy.address), world=World(okta_org_url=okta.url))
        okta.configure(OktaOrg.of(org_plan, OKTA_CLIENT_SECRET, ()))
        try:
            yield Tier(pachd, proxy, okta, hosts, api)
        except BaseException:
            print(pachd.logs())
            raise


@pytest.fixture
def fresh(tier: Tier) -> Tier:
    """The tier with pachd as a fresh install is for the auth resources."""
    tier.proxy.wipe()
    return tier


# --- the build and the process ------------------------------------------------------------------


def test_make_test_builds_the_pachd_this_tier_runs() -> None:
    makefile = (ROOT / "Makefile").read_text()
    build_script = (ROOT / "scripts" / "build_pachd.py").read_text()
    go_mod = (ROOT / "testkit" / "realpachd" / "go.mod").read_text()
    assert f"\nPACHD_BUILD := .cache/pachd-v{PACHYDERM_VERSION}\n" in makefile
    assert re.search(r"^test: .*\$\(REAL_PACHD\)", makefile, re.MULTILINE)
    assert f'PACHYDERM_VERSION = "{PACHYDERM_VERSION}"' in build_script
    assert f"require github.com/pachyderm/pachyderm/v2 v{PACHYDERM_VERSION}\n" in go_mod
    # Pachyderm's own go.mod at v2.12.2 swaps in its Dex fork at this commit.
    assert (
        "replace github.com/dexidp/dex => github.com/pachyderm/dex "
        "v0.0.0-20250103170744-292f1ae604a3\n" in go_mod
    )


def test_pachd_and_pachctl_are_the_stamped_release(tier: Tier) -> None:
    version = tier.pachd.client().get_version()
    assert (version.major, version.minor, version.micro) == (2, 12, 2)
    printed = tier.pachd.pachctl("version").stdout.split()
    assert printed == ["COMPONENT", "VERSION", "pachctl", "2.12.2", "pachd", "2.12.2"]
    assert PACHCTL.parent.name == f"pachd-v{PACHYDERM_VERSION}"


def test_pachd_runs_in_the_charts_environment_sending_nothing_off_the_machine(tier: Tier) -> None:
    environment = tier.pachd.environment
    assert environment["METRICS"] == "false"
    assert environment["STORAGE_BACKEND"] == "LOCAL"
    assert environment["UNPAUSED_MODE"] == "full"
    assert environment["PACH_NAMESPACE"] == tier.pachd.namespace == "pachyderm"
    # The chart's public host, from publicUrl; pachd runs in no pod, so it is a plain value.
    assert environment["PACHYDERM_PUBLIC_HOST"] == "192.168.49.2:30080"
    # Every server pachd talks to is on loopback.
    for variable in ("POSTGRES_HOST", "PG_BOUNCER_HOST", "ETCD_SERVICE_HOST"):
        assert environment[variable] == "127.0.0.1", variable
    assert environment["KUBERNETES_PORT_443_TCP_ADDR"] == "127.0.0.1"
    # The chart's $(PACHYDERM_LOKI_SERVICE_HOST) expanded as the kubelet would, to loopback.
    assert environment["LOKI_SERVICE_HOST"] == "127.0.0.1"
    assert not any("$(" in value for value in environment.values())
    # The secretKeyRef values are the Secrets the program registers, never a chart default.
    assert environment["CONSOLE_OAUTH_SECRET"] == password_value("pachyderm-console-client-secret")
    assert environment["POSTGRES_PASSWORD"] == password_value("pachyderm-postgres-password")
    # pachctl, too, reports usage off the machine unless its config says no.
    tier.pachd.pachctl("version")
    config = json.loads((tier.pachd.folder / "pachctl-config.json").read_text())
    assert config["v2"]["metrics"] is False


def test_pachd_made_its_worker_secret_through_the_kubernetes_api(tier: Tier) -> None:
    secret = tier.pachd.kube_api.secrets[("pachyderm", "pachyderm-pjs-worker-authentication")]
    assert set(secret["data"]) == {"pjsWorkerAuthToken"}


# --- the fake answers as the real pachd ---------------------------------------------------------


@pytest.fixture(scope="module")
def conversations(tier: Tier) -> dict[str, tuple[Answer, Answer]]:
    """Each step's answer from the real pachd and from a fake 2.12.2, both fresh."""
    tier.proxy.wipe()
    real = converse(tier.pachd, tier.okta.url)
    with FakePachd(version=(2, 12, 2)) as fake:
        # The fake cannot dial: the issuers that do not answer are data it is given.
        fake.state.unreachable_issuers.add(UNREACHABLE_ISSUER)
        modelled = converse(fake, tier.okta.url)
    return {name: (real[name], modelled[name]) for name in real}


@pytest.mark.parametrize("step", [step.name for step in STEPS])
def test_the_fake_answers_as_the_real_pachd(
    conversations: dict[str, tuple[Answer, Answer]], step: str
) -> None:
    real, fake = conversations[step]
    if step == "version":
        # Build facts (Go version, platform, commit) differ; the providers read only these.
        fields = ("major", "minor", "micro")
        real = Answer(real.code, {key: real.body[key] for key in fields})
        fake = Answer(fake.code, {key: fake.body[key] for key in fields})
    assert fake == real


def test_the_conversation_covers_every_rpc_the_providers_make(
    conversations: dict[str, tuple[Answer, Answer]],
) -> None:
    with FakePachd() as fake:
        converse(fake, "http://127.0.0.1:9/the-fake-dials-nothing")
        called = set(fake.calls)
    provider_calls = {
        "version.GetVersion", "auth.Activate", "auth.WhoAmI", "auth.RotateRootToken",
        "auth.GetConfiguration", "auth.SetConfiguration", "auth.GetRoleBinding",
        "auth.ModifyRoleBinding", "auth.Deactivate", "pfs.ActivateAuth", "pps.ActivateAuth",
        "identity.SetIdentityServerConfig", "identity.GetIdentityServerConfig",
        "identity.CreateIDPConnector", "identity.GetIDPConnector", "identity.UpdateIDPConnector",
        "identity.DeleteIDPConnector", "identity.CreateOIDCClient", "identity.GetOIDCClient",
        "identity.UpdateOIDCClient", "identity.DeleteOIDCClient", "identity.DeleteAll",
    }  # fmt: skip
    assert provider_calls <= called
    # 2.12 has no licence or enterprise service, and the two answer alike for it.
    assert conversations["licence-service-on-2.12"][0].code == "UNIMPLEMENTED"


# --- the whole program --------------------------------------------------------------------------


def test_first_up_leaves_pachd_ready_for_okta_logins(fresh: Tier) -> None:
    plan = fresh.plan()
    engine = OfflineEngine(fresh.hosts)

    result = engine.up(plan)

    assert [step.action for step in result.steps] == ["create"] * len(plan.dynamic)
    root = fresh.pachd.client(ROOT_TOKEN)
    assert root.auth.who_am_i().username == "pach:root"
    identity_config = root.identity.get_identity_server_config().config
    assert (identity_config.issuer, identity_config.id_token_expiry) == (f"{PUBLIC_URL}/dex", "24h")
    connector = root.identity.get_idp_connector(id="okta").connector
    assert (connector.type, connector.name, connector.config_version) == ("oidc", "Okta", 0)
    assert connector_config(connector) == {
        "issuer": fresh.okta.url,
        "clientID": OKTA_CLIENT_ID,
        "clientSecret": OKTA_CLIENT_SECRET,
        "redirectURI": f"{PUBLIC_URL}/dex/callback",
        "scopes": ["profile", "email", "groups", "offline_access"],
        "basicAuthUnsupported": True,
        "insecureEnableGroups": True,
        "getUserInfo": True,
        "insecureSkipEmailVerified": True,
        "insecureSkipIssuerCallbackDomainCheck": False,
    }
    pachd_client = root.identity.get_oidc_client(id="pachd").client
    assert pachd_client.redirect_uris == [f"{PUBLIC_URL}/authorization-code/callback"]
    assert pachd_client.trusted_peers == ["console"]
    console = root.identity.get_oidc_client(id="console").client
    assert console.secret == password_value("pachyderm-console-client-secret")
    configuration = root.auth.get_configuration().configuration
    assert configuration.issuer == f"{PUBLIC_URL}/dex"
    assert configuration.client_secret == pachd_client.secret
    assert configuration.user_accessible_issuer_host == PUBLIC_URL
    assert fresh.bindings() == {
        "pach:root": {"clusterAdmin"},
        "internal:auth-server": {"clusterAdmin"},
        "group:pachyderm-admins": {"clusterAdmin"},
        "allClusterUsers": {"projectViewer"},
    }
    # pachctl holding the root token the stack outputs is the cluster's root.
    whoami = fresh.pachd.pachctl("auth", "whoami", token=ROOT_TOKEN).stdout
    assert whoami.startswith('You are "pach:root"')


def _with_issuer(side: change_costs.Side, issuer: str) -> change_costs.Side:
    return dataclasses.replace(side, world=dataclasses.replace(side.world, okta_org_url=issuer))


@pytest.mark.parametrize(
    "change",
    [change for change in change_costs.CHANGES if change.pachd_version == (2, 12, 2)],
    ids=lambda change: change.label,
)
def test_each_change_costs_what_the_table_says(tier: Tier, change: change_costs.Change) -> None:
    issuer = tier.okta.url
    against_okta_here = dataclasses.replace(
        change, before=_with_issuer(change.before, issuer), after=_with_issuer(change.after, issuer)
    )
    with drained_event_loop():
        measured = change_costs.measure(tier.hosts, tier.proxy, against_okta_here, tier.api)
    assert measured.within_budget, f"{change.label}: {measured.calls.calls} ({change.allowed})"


def test_refresh_finds_drift_made_with_pachctl_and_up_puts_it_back(fresh: Tier) -> None:
    engine = OfflineEngine(fresh.hosts)
    engine.up(fresh.plan())
    fresh.pachd.pachctl(
        "auth", "set", "cluster", "none", "group:pachyderm-admins", token=ROOT_TOKEN
    )
    fresh.pachd.pachctl("idp", "delete-client", "console", token=ROOT_TOKEN)

    live = engine.refresh()

    # Both are gone from pachd: refresh drops them from the state.
    gone = sorted(urn.split("::")[-1] for urn, outputs in live.items() if outputs is None)
    admins = next(name for name in gone if name.startswith("auth-binding-group-pachyderm"))
    assert gone == sorted(["auth-console-client", admins])
    for urn, outputs in live.items():
        if outputs is None:
            del engine.state[urn], engine.ids[urn]
            engine.order.remove(urn)
        else:
            engine.state[urn] = outputs

    restored = engine.up(fresh.plan())

    assert restored.action("::auth-console-client") == "create"
    assert restored.action(f"::{admins}") == "create"
    assert fresh.bindings()["group:pachyderm-admins"] == {"clusterAdmin"}
    console = fresh.pachd.client(ROOT_TOKEN).identity.get_oidc_client(id="console").client
    assert console.secret == password_value("pachyderm-console-client-secret")


def test_destroy_gives_principals_back_what_they_held(fresh: Tier) -> None:
    engine = OfflineEngine(fresh.hosts)
    engine.up(fresh.plan())

    engine.destroy()

    root = fresh.pachd.client(ROOT_TOKEN)
    assert root.auth.who_am_i().username == "pach:root"
    assert fresh.bindings() == PACHD_DEFAULT_BINDINGS
    assert root.identity.list_idp_connectors().connectors == []
    assert root.identity.list_oidc_clients().clients == []


# --- the login ----------------------------------------------------------------------------------
#
# A person in the org signs in with the real pachctl through pachd's Dex and the stand-in Okta
# (testkit/okta_standin.py), configured from the Okta app and servers the program registers.
# publicUrl is the public proxy (testkit/public_proxy.py): /dex to Dex, the callback to pachd.

ALICE = OktaUser("alice@example.com", groups=("pachyderm-admins", "analysts"))
"""In the group bound to clusterAdmin."""
BOB = OktaUser("bob@example.com", groups=("pachyderm-users",))
"""Assigned to the app through a group that is bound to nothing."""
CAROL = OktaUser("carol@example.com", groups=("contractors",))
"""Not assigned to the app."""
DAVE = OktaUser("dave@example.com", groups=("pachyderm-admins",), email_verified=False)
"""An admin whose email Okta has not verified."""
ASSIGNED_GROUPS = ["pachyderm-admins", "pachyderm-users"]
NOT_AUTHORIZED = (
    "{principal} is not authorized to perform this operation - needs permissions "
    "[CLUSTER_MODIFY_BINDINGS] on CLUSTER . Run `pachctl auth roles-for-permission` to find "
    "roles that grant a given permission."
)


@dataclasses.dataclass
class SignInStack:
    """A stack deployed against the stand-in Okta, reachable at the public proxy."""

    tier: Tier
    okta: StandInOkta
    proxy: PublicProxy
    folder: Path

    def person(self, user: OktaUser) -> Person:
        """Someone with a pachctl of their own."""
        return Person(user, self.tier.pachd.address, self.folder)


@pytest.fixture
def deploy(fresh: Tier, tmp_path: Path) -> Iterator[Callable[..., SignInStack]]:
    """Deploys the dev stack (ClusterIP behind the public proxy) with stack overrides."""
    with contextlib.ExitStack() as running:

        def deployed(okta: dict[str, Any] | None = None, **overrides: Any) -> SignInStack:
            standin = running.enter_context(StandInOkta())
            oidc_port = int(fresh.pachd.environment["OIDC_PORT"])
            proxy = running.enter_context(
                PublicProxy({"/dex": DEX_PORT, LOGIN_CALLBACK: oidc_port})
            )
            with drained_event_loop():
                plan = plan_program(
                    dev_stack(
                        fresh.pachd.address,
                        pachyderm_okta__publicUrl=proxy.url,
                        pachyderm_okta__pachyderm=dev_pachyderm(serviceType="ClusterIP"),
                        pachyderm_okta__okta=json.dumps(
                            {"groups": ASSIGNED_GROUPS, **(okta or {})}
                        ),
                        **overrides,
                    ),
                    world=World(okta_org_url=standin.url),
                )
            standin.configure(OktaOrg.of(plan, OKTA_CLIENT_SECRET, (ALICE, BOB, CAROL, DAVE)))
            OfflineEngine(fresh.hosts).up(plan)
            return SignInStack(fresh, standin, proxy, tmp_path)

        yield deployed


@pytest.mark.parametrize("server", ["org", "default"], ids=["org-server", "custom-server"])
def test_a_member_of_the_admin_group_logs_in_holding_cluster_admin(
    deploy: Callable[..., SignInStack], server: str
) -> None:
    stack = deploy(okta={"authorizationServer": server})
    alice = stack.person(ALICE)

    login = alice.login()

    assert login.returncode == 0, login.stderr
    assert login.browsed.text == "You are now logged in. Go back to the terminal to use Pachyderm!"
    assert alice.pachctl("auth", "whoami").stdout.startswith('You are "user:alice@example.com"')
    # Okta sends only the groups the stack names, so pachd records no other group of hers.
    assert alice.pachctl("auth", "get-groups").stdout.split() == ["group:pachyderm-admins"]
    granted = alice.pachctl("auth", "set", "cluster", "repoReader", "robot:ci")
    assert granted.returncode == 0, granted.stderr
    assert stack.tier.bindings()["robot:ci"] == {"repoReader"}
    # Dex signed in against the server the stack names, with the app's own client.
    token_paths = {"org": "/oauth2/v1/token", "default": "/oauth2/default/v1/token"}
    assert {"method": "POST", "path": token_paths[server]} in stack.okta.log()


def test_a_member_of_no_bound_group_logs_in_and_is_refused_with_pachds_message(
    deploy: Callable[..., SignInStack],
) -> None:
    stack = deploy()
    bob = stack.person(BOB)

    assert bob.login().returncode == 0
    assert bob.pachctl("auth", "whoami").stdout.startswith('You are "user:bob@example.com"')
    # The README's "Logged in, but no roles" checks, as a person without a role runs them.
    assert bob.pachctl("auth", "get-groups").stdout.split() == ["group:pachyderm-users"]
    bindings = bob.pachctl("auth", "get", "cluster")
    assert "group:pachyderm-admins: [clusterAdmin]" in bindings.stdout.splitlines()
    refused = bob.pachctl("auth", "set", "cluster", "repoReader", "robot:ci")
    assert refused.returncode == 1
    assert refused.stderr.strip() == NOT_AUTHORIZED.format(principal="user:bob@example.com")
    readme = (ROOT / "README.md").read_text()
    assert "`user:<email> is not authorized to perform this operation`" in readme
    for command in ("pachctl auth whoami", "pachctl auth get-groups", "pachctl auth get\ncluster"):
        assert command in readme


def test_a_person_not_assigned_to_the_app_is_refused_by_okta(
    deploy: Callable[..., SignInStack],
) -> None:
    stack = deploy()
    carol = stack.person(CAROL)

    login = carol.login()

    assert login.returncode != 0
    assert not login.browsed.reached_pachd
    assert "User is not assigned to the client application." in login.browsed.text
    assert {"server": "org", "refused": "access_denied", "username": CAROL.login} in (
        stack.okta.log()
    )
    assert "no authentication token" in carol.pachctl("auth", "whoami").stderr


def test_with_email_verification_only_a_verified_email_logs_in(
    deploy: Callable[..., SignInStack],
) -> None:
    stack = deploy(pachyderm_okta__auth=dev_auth(skipEmailVerified=False))
    alice, dave = stack.person(ALICE), stack.person(DAVE)

    assert alice.login().returncode == 0
    refused = dave.login()

    # Dex passes email_verified: false on; pachd refuses it at its callback, says why only in
    # its log, and pachctl fails with pachd's generic text.
    assert refused.returncode == 1
    assert (refused.browsed.status, urlsplit(refused.browsed.url).path) == (401, LOGIN_CALLBACK)
    assert refused.browsed.text.startswith("authorization failed (OIDC state token: ")
    assert refused.stderr.strip().endswith(
        "Pachyderm logs may contain more information): authorization failed"
    )
    # The reason is in pachd's log, in the words the port of its check predicts.
    unverified = DexIdentity(
        user_id=DAVE.id,
        username="Dave",
        preferred_username=DAVE.login,
        email=DAVE.login,
        email_verified=False,
        groups=DAVE.groups,
    )
    with pytest.raises(PachdLoginError) as predicted:
        pachd_login(unverified, require_email_verified=True)
    assert str(predicted.value) in stack.tier.pachd.log_text()
    assert "no authentication token" in dave.pachctl("auth", "whoami").stderr


# --- a team's project and repo (issue 26) -------------------------------------------------------


TEAM_PROJECT = "team-a"
TEAM_REPO = "raw"


def _resource_bindings(tier: Tier, kind: auth.ResourceType, name: str) -> dict[str, set[str]]:
    resource = auth.Resource(type=kind, name=name)
    binding = tier.pachd.client(ROOT_TOKEN).auth.get_role_binding(resource=resource).binding
    return {principal: set(roles.roles) for principal, roles in binding.entries.items()}


def _team_stack(*, repo: bool) -> dict[str, Any]:
    """The dev stack's auth, plus team-a's project (created), its repo, and a locked default."""
    repos = {f"{TEAM_PROJECT}/{TEAM_REPO}": {"roleBindings": {"group:analysts": ["repoReader"]}}}
    projects = {
        TEAM_PROJECT: {"create": True, "roleBindings": {"group:team-a": ["projectOwner"]}},
        "default": {"roleBindings": {"allClusterUsers": []}},
    }
    return {"pachyderm_okta__auth": dev_auth(projects=projects, repos=repos if repo else {})}


def _drop_gone(engine: OfflineEngine, live: dict[str, dict[str, Any] | None]) -> list[str]:
    """Apply a refresh to the engine's state as ``pulumi refresh`` does; the names gone."""
    gone = []
    for urn, outputs in live.items():
        if outputs is None:
            gone.append(urn.split("::")[-1])
            del engine.state[urn], engine.ids[urn]
            engine.order.remove(urn)
        else:
            engine.state[urn] = outputs
    return sorted(gone)


def test_a_team_gets_its_project_and_repo_and_destroy_leaves_the_project(fresh: Tier) -> None:
    project_resource = auth.ResourceType.PROJECT
    repo_name = f"{TEAM_PROJECT}/{TEAM_REPO}"
    engine = OfflineEngine(fresh.hosts)
    engine.up(fresh.plan())
    root = fresh.pachd.client(ROOT_TOKEN)
    try:
        fresh.proxy.reset_calls()
        # The project, created as pach:root, then its binding; default locked down.
        engine.up(fresh.plan(**_team_stack(repo=False)))
        binding = list(change_costs.ONE_BINDING_CREATE)
        assert sorted(fresh.proxy.calls) == sorted(["pfs.CreateProject", *binding, *binding])
        assert _resource_bindings(fresh, project_resource, TEAM_PROJECT) == {
            "pach:root": {"projectOwner"},
            "group:team-a": {"projectOwner"},
        }
        assert _resource_bindings(fresh, project_resource, "default") == {}

        # The team makes its repo; the stack binds analysts to it: one read, one write.
        fresh.pachd.pachctl(
            "create", "repo", TEAM_REPO, "--project", TEAM_PROJECT, token=ROOT_TOKEN
        )
        fresh.proxy.reset_calls()
        engine.up(fresh.plan(**_team_stack(repo=True)))
        assert fresh.proxy.calls == ["auth.GetRoleBinding", "auth.ModifyRoleBinding"]
        assert _resource_bindings(fresh, auth.ResourceType.REPO, repo_name) == {
            "pach:root": {"repoOwner"},
            "group:analysts": {"repoReader"},
        }

        # A second up writes nothing (and calls nothing).
        fresh.proxy.reset_calls()
        second = engine.up(fresh.plan(**_team_stack(repo=True)))
        assert second.changed == []
        assert fresh.proxy.calls == []

        # Bindings removed by hand: refresh finds them gone, up puts them back.
        fresh.pachd.pachctl(
            "auth", "set", "project", TEAM_PROJECT, "none", "group:team-a", token=ROOT_TOKEN
        )
        fresh.pachd.pachctl(
            "auth", "set", "repo", TEAM_REPO, "none", "group:analysts",
            "--project", TEAM_PROJECT, token=ROOT_TOKEN,
        )  # fmt: skip
        gone = _drop_gone(engine, engine.refresh())
        assert [name.split("-binding-")[0] for name in gone] == ["auth-project", "auth-repo"]
        restored = engine.up(fresh.plan(**_team_stack(repo=True)))
        created = [step.urn.split("::")[-1] for step in restored.steps if step.action == "create"]
        assert sorted(created) == gone
        assert _resource_bindings(fresh, project_resource, TEAM_PROJECT)["group:team-a"] == {
            "projectOwner"
        }

        # Destroy gives back what each principal held, and leaves the project and its repo.
        engine.destroy()
        assert _resource_bindings(fresh, project_resource, "default") == {
            "allClusterUsers": {"projectWriter"}
        }
        assert _resource_bindings(fresh, project_resource, TEAM_PROJECT) == {
            "pach:root": {"projectOwner"}
        }
        assert _resource_bindings(fresh, auth.ResourceType.REPO, repo_name) == {
            "pach:root": {"repoOwner"}
        }
        assert root.pfs.inspect_project(project=pfs.Project(name=TEAM_PROJECT)).created_by == (
            "pach:root"
        )
    finally:
        # The real pachd keeps projects across the tier's wipes: leave it as it was.
        team = pfs.Project(name=TEAM_PROJECT)
        with contextlib.suppress(grpc.RpcError):
            root.pfs.delete_repo(repo=pfs.Repo(name=TEAM_REPO, type="user", project=team))
        with contextlib.suppress(grpc.RpcError):
            root.pfs.delete_project(project=team)


def test_a_binding_on_a_project_pachd_lacks_fails_up_naming_the_key(fresh: Tier) -> None:
    engine = OfflineEngine(fresh.hosts)
    stack = {
        "pachyderm_okta__auth": dev_auth(
            projects={"team-b": {"roleBindings": {"group:team-b": ["projectViewer"]}}}
        )
    }

    with pytest.raises(HostError) as raised:
        engine.up(fresh.plan(**stack))

    assert (
        "pachyderm-okta:auth.projects[\"team-b\"]: pachd has no project 'team-b', so "
        "'group:team-b' cannot be bound to it; set `create: true` for it, or create it first "
        "(`pachctl create project team-b`)"
    ) in str(raised.value)
    assert "no role binding exists" not in str(raised.value)


def test_with_the_groups_claim_all_every_group_of_the_person_reaches_pachd(
    deploy: Callable[..., SignInStack],
) -> None:
    stack = deploy(okta={"groupsClaim": "all"})
    alice = stack.person(ALICE)

    assert alice.login().returncode == 0

    # The opt-out for groups bound by hand in pachd: Okta sends them all, pachd stores them all.
    assert sorted(alice.pachctl("auth", "get-groups").stdout.split()) == [
        "group:analysts",
        "group:pachyderm-admins",
    ]


def test_the_conversation_covers_the_project_calls_the_providers_make() -> None:
    # Beside the calls listed above: a created project's create and refresh.
    with FakePachd() as fake:
        converse(fake, "http://127.0.0.1:9/the-fake-dials-nothing")
        called = set(fake.calls)

    assert {"pfs.CreateProject", "pfs.InspectProject"} <= called


# --- robot accounts -----------------------------------------------------------------------------


def _as_robot(tier: Tier, token: str, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pachctl with the config the robot's Secret delivers (its address: this pachd's)."""
    config = folder / f"robot-{token[:8]}.json"
    config.write_text(robot_secret_data(token, tier.pachd.namespace)["config.json"])
    return run_pachctl(config, tier.pachd.address, *args)


def test_a_robot_writes_to_its_repo_with_the_delivered_token_and_nowhere_else(
    fresh: Tier, tmp_path: Path
) -> None:
    root = fresh.pachd.client(ROOT_TOKEN)
    for repo in ("robot-raw", "elsewhere"):
        fresh.pachd.pachctl("create", "repo", repo, token=ROOT_TOKEN)
    data = tmp_path / "hello.txt"
    data.write_text("hello\n")
    robot = {"ttl": "2h", "secret": {"namespace": "ci", "name": "pachyderm-robot-ci"}}

    def stack(rotation: int) -> dict[str, Any]:
        auth = dev_auth(
            robots={"ci": robot | {"rotation": rotation}},
            repos={"default/robot-raw": {"roleBindings": {"robot:ci": ["repoWriter"]}}},
        )
        return {"pachyderm_okta__auth": auth}

    engine = OfflineEngine(fresh.hosts)
    try:
        engine.up(fresh.plan(**stack(0)))
        urn = next(urn for urn in engine.state if urn.endswith("::auth-robot-ci"))
        first = engine.state[urn]["token"]

        written = _as_robot(fresh, first, tmp_path, "put", "file", "robot-raw@master:/hello.txt",
                            "-f", str(data))  # fmt: skip
        assert written.returncode == 0, written.stderr
        refused = _as_robot(fresh, first, tmp_path, "put", "file", "elsewhere@master:/hello.txt",
                            "-f", str(data))  # fmt: skip
        assert refused.returncode == 1
        assert "robot:ci is not authorized to perform this operation" in refused.stderr
        who = fresh.pachd.client(first).auth.who_am_i()
        assert who.username == "robot:ci"
        assert who.expiration.timestamp() - time.time() == pytest.approx(7200, abs=120)

        fresh.proxy.reset_calls()
        assert engine.up(fresh.plan(**stack(0))).changed == []
        assert fresh.proxy.calls == []

        # make rotate-robot raises the rotation: a new token, the old one still good.
        engine.up(fresh.plan(**stack(1)))
        assert fresh.proxy.calls == ["auth.GetRobotToken", "auth.WhoAmI"]
        second = engine.state[urn]["token"]
        for token in (first, second):
            assert _as_robot(fresh, token, tmp_path, "auth", "whoami").stdout.startswith(
                'You are "robot:ci"'
            )

        engine.destroy()
        for token in (first, second):
            assert "corrupted or has expired" in _as_robot(fresh, token, tmp_path, "auth",
                                                           "whoami").stderr  # fmt: skip
    finally:
        for repo in ("robot-raw", "elsewhere"):
            with contextlib.suppress(grpc.RpcError):
                root.pfs.delete_repo(repo=pfs.Repo(name=repo, type="user"), force=True)
