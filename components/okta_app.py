"""The Okta side of single sign-on: the OIDC web app Dex signs in through, and who may use it.

One :class:`OktaOidcApp` replaces the Okta admin-console steps of the manual procedure: create an
OIDC web app whose sign-in redirect is Dex's callback, put a ``groups`` claim in its ID tokens, let
the app through a custom authorization server's access policy, and assign the groups and users
that may log in to Pachyderm. The issuer it hands to Dex is the one Okta reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_okta as okta

from components import dex, okta_decisions, urls
from components.naming import name_suffix
from components.settings import PROJECT, ConfigProblem, OktaAppSettings, StackConfigError
from components.settings.messages import config_key

# With no grace period, one retried refresh would end the session (docs/decisions.md, 41).
ROTATION_LEEWAY_SECONDS = 30
# The method the Dex connector uses on every Okta host (decision 18).
TOKEN_ENDPOINT_AUTH_METHOD = "client_secret_post"
# The dashboard tile starts the sign-in at the console; the provider sends the mode only with
# scopes, which SPEC mode ignores (decision 22).
LOGIN_MODE = "SPEC"
LOGIN_SCOPES = ("openid", "profile", "email")


@dataclass(frozen=True)
class OktaAssignees:
    """Okta's ids of the existing groups and the users the stack assigns, by configured name."""

    group_ids: Mapping[str, str]
    """Empty with ``createGroups``: the stack makes its groups."""
    user_ids: Mapping[str, str]


def look_up_assignees(settings: OktaAppSettings, provider: okta.Provider) -> OktaAssignees:
    """Find every group and user the stack names, before anything is created.

    Each lookup blocks, so a group Okta has only under another name, or a login it does not know,
    stops the program with every such problem on its own line (a :class:`StackConfigError`) before
    an Okta or Kubernetes object is registered (docs/decisions.md, decision 31).
    """
    options = pulumi.InvokeOptions(provider=provider)
    problems: list[ConfigProblem] = []
    group_ids: dict[str, str] = {}
    for index, group in enumerate([] if settings.create_groups else settings.groups):
        key = config_key((PROJECT, "okta", "groups", index))
        try:
            # Membership is not needed, and costs paged calls against Okta's rate limits.
            found = okta.group.get_group(name=group, include_users=False, opts=options)
        except Exception as error:  # the SDK raises a bare Exception for a failed invoke
            reason = okta_decisions.lookup_failure(error)
            problems.append(ConfigProblem(key, f"Okta's lookup of the group failed: {reason}"))
            continue
        wrong_name = okta_decisions.group_name_problem(group, found.name)
        if wrong_name:
            problems.append(ConfigProblem(key, wrong_name))
        else:
            group_ids[group] = found.id
    user_ids: dict[str, str] = {}
    for index, login in enumerate(settings.users):
        key = config_key((PROJECT, "okta", "users", index))
        try:
            # The id is all that is needed; admin roles would need okta.roles.read.
            user = okta.user.get_user(
                searches=[{"name": "profile.login", "value": login, "comparison": "eq"}],
                skip_groups=True,
                skip_roles=True,
                opts=options,
            )
        except Exception as error:  # the SDK raises a bare Exception for a failed invoke
            reason = okta_decisions.lookup_failure(error)
            problems.append(ConfigProblem(key, f"Okta's lookup of the user failed: {reason}"))
            continue
        user_ids[login] = user.id
    if problems:
        raise StackConfigError(problems)
    return OktaAssignees(group_ids, user_ids)


@dataclass(frozen=True)
class OktaOidcAppArgs:
    """Inputs of :class:`OktaOidcApp`, all already validated by :mod:`components.settings`."""

    app: OktaAppSettings
    """``pachyderm-okta:okta``: label, authorization server, groups, users, claim options."""
    public_url: urls.PublicUrl
    """``pachyderm-okta:publicUrl``: the origin Dex and the console are served under."""
    assignees: OktaAssignees
    """What :func:`look_up_assignees` found for ``app``'s groups and users."""
    claimed_groups: tuple[str, ...] | None
    """The groups the groups claim carries (``ProjectConfig.claimed_groups``); ``None``: all."""


class OktaOidcApp(pulumi.ComponentResource):
    """An Okta OIDC web app for Pachyderm's Dex, with its groups claim, access and assignments.

    Pass the explicit ``okta.Provider`` in ``opts``: every child and lookup uses it by parentage.
    """

    app_id: pulumi.Output[str]
    """Okta's id of the app (what assignments reference)."""
    client_id: pulumi.Output[str]
    """OAuth client id, for the Dex connector's ``clientID``."""
    client_secret: pulumi.Output[str]
    """OAuth client secret (a Pulumi secret), for the Dex connector's ``clientSecret``."""
    issuer: pulumi.Output[str]
    """The issuer Okta reports for the configured server, for the Dex connector's ``issuer``."""
    connector_scopes: tuple[str, ...]
    """The Dex connector's ``scopes``: each scope the configured server defines, once."""

    def __init__(
        self, name: str, args: OktaOidcAppArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("pachyderm-okta:okta:OidcApp", name, {}, opts)
        settings = args.app
        custom_server = settings.authorization_server != "org"

        # A custom server is read first: a server this stack would clash with is refused before
        # anything is created.
        found = _read_custom_server(settings, parent=self) if custom_server else None
        claim_filter = okta_decisions.groups_filter(args.claimed_groups)
        app = self._create_app(
            name, settings, args.public_url, claim_filter if not custom_server else None
        )
        if found:
            access = _admit_to_custom_server(name, settings, found, app, claim_filter, parent=self)
            self.issuer = access.issuer
            self.connector_scopes = access.connector_scopes
        else:
            self.issuer = self._org_issuer()
            # The org server defines `groups` itself.
            self.connector_scopes = dex.okta_connector_scopes(groups=True)
        for group in settings.groups:
            self._assign_group(name, app, group, args.assignees, create=settings.create_groups)
        for login in settings.users:
            self._assign_user(name, app, login, args.assignees.user_ids[login])

        self.app_id = app.id
        self.client_id = app.client_id
        # The SDK lists clientSecret in additional_secret_outputs, which only the engine applies;
        # wrapping it here keeps it secret for every consumer, mocks and previews included.
        self.client_secret = pulumi.Output.secret(app.client_secret)
        self.register_outputs(
            {
                "app_id": self.app_id,
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "issuer": self.issuer,
            }
        )

    def _create_app(
        self,
        name: str,
        settings: OktaAppSettings,
        public_url: urls.PublicUrl,
        org_claim_filter: str | None,
    ) -> okta.app.OAuth:
        """The app; with ``org_claim_filter`` (the org server), its groups claim filters so."""
        groups_claim = None
        if settings.has_groups_claim and org_claim_filter is not None:
            # The only way to groups in org-server tokens; needs an SSWS token (decision 12), and
            # pulumi-okta 7.0.1 deprecates it with no replacement for the org server (49).
            groups_claim = okta.app.OAuthGroupsClaimArgs(
                name=okta_decisions.GROUPS_CLAIM,
                type="FILTER",
                filter_type="REGEX",
                value=org_claim_filter,
            )
        rotate = settings.refresh_token_rotation == "ROTATE"
        return okta.app.OAuth(
            f"{name}-app",
            label=settings.app_label,
            type="web",
            # Without an explicit list the provider sends only authorization_code, and Dex
            # never gets a refresh token.
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            redirect_uris=[urls.dex_callback_uri(public_url)],
            post_logout_redirect_uris=[str(public_url)],
            token_endpoint_auth_method=TOKEN_ENDPOINT_AUTH_METHOD,
            # Dex sends no PKCE challenge (decision 42).
            pkce_required=False,
            consent_method="TRUSTED",
            # Org-server tokens then name the org URL, the issuer read from Okta (decision 21).
            issuer_mode="ORG_URL",
            refresh_token_rotation=settings.refresh_token_rotation,
            refresh_token_leeway=ROTATION_LEEWAY_SECONDS if rotate else 0,
            groups_claim=groups_claim,
            login_uri=str(public_url),
            login_mode=LOGIN_MODE,
            login_scopes=list(LOGIN_SCOPES),
            hide_web=False,
            # Okta assigns the default authentication policy itself (decision 32).
            skip_authentication_policy=True,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _org_issuer(self) -> pulumi.Output[str]:
        metadata = okta.get_org_metadata_output(opts=pulumi.InvokeOutputOptions(parent=self))
        return metadata.apply(
            lambda found: okta_decisions.org_issuer(
                found.domains.organization if found.domains else None
            )
        )

    def _assign_group(
        self, name: str, app: okta.app.OAuth, group: str, found: OktaAssignees, *, create: bool
    ) -> None:
        child = f"{name}-group-{name_suffix(group)}"
        group_id: pulumi.Input[str]
        if create:
            group_id = okta.group.Group(
                child, name=group, opts=pulumi.ResourceOptions(parent=self)
            ).id
        else:
            group_id = found.group_ids[group]
        # Not okta.AppGroupAssignments, which removes assignments it did not make (decision 42).
        okta.app.GroupAssignment(
            child,
            app_id=app.id,
            group_id=group_id,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _assign_user(self, name: str, app: okta.app.OAuth, login: str, user_id: str) -> None:
        okta.app.User(
            f"{name}-user-{name_suffix(login)}",
            app_id=app.id,
            user_id=user_id,
            # The app's default username template: set, it keeps the assignment free of diffs.
            username=login,
            opts=pulumi.ResourceOptions(parent=self),
        )


# -- a custom authorization server: what lets the app sign in through one --------------------


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


def _read_custom_server(settings: OktaAppSettings, *, parent: pulumi.Resource) -> ServerScopes:
    """Read the custom server's scopes and claims, and refuse one this stack would clash with.

    Runs before the component creates anything, so a refusal leaves Okta untouched.
    """
    server_id = settings.authorization_server
    existing = _scope_names_and_descriptions(server_id, parent)
    claims = _server_claims(server_id, parent)
    marker = okta_decisions.groups_scope_description(pulumi.get_project(), pulumi.get_stack())
    ours_or_absent = okta_decisions.declares_groups_scope(
        existing, claims, okta_decisions.GROUPS_SCOPE, marker
    )
    scope_is_ours = ours_or_absent and any(
        name == okta_decisions.GROUPS_SCOPE for name, _ in existing
    )
    if settings.has_groups_claim and not scope_is_ours:
        okta_decisions.check_groups_claim_is_free(claims, server_id)
    return ServerScopes(server_id, marker, others_groups_scope=not ours_or_absent)


def _admit_to_custom_server(
    name: str,
    settings: OktaAppSettings,
    found: ServerScopes,
    app: okta.app.OAuth,
    claim_filter: str,
    *,
    parent: pulumi.Resource,
) -> CustomServerAccess:
    """Let ``app`` sign in through the custom server; children of ``parent``, named after it."""
    server_id = found.server_id
    # A read by id, never created or deleted (decision 21).
    server = okta.auth.Server.get(
        f"{name}-authorization-server", server_id, opts=pulumi.ResourceOptions(parent=parent)
    )
    others_groups_scope = found.others_groups_scope
    scope = None
    if settings.has_groups_claim:
        scope = _create_groups_claim(
            name, server_id, found.marker, others_groups_scope, claim_filter, parent
        )
    # Dex may request someone else's `groups` scope, never one that does not exist.
    has_groups_scope = settings.has_groups_claim or others_groups_scope
    requested = dex.okta_requested_scopes(groups=has_groups_scope)
    _allow_app(name, server_id, settings.app_label, app, scope, requested, parent)
    return CustomServerAccess(
        issuer=server.issuer.apply(
            lambda issuer: okta_decisions.custom_server_issuer(issuer, server_id)
        ),
        connector_scopes=dex.okta_connector_scopes(groups=has_groups_scope),
    )


def _scope_names_and_descriptions(
    server_id: str, parent: pulumi.Resource
) -> list[tuple[str, str | None]]:
    found = okta.auth.get_server_scopes(
        auth_server_id=server_id, opts=pulumi.InvokeOptions(parent=parent)
    ).scopes
    return [(scope.name, scope.description) for scope in found or []]


def _server_claims(server_id: str, parent: pulumi.Resource) -> list[okta_decisions.ServerClaim]:
    found = okta.get_auth_server_claims(
        auth_server_id=server_id, opts=pulumi.InvokeOptions(parent=parent)
    ).claims
    return [
        okta_decisions.ServerClaim(
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
    claim_filter: str,
    parent: pulumi.Resource,
) -> okta.auth.ServerScope | None:
    # A custom server mints its own claims, and refuses a scope it does not define (decision 12).
    scope = None
    scope_name: pulumi.Input[str] = okta_decisions.GROUPS_SCOPE
    if not others_groups_scope:
        scope = okta.auth.ServerScope(
            f"{name}-groups-scope",
            auth_server_id=server_id,
            name=okta_decisions.GROUPS_SCOPE,
            description=marker,
            consent="IMPLICIT",
            metadata_publish="ALL_CLIENTS",
            opts=pulumi.ResourceOptions(parent=parent),
        )
        scope_name = scope.name
    okta.auth.ServerClaim(
        f"{name}-groups-claim",
        auth_server_id=server_id,
        name=okta_decisions.GROUPS_CLAIM,
        # IDENTITY: the ID token, which is what Dex reads groups from.
        claim_type="IDENTITY",
        value_type="GROUPS",
        group_filter_type="REGEX",
        value=claim_filter,
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
    # This app's client only, first in order; its rule allows what Dex does (decision 20).
    policy = okta.auth.ServerPolicy(
        f"{name}-access-policy",
        auth_server_id=server_id,
        name=label,
        description=f"Sign-in to Pachyderm through Dex ({label})",
        priority=1,
        client_whitelists=[app.client_id],
        # Okta renumbers policies when another takes priority 1 (decision 33).
        opts=pulumi.ResourceOptions(parent=parent, ignore_changes=["priority"]),
    )
    okta.auth.ServerPolicyRule(
        f"{name}-access-rule",
        auth_server_id=server_id,
        policy_id=policy.id,
        name="Dex sign-in",
        priority=1,
        grant_type_whitelists=["authorization_code", "refresh_token"],
        # Anyone the app is assigned to: assignments decide who may sign in.
        group_whitelists=["EVERYONE"],
        scope_whitelists=list(requested_scopes),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[scope] if scope else None),
    )
