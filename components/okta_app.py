"""The Okta side of single sign-on: the OIDC web app Dex signs in through, and who may use it.

One :class:`OktaOidcApp` replaces the Okta admin-console steps of the manual procedure: create an
OIDC web app whose sign-in redirect is Dex's callback, put a ``groups`` claim in its ID tokens, and
assign the groups and users that may log in to Pachyderm.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_okta as okta

from components import urls
from components.naming import name_suffix
from components.settings import OktaAppSettings, OktaOrgConfig

# The claim Dex reads when the connector sets `insecureEnableGroups` (pachyderm-auth.md 8.3), and
# the scope pachd and Dex request for it (`auth.DefaultOIDCScopes`).
GROUPS_CLAIM = "groups"
GROUPS_SCOPE = "groups"
# Every Okta group the user is in (Okta guide "Add a groups claim for the org authorization
# server": Filter, "Matches regex", `.*`). Which groups matter is decided by Pachyderm's role
# bindings, not by the token.
GROUPS_FILTER_REGEX = ".*"
# Okta's admin console offers 30 s as the rotation grace period; with 0 s, one retried refresh
# (Dex refreshes upstream tokens on every `pachctl` token refresh) would invalidate the session.
ROTATION_LEEWAY_SECONDS = 30


@dataclass(frozen=True)
class OktaOidcAppArgs:
    """Inputs of :class:`OktaOidcApp`, all already validated by :mod:`components.settings`."""

    app: OktaAppSettings
    """``pachyderm-okta:okta``: label, authorization server, groups, users, claim options."""
    org: OktaOrgConfig
    """``okta:*``: the org whose issuer the app's tokens carry."""
    public_url: urls.PublicUrl
    """``pachyderm-okta:publicUrl``: the origin Dex is served under."""


class OktaOidcApp(pulumi.ComponentResource):
    """An Okta OIDC web app for Pachyderm's Dex, with its groups claim and assignments.

    Pass the explicit ``okta.Provider`` in ``opts`` (``providers=[...]`` or ``provider=``); every
    child and every lookup reaches Okta through it by parentage.

    Children (``name`` is the component's name, ``<slug>`` is ``naming.name_suffix``):

    - ``okta:app/oAuth:OAuth`` ``<name>-app``: the web app; authorization code + refresh token,
      redirect ``<publicUrl>/dex/callback``.
    - ``okta:auth/serverScope:ServerScope`` ``<name>-groups-scope`` and
      ``okta:auth/serverClaim:ServerClaim`` ``<name>-groups-claim``: only for a custom
      authorization server with ``groupsClaim`` on (the org server uses the app's groups claim).
    - ``okta:group/group:Group`` ``<name>-group-<slug>``: one per group, only with ``createGroups``;
      otherwise each group is looked up by name (``okta:group/getGroup:getGroup``).
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
    """Okta's discovery issuer, byte for byte, for the Dex connector's ``issuer``."""
    redirect_uri: pulumi.Output[str]
    """The sign-in redirect registered on the app == the Dex connector's ``redirectURI``."""

    def __init__(
        self, name: str, args: OktaOidcAppArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("pachyderm-okta:okta:OidcApp", name, {}, opts)
        settings = args.app
        custom_server = settings.authorization_server != "org"
        redirect_uri = urls.dex_callback_uri(args.public_url)

        app = self._create_app(name, settings, args.public_url, org_groups_claim=not custom_server)
        if settings.groups_claim and custom_server:
            self._create_server_groups_claim(name, settings.authorization_server)
        for group in settings.groups:
            self._assign_group(name, app, group, create=settings.create_groups)
        for login in settings.users:
            self._assign_user(name, app, login)

        self.app_id = app.id
        self.client_id = app.client_id
        # The SDK lists clientSecret in additional_secret_outputs, which only the engine applies;
        # wrapping it here keeps it secret for every consumer, mocks and previews included.
        self.client_secret = pulumi.Output.secret(app.client_secret)
        self.issuer = pulumi.Output.from_input(
            urls.okta_issuer(args.org.org_name, args.org.base_url, settings.authorization_server)
        )
        self.redirect_uri = pulumi.Output.from_input(redirect_uri)
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
                name=GROUPS_CLAIM,
                type="FILTER",
                filter_type="REGEX",
                value=GROUPS_FILTER_REGEX,
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
            # Dex's oidc connector authenticates with HTTP basic at the token endpoint and, by
            # default, sends no PKCE challenge: a required PKCE would fail every login with
            # "PKCE code challenge is required" (okta/terraform-provider-okta#1325, #1327).
            token_endpoint_auth_method="client_secret_basic",
            pkce_required=False,
            # REQUIRED needs the API Access Management consent flags; users consent via Okta.
            consent_method="TRUSTED",
            # The org domain, not a custom domain: urls.okta_issuer derives the issuer from
            # okta:orgName/okta:baseUrl, and Dex compares issuers byte for byte.
            issuer_mode="ORG_URL",
            refresh_token_rotation=settings.refresh_token_rotation,
            refresh_token_leeway=ROTATION_LEEWAY_SECONDS if rotate else 0,
            groups_claim=groups_claim,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_server_groups_claim(self, name: str, server_id: str) -> None:
        # The app's groups claim only shapes org-server tokens; a custom server mints its own
        # claims (Okta "add a groups claim for a custom authorization server"). The server id is
        # in settings, so no lookup is needed. Dex and pachd request the `groups` scope, which a
        # custom server rejects with invalid_scope unless it defines it, so the scope is created
        # here too; if the server already has a `groups` scope, import it into this resource.
        scope = okta.auth.ServerScope(
            f"{name}-groups-scope",
            auth_server_id=server_id,
            name=GROUPS_SCOPE,
            consent="IMPLICIT",
            metadata_publish="ALL_CLIENTS",
            opts=pulumi.ResourceOptions(parent=self),
        )
        okta.auth.ServerClaim(
            f"{name}-groups-claim",
            auth_server_id=server_id,
            name=GROUPS_CLAIM,
            # IDENTITY: the ID token, which is what Dex reads groups from.
            claim_type="IDENTITY",
            value_type="GROUPS",
            group_filter_type="REGEX",
            value=GROUPS_FILTER_REGEX,
            scopes=[scope.name],
            always_include_in_token=True,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _assign_group(self, name: str, app: okta.app.OAuth, group: str, *, create: bool) -> None:
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
            group_id = okta.group.get_group_output(
                name=group,
                include_users=False,
                opts=pulumi.InvokeOutputOptions(parent=self),
            ).id
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
