"""Okta custom authorization servers: what lets the Pachyderm app sign in through one.

Resources created here are children of the :class:`components.okta_app.OktaOidcApp` component
that calls :func:`admit_app`; their names and parent are the component's, so URNs are those of
the component's own children.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_okta as okta

from components import connector, okta_server
from components.settings import OktaAppSettings


@dataclass(frozen=True)
class CustomServerAccess:
    """What the app gets from the custom server: its issuer, and the scopes Dex may request."""

    issuer: pulumi.Output[str]
    """The issuer Okta reports for the server (its issuer mode decides the host)."""
    connector_scopes: tuple[str, ...]
    """The Dex connector's scopes: with ``groups`` only when the server defines that scope."""


@dataclass(frozen=True)
class ServerScopes:
    """What the custom server has now, read before anything is created."""

    server_id: str
    marker: str
    """The description that marks the ``groups`` scope this stack creates."""
    others_groups_scope: bool
    """The server has a ``groups`` scope that is someone else's (never this stack's to keep)."""


def read_server(settings: OktaAppSettings, *, parent: pulumi.Resource) -> ServerScopes:
    """Read the custom server's scopes and claims, and refuse one this stack would clash with.

    Runs before the component creates anything, so a refusal leaves Okta untouched.
    """
    server_id = settings.authorization_server
    existing = _scope_names_and_descriptions(server_id, parent)
    claims = _server_claims(server_id, parent)
    marker = okta_server.groups_scope_description(pulumi.get_project(), pulumi.get_stack())
    ours_or_absent = okta_server.create_groups_scope(
        existing, claims, okta_server.GROUPS_SCOPE, marker
    )
    scope_is_ours = ours_or_absent and any(name == okta_server.GROUPS_SCOPE for name, _ in existing)
    if settings.groups_claim and not scope_is_ours:
        okta_server.check_groups_claim_is_free(claims, server_id)
    return ServerScopes(server_id, marker, others_groups_scope=not ours_or_absent)


def admit_app(
    name: str,
    settings: OktaAppSettings,
    found: ServerScopes,
    app: okta.app.OAuth,
    *,
    parent: pulumi.Resource,
) -> CustomServerAccess:
    """Let ``app`` sign in through the custom server ``settings.authorization_server``.

    ``found`` is :func:`read_server`'s answer. Children of ``parent``: the server read
    ``<name>-authorization-server`` (never created or deleted), ``<name>-access-policy`` and
    ``<name>-access-rule``, and with ``groupsClaim`` the ``<name>-groups-claim`` (plus
    ``<name>-groups-scope`` unless the server has its own).
    """
    server_id = found.server_id
    # A read, not a resource this stack owns: destroy leaves the server alone. Okta reports
    # the issuer for the server's issuer mode (ORG_URL or a CUSTOM_URL domain); the lookup
    # by id is the resource read (okta/terraform-provider-okta resource_okta_auth_server.go),
    # because the getServer data source finds servers by name only.
    server = okta.auth.Server.get(
        f"{name}-authorization-server", server_id, opts=pulumi.ResourceOptions(parent=parent)
    )
    others_groups_scope = found.others_groups_scope
    scope = None
    if settings.groups_claim:
        scope = _create_groups_claim(name, server_id, found.marker, others_groups_scope, parent)
    # Without the claim the stack declares no `groups` scope (one it made earlier is deleted by
    # this `up`); Dex may still request someone else's (their claim may use it), and must not
    # request one that does not exist.
    has_groups_scope = settings.groups_claim or others_groups_scope
    requested = connector.okta_requested_scopes(groups=has_groups_scope)
    _allow_app(name, server_id, settings.app_label, app, scope, requested, parent)
    return CustomServerAccess(
        issuer=server.issuer.apply(
            lambda issuer: okta_server.custom_server_issuer(issuer, server_id)
        ),
        connector_scopes=connector.okta_connector_scopes(groups=has_groups_scope),
    )


def _scope_names_and_descriptions(
    server_id: str, parent: pulumi.Resource
) -> list[tuple[str, str | None]]:
    found = okta.auth.get_server_scopes(
        auth_server_id=server_id, opts=pulumi.InvokeOptions(parent=parent)
    ).scopes
    return [(scope.name, scope.description) for scope in found or []]


def _server_claims(server_id: str, parent: pulumi.Resource) -> list[okta_server.ServerClaim]:
    found = okta.get_auth_server_claims(
        auth_server_id=server_id, opts=pulumi.InvokeOptions(parent=parent)
    ).claims
    return [
        okta_server.ServerClaim(
            name=claim.name,
            claim_type=claim.claim_type,
            value_type=claim.value_type,
            value=claim.value,
            scopes=tuple(claim.scopes or ()),
            always_include_in_token=claim.always_include_in_token,
        )
        for claim in found or []
    ]


def _create_groups_claim(
    name: str,
    server_id: str,
    marker: str,
    others_groups_scope: bool,
    parent: pulumi.Resource,
) -> okta.auth.ServerScope | None:
    # The app's groups claim only shapes org-server tokens; a custom server mints its own
    # claims (Okta "add a groups claim for a custom authorization server"). Dex requests the
    # `groups` scope, which a custom server rejects with invalid_scope unless it defines it:
    # the scope is created here unless the server already has one of its own.
    scope = None
    scope_name: pulumi.Input[str] = okta_server.GROUPS_SCOPE
    if not others_groups_scope:
        scope = okta.auth.ServerScope(
            f"{name}-groups-scope",
            auth_server_id=server_id,
            name=okta_server.GROUPS_SCOPE,
            description=marker,
            consent="IMPLICIT",
            metadata_publish="ALL_CLIENTS",
            opts=pulumi.ResourceOptions(parent=parent),
        )
        scope_name = scope.name
    okta.auth.ServerClaim(
        f"{name}-groups-claim",
        auth_server_id=server_id,
        name=okta_server.GROUPS_CLAIM,
        # IDENTITY: the ID token, which is what Dex reads groups from.
        claim_type="IDENTITY",
        value_type="GROUPS",
        group_filter_type="REGEX",
        value=okta_server.GROUPS_FILTER_REGEX,
        scopes=[scope_name],
        always_include_in_token=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return scope


def _allow_app(
    name: str,
    server_id: str,
    label: str,
    app: okta.app.OAuth,
    scope: okta.auth.ServerScope | None,
    requested_scopes: tuple[str, ...],
    parent: pulumi.Resource,
) -> None:
    # A custom server evaluates an access policy for every token request; a client no rule
    # covers gets "Policy evaluation failed for this request" (Okta "Create access
    # policies"). This policy covers this app's client only, created first in order, so no
    # broader policy decides for it; its rule allows what Dex does and nothing more.
    policy = okta.auth.ServerPolicy(
        f"{name}-access-policy",
        auth_server_id=server_id,
        name=label,
        description=f"Sign-in to Pachyderm through Dex ({label})",
        priority=1,
        client_whitelists=[app.client_id],
        # Okta renumbers a server's policies when another one takes priority 1; setting 1
        # again on every `up` would fight it (okta/terraform-provider-okta#2140).
        opts=pulumi.ResourceOptions(parent=parent, ignore_changes=["priority"]),
    )
    okta.auth.ServerPolicyRule(
        f"{name}-access-rule",
        auth_server_id=server_id,
        policy_id=policy.id,
        name="Dex sign-in",
        priority=1,
        # The code flow at sign-in, then refreshes of the session's upstream token.
        grant_type_whitelists=["authorization_code", "refresh_token"],
        # Anyone the app is assigned to: assignments decide who may sign in.
        group_whitelists=["EVERYONE"],
        scope_whitelists=list(requested_scopes),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[scope] if scope else None),
    )
