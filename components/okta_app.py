"""The Okta side of single sign-on: the OIDC web app Dex signs in through, and who may use it.

One :class:`OktaOidcApp` replaces the Okta admin-console steps of the manual procedure: create an
OIDC web app whose sign-in redirect is Dex's callback, put a ``groups`` claim in its ID tokens, let
the app through a custom authorization server's access policy, and assign the groups and users
that may log in to Pachyderm. The issuer it hands to Dex is the one Okta reports.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_okta as okta

from components import dex, okta_decisions, urls
from components.naming import name_suffix
from components.settings import PROJECT, OktaAppSettings
from components.settings.messages import config_key

# Okta's admin console offers 30 s as the rotation grace period; with 0 s, one retried refresh
# (Dex refreshes upstream tokens on every `pachctl` token refresh) would invalidate the session.
ROTATION_LEEWAY_SECONDS = 30
# How the app proves itself at Okta's token endpoint: the secret in the POST body. Dex sends it
# there on every Okta host because the connector sets `basicAuthUnsupported: true`
# (components/dex.py); left to itself, Dex uses the body only for issuers on okta.com and
# oktapreview.com and auto-detects (HTTP basic first) on a custom URL domain (pachyderm/dex
# connector/oidc/oidc.go, `brokenAuthHeaderDomains`, dexidp/dex#859). One method on both sides,
# whatever the host.
TOKEN_ENDPOINT_AUTH_METHOD = "client_secret_post"
# Okta's dashboard tile "redirects to app to initiate login" (OIDC third-party initiated login):
# the browser lands on the console, which signs in through Dex and finds the Okta session. The
# provider sends the mode only together with scopes (terraform-provider-okta
# resource_okta_app_oauth.go, `buildAppOAuth`: `if loginScopes != nil`); SPEC mode does not use
# them, so they are the OIDC identity scopes.
LOGIN_MODE = "SPEC"
LOGIN_SCOPES = ("openid", "profile", "email")


@dataclass(frozen=True)
class OktaOidcAppArgs:
    """Inputs of :class:`OktaOidcApp`, all already validated by :mod:`components.settings`."""

    app: OktaAppSettings
    """``pachyderm-okta:okta``: label, authorization server, groups, users, claim options."""
    public_url: urls.PublicUrl
    """``pachyderm-okta:publicUrl``: the origin Dex and the console are served under."""


class OktaOidcApp(pulumi.ComponentResource):
    """An Okta OIDC web app for Pachyderm's Dex, with its groups claim, access and assignments.

    Pass the explicit ``okta.Provider`` in ``opts`` (``providers=[...]`` or ``provider=``); every
    child and every lookup reaches Okta through it by parentage.

    Children (``name`` is the component's name, ``<slug>`` is ``naming.name_suffix``):

    - ``okta:app/oAuth:OAuth`` ``<name>-app``: the web app; authorization code + refresh token,
      redirect ``<publicUrl>/dex/callback``, dashboard tile opening ``<publicUrl>``.
    - On a custom authorization server only:
      ``okta:auth/server:Server`` ``<name>-authorization-server``, read (never created or deleted)
      for the issuer Okta reports; ``okta:auth/serverPolicy:ServerPolicy`` ``<name>-access-policy``
      for this app's client id and ``okta:auth/serverPolicyRule:ServerPolicyRule``
      ``<name>-access-rule`` allowing Dex's grants and scopes; with ``groupsClaim`` on,
      ``okta:auth/serverClaim:ServerClaim`` ``<name>-groups-claim`` and, unless the server has
      another ``groups`` scope already (``okta:auth/getServerScopes:getServerScopes``),
      ``okta:auth/serverScope:ServerScope`` ``<name>-groups-scope``.
    - On the org server the issuer comes from ``okta:index/getOrgMetadata:getOrgMetadata``.
    - ``okta:group/group:Group`` ``<name>-group-<slug>``: one per group, only with ``createGroups``;
      otherwise each group is looked up by name (``okta:group/getGroup:getGroup``) and must
      be found under exactly that name, or the ``up`` fails before assigning it.
    - ``okta:app/groupAssignment:GroupAssignment`` ``<name>-group-<slug>``: one per group.
    - ``okta:app/user:User`` ``<name>-user-<slug>``: one per user login, looked up by
      ``profile.login`` (``okta:user/getUser:getUser``).
    """

    app_id: pulumi.Output[str]
    """Okta's id of the app (what assignments reference)."""
    client_id: pulumi.Output[str]
    """OAuth client id, for the Dex connector's ``clientID``."""
    client_secret: pulumi.Output[str]
    """OAuth client secret (a Pulumi secret), for the Dex connector's ``clientSecret``."""
    issuer: pulumi.Output[str]
    """The issuer Okta reports for the configured server, for the Dex connector's ``issuer``."""
    redirect_uri: pulumi.Output[str]
    """The sign-in redirect registered on the app == the Dex connector's ``redirectURI``."""
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
        app = self._create_app(name, settings, args.public_url, org_groups_claim=not custom_server)
        if found:
            access = _admit_to_custom_server(name, settings, found, app, parent=self)
            self.issuer = access.issuer
            self.connector_scopes = access.connector_scopes
        else:
            self.issuer = self._org_issuer()
            # The org server defines `groups` itself (Okta "Scopes": org authorization server).
            self.connector_scopes = dex.okta_connector_scopes(groups=True)
        for index, group in enumerate(settings.groups):
            self._assign_group(name, app, group, index, create=settings.create_groups)
        for login in settings.users:
            self._assign_user(name, app, login)

        self.app_id = app.id
        self.client_id = app.client_id
        # The SDK lists clientSecret in additional_secret_outputs, which only the engine applies;
        # wrapping it here keeps it secret for every consumer, mocks and previews included.
        self.client_secret = pulumi.Output.secret(app.client_secret)
        self.redirect_uri = pulumi.Output.from_input(urls.dex_callback_uri(args.public_url))
        self.register_outputs(
            {
                "app_id": self.app_id,
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "issuer": self.issuer,
                "redirect_uri": self.redirect_uri,
            }
        )

    def _create_app(
        self,
        name: str,
        settings: OktaAppSettings,
        public_url: urls.PublicUrl,
        *,
        org_groups_claim: bool,
    ) -> okta.app.OAuth:
        groups_claim = None
        if settings.groups_claim and org_groups_claim:
            # On the org authorization server the app's groups claim is the only way to get
            # groups into ID tokens (Okta "customize tokens with a groups claim" guide). It is
            # deprecated and silently skipped unless the provider uses an SSWS token
            # (okta/terraform-provider-okta#2730), which settings enforce.
            groups_claim = okta.app.OAuthGroupsClaimArgs(
                name=okta_decisions.GROUPS_CLAIM,
                type="FILTER",
                filter_type="REGEX",
                value=okta_decisions.GROUPS_FILTER_REGEX,
            )
        rotate = settings.refresh_token_rotation == "ROTATE"
        return okta.app.OAuth(
            f"{name}-app",
            label=settings.app_label,
            type="web",
            # Without an explicit list the provider sends only the type's required grant
            # (authorization_code) and Dex never gets a refresh token. No implicit grant: Dex
            # uses the code flow only.
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            redirect_uris=[urls.dex_callback_uri(public_url)],
            # Where Okta may send the browser after sign-out: Pachyderm's console at the origin.
            post_logout_redirect_uris=[str(public_url)],
            token_endpoint_auth_method=TOKEN_ENDPOINT_AUTH_METHOD,
            # Dex's oidc connector sends no PKCE challenge: a required PKCE would fail every
            # login with "PKCE code challenge is required" (okta/terraform-provider-okta#1325).
            pkce_required=False,
            # REQUIRED needs the API Access Management consent flags; users consent via Okta.
            consent_method="TRUSTED",
            # Tokens from the org server name the org URL, which is what the org issuer read
            # from Okta (getOrgMetadata) is; a custom server's issuer mode is its own setting.
            issuer_mode="ORG_URL",
            refresh_token_rotation=settings.refresh_token_rotation,
            refresh_token_leeway=ROTATION_LEEWAY_SECONDS if rotate else 0,
            groups_claim=groups_claim,
            # The dashboard tile (hidden by default) starts the sign-in at the console.
            login_uri=str(public_url),
            login_mode=LOGIN_MODE,
            login_scopes=list(LOGIN_SCOPES),
            hide_web=False,
            # Okta puts every new app under the org's default authentication policy itself; the
            # provider's own re-assignment of that policy would only add calls and the
            # okta.policies.read right (docs/decisions.md, "Creating the app").
            skip_authentication_policy=True,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _org_issuer(self) -> pulumi.Output[str]:
        # The org authorization server's issuer is the org URL Okta publishes in its
        # /.well-known/okta-organization document (terraform-provider-okta
        # data_source_okta_org_metadata.go, `domains.organization`).
        metadata = okta.get_org_metadata_output(opts=pulumi.InvokeOutputOptions(parent=self))
        return metadata.apply(
            lambda found: okta_decisions.org_issuer(
                found.domains.organization if found.domains else None
            )
        )

    def _assign_group(
        self, name: str, app: okta.app.OAuth, group: str, index: int, *, create: bool
    ) -> None:
        child = f"{name}-group-{name_suffix(group)}"
        group_id: pulumi.Output[str]
        if create:
            group_id = okta.group.Group(
                child, name=group, opts=pulumi.ResourceOptions(parent=self)
            ).id
        else:
            # parent=self makes the lookup use the component's explicit provider (default
            # providers are disabled). include_users=False: membership is not needed and costs
            # paged API calls against Okta's rate limits (okta/terraform-provider-okta#2166).
            found = okta.group.get_group_output(
                name=group,
                include_users=False,
                opts=pulumi.InvokeOutputOptions(parent=self),
            )
            # The lookup accepts a lone prefix match; failing here fails the assignment's
            # registration, so no assignment is ever made with that group's id.
            key = config_key((PROJECT, "okta", "groups", index))
            group_id = pulumi.Output.all(found.name, found.id).apply(
                lambda answer: okta_decisions.exact_group_id(group, answer[0], answer[1], key)
            )
        # One GroupAssignment per group, never okta.AppGroupAssignments: that resource owns the
        # app's whole group list and removes assignments it did not declare (#1871).
        okta.app.GroupAssignment(
            child,
            app_id=app.id,
            group_id=group_id,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _assign_user(self, name: str, app: okta.app.OAuth, login: str) -> None:
        # skip_groups/skip_roles: the id is all we need, and reading admin roles would also
        # need okta.roles.read under private-key auth.
        user = okta.user.get_user_output(
            searches=[{"name": "profile.login", "value": login, "comparison": "eq"}],
            skip_groups=True,
            skip_roles=True,
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        okta.app.User(
            f"{name}-user-{name_suffix(login)}",
            app_id=app.id,
            user_id=user.id,
            # The app's default username template is ${source.login}; setting the same value
            # keeps the assignment free of diffs.
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
    if settings.groups_claim and not scope_is_ours:
        okta_decisions.check_groups_claim_is_free(claims, server_id)
    return ServerScopes(server_id, marker, others_groups_scope=not ours_or_absent)


def _admit_to_custom_server(
    name: str,
    settings: OktaAppSettings,
    found: ServerScopes,
    app: okta.app.OAuth,
    *,
    parent: pulumi.Resource,
) -> CustomServerAccess:
    """Let ``app`` sign in through the custom server ``settings.authorization_server``.

    ``found`` is :func:`_read_custom_server`'s answer. Children of ``parent``: the server read
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
    parent: pulumi.Resource,
) -> okta.auth.ServerScope | None:
    # The app's groups claim only shapes org-server tokens; a custom server mints its own
    # claims (Okta "add a groups claim for a custom authorization server"). Dex requests the
    # `groups` scope, which a custom server rejects with invalid_scope unless it defines it:
    # the scope is created here unless the server already has one of its own.
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
        value=okta_decisions.GROUPS_FILTER_REGEX,
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
