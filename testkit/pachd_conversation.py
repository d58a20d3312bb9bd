"""One conversation with pachd, step by step, to hold the fake pachd against the real one.

:data:`STEPS` is a sequence of pachd calls - every RPC the auth providers make, with the
arguments and in the situations they make them, plus the refusals whose codes and texts the
providers match on. :func:`converse` plays it against any pachd (the fake of
``testkit/fake_pachd.py`` or the real one of ``testkit/real_pachd.py``) with the real
``pachyderm_sdk`` client and returns what each step got back, as a comparable :class:`Answer`:
the response as JSON, or the gRPC code and details. ``tests/test_real_pachd.py`` plays it against
both and compares the two answers step by step.

Steps run in order and build on each other (activation before bindings, a connector before its
update), so the conversation is played once per pachd, from a fresh start.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import grpc
from pachyderm_sdk.api import auth, identity, pfs

from components.pachyderm_auth.pachd import grpc_status

ROOT_TOKEN = "conversation-root-token-0001"
ROTATED_ROOT_TOKEN = "conversation-root-token-0002"
UNKNOWN_TOKEN = "conversation-unknown-token-0003"
PUBLIC_URL = "http://127.0.0.1:30080"
DEX_ISSUER = f"{PUBLIC_URL}/dex"
CONNECTOR_ID = "okta"
CLUSTER = auth.Resource(type=auth.ResourceType.CLUSTER)
TEAM_PROJECT = "conversation-team"
TEAM_REPO = "raw"
PROJECT = auth.Resource(type=auth.ResourceType.PROJECT, name=TEAM_PROJECT)
DEFAULT_PROJECT = auth.Resource(type=auth.ResourceType.PROJECT, name="default")
REPO = auth.Resource(type=auth.ResourceType.REPO, name=f"{TEAM_PROJECT}/{TEAM_REPO}")


class Pachd(Protocol):
    """What a conversation needs of a pachd: a client for a token (or for nobody)."""

    def client(self, auth_token: str | None = None) -> Any:
        """A ``pachyderm_sdk.Client`` sending ``auth_token``."""


@dataclass(frozen=True)
class Answer:
    """What pachd answered one step: a response (``code`` OK) or a refusal."""

    code: str
    body: Any
    """The response as JSON (``to_dict`` of the message), or the refusal's details."""


@dataclass(frozen=True)
class Context:
    """What a step may use: the pachd, and the issuer an Okta connector opens against."""

    pachd: Pachd
    okta_issuer: str
    minted: dict[str, str] = field(default_factory=dict)
    """Tokens earlier steps minted, by name, for later steps to use."""

    def root(self) -> Any:
        """A client holding the root token the conversation activated with."""
        return self.pachd.client(ROOT_TOKEN)


@dataclass(frozen=True)
class Step:
    """One call: its name (the test id) and what it sends."""

    name: str
    call: Callable[[Context], Any]


def _connector(issuer: str, version: int, secret: str = "okta-secret-1") -> identity.IdpConnector:  # noqa: S107 - a test value
    config = {
        "issuer": issuer,
        "clientID": "0oa-conversation",
        "clientSecret": secret,
        "redirectURI": f"{DEX_ISSUER}/callback",
        "scopes": ["profile", "email", "groups", "offline_access"],
        "basicAuthUnsupported": True,
        "insecureEnableGroups": True,
        "getUserInfo": True,
        "insecureSkipEmailVerified": True,
    }
    return identity.IdpConnector(
        id=CONNECTOR_ID, name="Okta", type="oidc", config_version=version, json_config=_json(config)
    )


def _json(config: dict[str, Any]) -> str:
    import json

    return json.dumps(config, separators=(",", ":"), sort_keys=True)


def _client(client_id: str, secret: str, redirect: str) -> identity.OidcClient:
    peers = ["console"] if client_id == "pachd" else []
    return identity.OidcClient(
        id=client_id, name=client_id, secret=secret, redirect_uris=[redirect], trusted_peers=peers
    )


def _oidc_config(issuer: str) -> auth.OidcConfig:
    return auth.OidcConfig(
        issuer=issuer,
        client_id="pachd",
        client_secret="pachd-client-secret-1",
        redirect_uri=f"{PUBLIC_URL}/authorization-code/callback",
        scopes=["email", "profile", "groups", "openid"],
        localhost_issuer=True,
        user_accessible_issuer_host=PUBLIC_URL,
    )


def _bind(principal: str, *roles: str, token: str = ROOT_TOKEN) -> Callable[[Context], Any]:
    return lambda c: c.pachd.client(token).auth.modify_role_binding(
        principal=principal, roles=list(roles), resource=CLUSTER
    )


def _bind_on(resource: auth.Resource, principal: str, *roles: str) -> Callable[[Context], Any]:
    return lambda c: c.root().auth.modify_role_binding(
        principal=principal, roles=list(roles), resource=resource
    )


def _binding(resource: auth.Resource) -> Callable[[Context], Any]:
    return lambda c: c.root().auth.get_role_binding(resource=resource)


def _project() -> pfs.Project:
    return pfs.Project(name=TEAM_PROJECT)


def _repo() -> pfs.Repo:
    return pfs.Repo(name=TEAM_REPO, type="user", project=_project())


def _inspected_project(c: Context) -> pfs.ProjectInfo:
    # Only what the providers read: the creation time and the caller's permissions vary.
    info = c.root().pfs.inspect_project(project=_project())
    return pfs.ProjectInfo(project=info.project, created_by=info.created_by)


STEPS: Sequence[Step] = (
    # Before activation: what the ready-wait, adoption checks and reads see.
    Step("version", lambda c: c.pachd.client().get_version()),
    Step("whoami-before-activation", lambda c: c.pachd.client().auth.who_am_i()),
    Step("get-configuration-before-activation", lambda c: c.root().auth.get_configuration()),
    Step(
        "get-role-binding-before-activation",
        lambda c: c.root().auth.get_role_binding(resource=CLUSTER),
    ),
    Step(
        "get-identity-config-before-activation",
        lambda c: c.root().identity.get_identity_server_config(),
    ),
    Step("licence-service-on-2.12", lambda c: c.root().license.activate(activation_code="x")),
    Step("enterprise-service-on-2.12", lambda c: c.root().enterprise.get_state()),
    # Activation with the stack's root token, then again (a resumed create).
    Step("activate", lambda c: c.pachd.client().auth.activate(root_token=ROOT_TOKEN)),
    # The providers' client always sends the stack's root token: ours, or one pachd does not know.
    Step("activate-again", lambda c: c.root().auth.activate(root_token=ROOT_TOKEN)),
    Step(
        "activate-again-foreign-token",
        lambda c: c.pachd.client(UNKNOWN_TOKEN).auth.activate(root_token=UNKNOWN_TOKEN),
    ),
    Step("activate-again-no-token", lambda c: c.pachd.client().auth.activate(root_token="")),
    Step("whoami-root", lambda c: c.root().auth.who_am_i()),
    Step("whoami-no-token", lambda c: c.pachd.client().auth.who_am_i()),
    Step("whoami-unknown-token", lambda c: c.pachd.client(UNKNOWN_TOKEN).auth.who_am_i()),
    Step("pfs-activate-auth", lambda c: c.root().pfs.activate_auth()),
    Step("pps-activate-auth", lambda c: c.root().pps.activate_auth()),
    Step("pfs-activate-auth-again", lambda c: c.root().pfs.activate_auth()),
    Step("bindings-after-activation", lambda c: c.root().auth.get_role_binding(resource=CLUSTER)),
    Step("get-configuration-after-activation", lambda c: c.root().auth.get_configuration()),
    # The identity server's config.
    Step(
        "get-identity-config-after-activation",
        lambda c: c.root().identity.get_identity_server_config(),
    ),
    Step(
        "set-identity-config",
        lambda c: c.root().identity.set_identity_server_config(
            config=identity.IdentityServerConfig(
                issuer=DEX_ISSUER, id_token_expiry="24h", rotation_token_expiry="48h"
            )
        ),
    ),
    Step(
        "set-identity-config-no-token",
        lambda c: c.pachd.client().identity.set_identity_server_config(
            config=identity.IdentityServerConfig(issuer=DEX_ISSUER)
        ),
    ),
    Step("get-identity-config", lambda c: c.root().identity.get_identity_server_config()),
    # The Okta connector: create, read, the version rule, an issuer that does not answer.
    Step("get-connector-missing", lambda c: c.root().identity.get_idp_connector(id=CONNECTOR_ID)),
    Step(
        "create-connector",
        lambda c: c.root().identity.create_idp_connector(connector=_connector(c.okta_issuer, 0)),
    ),
    Step(
        "create-connector-again",
        lambda c: c.root().identity.create_idp_connector(connector=_connector(c.okta_issuer, 0)),
    ),
    Step("get-connector", lambda c: c.root().identity.get_idp_connector(id=CONNECTOR_ID)),
    Step(
        "update-connector-stale-version",
        lambda c: c.root().identity.update_idp_connector(
            connector=_connector(c.okta_issuer, 0, "okta-secret-2")
        ),
    ),
    Step(
        "update-connector",
        lambda c: c.root().identity.update_idp_connector(
            connector=_connector(c.okta_issuer, 1, "okta-secret-2")
        ),
    ),
    Step("get-connector-updated", lambda c: c.root().identity.get_idp_connector(id=CONNECTOR_ID)),
    Step(
        "update-connector-unreachable-issuer",
        lambda c: c.root().identity.update_idp_connector(
            connector=_connector("http://127.0.0.1:9/unreachable", 2)
        ),
    ),
    # The pachd and console OIDC clients.
    Step("get-client-missing", lambda c: c.root().identity.get_oidc_client(id="pachd")),
    Step(
        "create-pachd-client",
        lambda c: c.root().identity.create_oidc_client(
            client=_client(
                "pachd", "pachd-client-secret-1", f"{PUBLIC_URL}/authorization-code/callback"
            )
        ),
    ),
    Step(
        "create-pachd-client-again",
        lambda c: c.root().identity.create_oidc_client(
            client=_client("pachd", "pachd-client-secret-1", f"{PUBLIC_URL}/x")
        ),
    ),
    Step(
        "create-console-client",
        lambda c: c.root().identity.create_oidc_client(
            client=_client(
                "console", "console-secret-1", f"{PUBLIC_URL}/oauth/callback/?inline=true"
            )
        ),
    ),
    Step("get-pachd-client", lambda c: c.root().identity.get_oidc_client(id="pachd")),
    Step(
        "update-console-client",
        lambda c: c.root().identity.update_oidc_client(
            client=_client(
                "console", "console-secret-2", f"{PUBLIC_URL}/oauth/callback/?inline=true"
            )
        ),
    ),
    Step("get-console-client", lambda c: c.root().identity.get_oidc_client(id="console")),
    Step(
        "update-client-missing",
        lambda c: c.root().identity.update_oidc_client(
            client=_client("nobody", "s", f"{PUBLIC_URL}/x")
        ),
    ),
    # pachd's OIDC configuration: it must name Dex's issuer.
    Step(
        "set-configuration-wrong-issuer",
        lambda c: c.root().auth.set_configuration(
            configuration=_oidc_config(f"{PUBLIC_URL}/not-dex")
        ),
    ),
    Step(
        "set-configuration",
        lambda c: c.root().auth.set_configuration(configuration=_oidc_config(DEX_ISSUER)),
    ),
    Step("get-configuration", lambda c: c.root().auth.get_configuration()),
    # Cluster role bindings.
    Step("bind-group-admin", _bind("group:pachyderm-admins", "clusterAdmin")),
    Step("bind-all-users", _bind("allClusterUsers", "projectViewer")),
    Step("bind-unknown-role", _bind("group:pachyderm-admins", "projectNobody")),
    Step("bind-no-prefix", _bind("pachyderm-admins", "clusterAdmin")),
    Step("bind-unknown-prefix", _bind("team:pachyderm-admins", "clusterAdmin")),
    Step("bind-pach-user", _bind("pach:root", "projectViewer")),
    Step(
        "bind-no-token",
        lambda c: c.pachd.client().auth.modify_role_binding(
            principal="group:x", roles=["clusterAdmin"], resource=CLUSTER
        ),
    ),
    Step("bindings", lambda c: c.root().auth.get_role_binding(resource=CLUSTER)),
    Step("unbind-group", _bind("group:pachyderm-admins")),
    Step("unbind-group-again", _bind("group:pachyderm-admins")),
    Step("bindings-after-unbind", lambda c: c.root().auth.get_role_binding(resource=CLUSTER)),
    # Project and repo bindings: pachd's defaults, a missing project or repo, the creator's
    # ownership, and roles bound where roles.go's CanBeBoundTo says no (pachd accepts them).
    Step("default-project-binding", _binding(DEFAULT_PROJECT)),
    Step("missing-project-binding", _binding(PROJECT)),
    Step("bind-missing-project", _bind_on(PROJECT, "group:team-a", "projectOwner")),
    Step("bind-missing-project-unknown-role", _bind_on(PROJECT, "group:team-a", "projectNobody")),
    Step("inspect-missing-project", _inspected_project),
    Step("create-project", lambda c: c.root().pfs.create_project(project=_project())),
    Step("create-project-again", lambda c: c.root().pfs.create_project(project=_project())),
    Step(
        "create-project-bad-name",
        lambda c: c.root().pfs.create_project(project=pfs.Project(name="team.a")),
    ),
    Step("inspect-project", _inspected_project),
    Step("created-project-binding", _binding(PROJECT)),
    Step("bind-project", _bind_on(PROJECT, "group:team-a", "projectOwner")),
    Step("bind-project-cluster-role", _bind_on(PROJECT, "group:x", "clusterAdmin")),
    Step("bind-project-pach-user", _bind_on(PROJECT, "pach:root", "projectViewer")),
    Step("project-binding", _binding(PROJECT)),
    Step("unbind-project", _bind_on(PROJECT, "group:x")),
    Step("unbind-default-project", _bind_on(DEFAULT_PROJECT, "allClusterUsers")),
    Step("default-project-binding-after-unbind", _binding(DEFAULT_PROJECT)),
    Step("rebind-default-project", _bind_on(DEFAULT_PROJECT, "allClusterUsers", "projectWriter")),
    Step("missing-repo-binding", _binding(REPO)),
    Step("bind-missing-repo", _bind_on(REPO, "group:analysts", "repoReader")),
    Step("create-repo", lambda c: c.root().pfs.create_repo(repo=_repo())),
    Step("create-repo-again", lambda c: c.root().pfs.create_repo(repo=_repo())),
    Step("created-repo-binding", _binding(REPO)),
    Step("bind-repo", _bind_on(REPO, "group:analysts", "repoReader")),
    Step("bind-repo-project-role", _bind_on(REPO, "group:x", "projectOwner")),
    Step("repo-binding", _binding(REPO)),
    Step(
        "delete-project-holding-a-repo", lambda c: c.root().pfs.delete_project(project=_project())
    ),
    Step("delete-repo", lambda c: c.root().pfs.delete_repo(repo=_repo())),
    Step("repo-binding-after-delete", _binding(REPO)),
    Step("bind-deleted-repo", _bind_on(REPO, "group:analysts", "repoReader")),
    # The project goes too, so the real pachd is left as it was.
    Step("delete-project", lambda c: c.root().pfs.delete_project(project=_project())),
    Step("project-binding-after-delete", _binding(PROJECT)),
    Step("delete-project-again", lambda c: c.root().pfs.delete_project(project=_project())),
    # Robot tokens: minted with a lifetime, named as the robot, revoked one by one.
    Step("robot-token-holder", lambda c: _robot_token_holder(c, "ci", "ci")),
    Step("robot-token-prefix-dropped", lambda c: _robot_token_holder(c, "robot:ci", "ci-2")),
    Step("robot-token-colon", lambda c: c.root().auth.get_robot_token(robot="c:i", ttl=3600)),
    Step(
        "robot-token-no-token", lambda c: c.pachd.client().auth.get_robot_token(robot="ci", ttl=60)
    ),
    Step(
        "revoke-robot-token",
        lambda c: c.root().auth.revoke_auth_token(token=c.minted["ci"]),
    ),
    Step(
        "revoke-robot-token-again",
        lambda c: c.root().auth.revoke_auth_token(token=c.minted["ci"]),
    ),
    Step("whoami-revoked-robot-token", lambda c: c.pachd.client(c.minted["ci"]).auth.who_am_i()),
    Step("whoami-other-robot-token", lambda c: _holder(c, c.minted["ci-2"], 3600)),
    # Root token rotation to a token the stack minted.
    Step(
        "rotate-root-token",
        lambda c: c.root().auth.rotate_root_token(root_token=ROTATED_ROOT_TOKEN),
    ),
    Step("whoami-old-root-token", lambda c: c.root().auth.who_am_i()),
    Step("whoami-rotated-root-token", lambda c: c.pachd.client(ROTATED_ROOT_TOKEN).auth.who_am_i()),
    # Deleting: clients and the connector, twice (a delete that already happened).
    Step(
        "delete-console-client",
        lambda c: c.pachd.client(ROTATED_ROOT_TOKEN).identity.delete_oidc_client(id="console"),
    ),
    Step(
        "delete-console-client-again",
        lambda c: c.pachd.client(ROTATED_ROOT_TOKEN).identity.delete_oidc_client(id="console"),
    ),
    Step(
        "delete-connector",
        lambda c: c.pachd.client(ROTATED_ROOT_TOKEN).identity.delete_idp_connector(id=CONNECTOR_ID),
    ),
    Step(
        "delete-connector-again",
        lambda c: c.pachd.client(ROTATED_ROOT_TOKEN).identity.delete_idp_connector(id=CONNECTOR_ID),
    ),
    Step(
        "list-connectors",
        lambda c: c.pachd.client(ROTATED_ROOT_TOKEN).identity.list_idp_connectors(),
    ),
    Step("list-clients", lambda c: c.pachd.client(ROTATED_ROOT_TOKEN).identity.list_oidc_clients()),
    # What `pachctl auth deactivate` does (deactivateOnDelete), and after it.
    Step("delete-all-identity", lambda c: c.pachd.client(ROTATED_ROOT_TOKEN).identity.delete_all()),
    Step("deactivate", lambda c: c.pachd.client(ROTATED_ROOT_TOKEN).auth.deactivate()),
    Step("whoami-after-deactivation", lambda c: c.pachd.client(ROTATED_ROOT_TOKEN).auth.who_am_i()),
    Step(
        "get-identity-config-after-deactivation",
        lambda c: c.pachd.client().identity.get_identity_server_config(),
    ),
    Step(
        "list-clients-after-deactivation", lambda c: c.pachd.client().identity.list_oidc_clients()
    ),
)


@dataclass(frozen=True)
class Derived:
    """An answer computed from pachd's, where the raw one holds a fresh token or a time."""

    fields: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """As a response message's JSON."""
        return self.fields


def _holder(context: Context, token: str, ttl: int) -> Derived:
    """Who ``token`` is, and whether it expires ``ttl`` seconds from now (within a minute)."""
    who = context.pachd.client(token).auth.who_am_i()
    left = (who.expiration - datetime.now(UTC)).total_seconds() if who.expiration else None
    return Derived(
        {"username": who.username, "expires_as_asked": left is not None and abs(left - ttl) < 60}
    )


def _robot_token_holder(context: Context, robot: str, memo: str) -> Derived:
    """Mint a one-hour token for ``robot``, keep it as ``memo``, and say who holds it."""
    token = context.root().auth.get_robot_token(robot=robot, ttl=3600).token
    context.minted[memo] = token
    return _holder(context, token, 3600)


def answer(step: Step, context: Context) -> Answer:
    """Play one step; pachd's response or refusal as an :class:`Answer`."""
    try:
        response = step.call(context)
    except (grpc.RpcError, ConnectionError) as error:
        # The providers' own reading of a failure, through the SDK's exception wrappers.
        code, details = grpc_status(error)
        return Answer(code.name if code else type(error).__name__, details)
    return Answer("OK", response.to_dict() if response is not None else None)


def converse(pachd: Pachd, okta_issuer: str) -> dict[str, Answer]:
    """Every step of :data:`STEPS` against ``pachd``, in order: step name to answer."""
    context = Context(pachd, okta_issuer)
    return {step.name: answer(step, context) for step in STEPS}
