"""OktaOidcApp under recording mocks: the Okta app, its server access, groups claim, assignments.

Guards against the Okta regressions users hit, all of which show up only when someone clicks
"log in": an app without the refresh-token grant or with PKCE required; an app whose token-endpoint
auth method differs from how Dex sends the secret; a custom authorization server with no access
policy for the app ("Policy evaluation failed for this request"); an issuer assembled from strings
instead of read from Okta (a CUSTOM_URL server, a trailing slash); a second ``groups`` scope on a
server that already has one, or this stack's own scope dropped on the next ``up``; groups missing
from ID tokens (claim on the wrong server); someone else's ``groups`` claim or bare scope taken for
this stack's; an access policy that fights Okta's renumbering; a dashboard tile that leads nowhere;
assignments that reference the wrong group or user (a group Okta only prefix-matches); children
outside the component or its explicit provider; and a client secret that is not a Pulumi secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from components import providers
from components.naming import name_suffix
from components.okta_app import OktaOidcApp, OktaOidcAppArgs, look_up_assignees
from components.settings import StackConfigError, load_settings
from testkit.mocks import InvokeRefusedError, MockRun, OktaGroups
from testkit.offline_up import dev_stack, plan_program
from testkit.runtime import drained_event_loop
from testkit.stacks import dev_auth

COMPONENT = "pachyderm-okta:okta:OidcApp"
OAUTH = "okta:app/oAuth:OAuth"
GROUP = "okta:group/group:Group"
GROUP_ASSIGNMENT = "okta:app/groupAssignment:GroupAssignment"
APP_USER = "okta:app/user:User"
APP_GROUP_ASSIGNMENTS = "okta:index/appGroupAssignments:AppGroupAssignments"
AUTH_SERVER = "okta:auth/server:Server"
SERVER_SCOPE = "okta:auth/serverScope:ServerScope"
SERVER_CLAIM = "okta:auth/serverClaim:ServerClaim"
SERVER_POLICY = "okta:auth/serverPolicy:ServerPolicy"
SERVER_POLICY_RULE = "okta:auth/serverPolicyRule:ServerPolicyRule"
GET_GROUP = "okta:group/getGroup:getGroup"
GET_USER = "okta:user/getUser:getUser"
GET_ORG_METADATA = "okta:index/getOrgMetadata:getOrgMetadata"
GET_SERVER_SCOPES = "okta:auth/getServerScopes:getServerScopes"
GET_SERVER_CLAIMS = "okta:index/getAuthServerClaims:getAuthServerClaims"
PROVIDER = "pulumi:providers:okta"

CLIENT_ID = "0oa-test-client-id"
CLIENT_SECRET = "test-okta-client-secret-0004"
PUBLIC_URL = "https://pachyderm.example.com"
# What Okta answers: deliberately not what okta:orgName/okta:baseUrl would spell, so a test
# passes only if the issuer is read, never assembled.
ORG_URL = "https://dev-123456.okta.com"
CUSTOM_SERVER = "aus1custom"
CUSTOM_ISSUER = "https://login.example.com/oauth2/aus1custom"
OUR_SCOPE = "Groups in ID tokens for Pachyderm's Dex sign-in (Pulumi stack pachyderm-okta/dev)"
DEX_SCOPES = ["openid", "profile", "email", "groups", "offline_access"]
# The org's groups: every name a test configures, some next to a longer name it prefixes (Okta's
# name search is a prefix match).
ORG_GROUPS = OktaGroups(("admins", "pachyderm-admins", "Data Eng", "Data Engineering"))


NO_GROUP = "^(?:)$"
# Every group the stack names, escaped: assignments and each kind of group binding.
NAMED_GROUPS_AUTH = {
    "clusterAdmins": ["group:pachyderm-admins"],
    "roleBindings": {"allClusterUsers": ["projectViewer"]},
    "projects": {
        "team-a": {"create": True, "roleBindings": {"group:team.a+ops": ["projectOwner"]}}
    },
    "repos": {"team-a/raw": {"roleBindings": {"group:Data Analysts": ["repoReader"]}}},
}
NAMED_GROUPS_FILTER = r"^(?:Data\ Analysts|Data\ Eng|pachyderm\-admins|team\.a\+ops)$"


def _entries(
    okta_app: dict[str, Any], auth: dict[str, Any] | None = None
) -> dict[str, tuple[str, bool]]:
    bound = {"pachyderm-okta:auth": (json.dumps(auth), False)} if auth is not None else {}
    return {
        **bound,
        "okta:orgName": ("dev-123456", False),
        "okta:baseUrl": ("okta.com", False),
        "okta:apiToken": ("test-okta-api-token-SSWS-0001", True),
        "pachyderm-okta:publicUrl": (PUBLIC_URL, False),
        "pachyderm-okta:okta": (json.dumps(okta_app), False),
        # An https URL with TLS in a load balancer (NodePort would need TLS at the proxy).
        "pachyderm-okta:pachyderm": (json.dumps({"serviceType": "LoadBalancer"}), False),
    }


def _group_id(name: str) -> str:
    return OktaGroups.group_id(name)


def _user_id(login: str) -> str:
    return f"00u-{login}"


def _canonical(call: tuple[str, dict[str, Any]]) -> str:
    return json.dumps(call, sort_keys=True)


def _get_user(args: dict[str, Any]) -> dict[str, Any]:
    (search,) = args["searches"]
    return {"id": _user_id(search["value"])}


def _scope(name: str, description: str | None) -> dict[str, Any]:
    """A scope as ``getServerScopes`` lists it."""
    return {
        "id": f"scp-{name}",
        "name": name,
        "description": description,
        "displayName": name,
        "consent": "IMPLICIT",
        "metadataPublish": "ALL_CLIENTS",
        "default": False,
        "optional": False,
        "system": name in ("openid", "profile", "email", "offline_access"),
    }


def _server_scopes(*extra: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """``getServerScopes`` for a server with Okta's default scopes plus ``extra``."""
    defaults = [_scope(name, "") for name in ("openid", "profile", "email", "offline_access")]
    return lambda args: {
        "authServerId": args["authServerId"],
        "id": args["authServerId"],
        "scopes": [*defaults, *extra],
    }


def _claim(name: str, **changes: Any) -> dict[str, Any]:
    """A claim as ``getAuthServerClaims`` lists it: by default this program's ``groups`` claim."""
    return {
        "id": f"ocl-{name}",
        "name": name,
        "claimType": "IDENTITY",
        "valueType": "GROUPS",
        "value": ".*",
        "scopes": ["groups"],
        "alwaysIncludeInToken": True,
        "status": "ACTIVE",
        **changes,
    }


# The claim every custom server starts with (Okta, "Create claims": a default subject claim).
SUB_CLAIM = _claim("sub", claimType="RESOURCE", valueType="EXPRESSION", value="user.id", scopes=[])


def _server_claims(*extra: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """``getAuthServerClaims`` for a server with its default ``sub`` claim plus ``extra``."""
    return lambda args: {
        "authServerId": args["authServerId"],
        "id": args["authServerId"],
        "claims": [SUB_CLAIM, *extra],
    }


@pytest.fixture
def okta_mocks(mock_run: MockRun) -> MockRun:
    """``mock_run`` answering what Okta would: app credentials, org metadata, server, lookups."""
    mock_run.mocks.outputs[OAUTH] = lambda _args: {
        "clientId": CLIENT_ID,
        "clientSecret": CLIENT_SECRET,
    }
    # A server in CUSTOM_URL issuer mode: its issuer is not on the org's domain.
    mock_run.mocks.outputs[AUTH_SERVER] = lambda args: {
        "issuer": f"https://login.example.com/oauth2/{args.resource_id}",
        "issuerMode": "CUSTOM_URL",
    }
    mock_run.mocks.invokes[GET_ORG_METADATA] = lambda _args: {
        "id": "00o-test-org",
        "pipeline": "idx",
        "domains": {"organization": f"{ORG_URL}/", "alternate": ""},
    }
    mock_run.mocks.invokes[GET_SERVER_SCOPES] = _server_scopes()
    mock_run.mocks.invokes[GET_SERVER_CLAIMS] = _server_claims()
    mock_run.mocks.invokes[GET_GROUP] = ORG_GROUPS.get_group
    mock_run.mocks.invokes[GET_USER] = _get_user
    return mock_run


def _deploy(
    run: MockRun, okta_app: dict[str, Any], name: str = "sso", auth: dict[str, Any] | None = None
) -> OktaOidcApp:
    """Build settings and the Okta provider as ``__main__`` does, then the component."""

    def program() -> OktaOidcApp:
        settings = load_settings(lambda: _entries(okta_app, auth))
        provider = providers.okta_provider("okta", settings.okta_org)
        project = settings.project
        assignees = look_up_assignees(project.okta, provider)
        return OktaOidcApp(
            name,
            OktaOidcAppArgs(
                app=project.okta,
                public_url=project.public_url,
                assignees=assignees,
                claimed_groups=project.claimed_groups(),
            ),
            opts=pulumi.ResourceOptions(providers=[provider]),
        )

    return run.run(program)


def _app_inputs(**changes: Any) -> dict[str, Any]:
    """The exact inputs registered for the app, with ``changes`` (``None`` drops a key)."""
    inputs = {
        "label": "Pachyderm",
        "type": "web",
        "grantTypes": ["authorization_code", "refresh_token"],
        "responseTypes": ["code"],
        "redirectUris": [f"{PUBLIC_URL}/dex/callback"],
        "postLogoutRedirectUris": [PUBLIC_URL],
        # The same method Dex uses on every host (the connector sets basicAuthUnsupported).
        "tokenEndpointAuthMethod": "client_secret_post",
        "pkceRequired": False,
        "consentMethod": "TRUSTED",
        "issuerMode": "ORG_URL",
        "refreshTokenRotation": "STATIC",
        "refreshTokenLeeway": 0,
        # A stack that names no group: a filter no group name matches.
        "groupsClaim": {
            "name": "groups",
            "type": "FILTER",
            "filterType": "REGEX",
            "value": NO_GROUP,
        },
        # The dashboard tile opens the console, which signs in through Dex.
        "loginUri": PUBLIC_URL,
        "loginMode": "SPEC",
        "loginScopes": ["openid", "profile", "email"],
        "hideWeb": False,
        # Okta assigns the default authentication policy; the provider must not need policy rights.
        "skipAuthenticationPolicy": True,
    }
    for key, value in changes.items():
        if value is None:
            inputs.pop(key)
        else:
            inputs[key] = value
    return inputs


def _invoked(run: MockRun, token: str) -> list[dict[str, Any]]:
    return [args for called, args, _provider in run.mocks.calls if called == token]


def test_org_server_app_and_issuer_read_from_okta(okta_mocks: MockRun) -> None:
    component = _deploy(okta_mocks, {"appLabel": "Pachyderm (dev)"})

    app = okta_mocks.one(OAUTH, "sso-app")
    assert app.plain_inputs == _app_inputs(label="Pachyderm (dev)")
    # The org URL Okta publishes, without the trailing slash Dex would refuse.
    assert okta_mocks.resolve(component.issuer) == (ORG_URL, True, False)
    assert _invoked(okta_mocks, GET_ORG_METADATA) == [{}]
    # Nothing new on the org server: no read, scope, claim, policy or rule.
    assert okta_mocks.reads == []
    for kind in (SERVER_SCOPE, SERVER_CLAIM, SERVER_POLICY, SERVER_POLICY_RULE):
        assert okta_mocks.of_type(kind) == []
    assert _invoked(okta_mocks, GET_SERVER_SCOPES) == []
    # The org server defines `groups` itself.
    assert ["openid", *component.connector_scopes] == DEX_SCOPES


def test_org_issuer_is_okta_answer_not_the_configured_names(okta_mocks: MockRun) -> None:
    okta_mocks.mocks.invokes[GET_ORG_METADATA] = lambda _args: {
        "domains": {"organization": "https://acme.oktapreview.com", "alternate": ""}
    }
    component = _deploy(okta_mocks, {})

    assert okta_mocks.resolve(component.issuer)[0] == "https://acme.oktapreview.com"


def test_org_metadata_without_organization_url_fails_naming_the_keys(okta_mocks: MockRun) -> None:
    okta_mocks.mocks.invokes[GET_ORG_METADATA] = lambda _args: {"domains": None}

    # OktaIssuerError, possibly wrapped by Pulumi's serializer into a ValueError quoting it.
    with pytest.raises(ValueError, match="names no organization URL; check okta:orgName and"):
        _deploy(okta_mocks, {})


def test_custom_server_without_issuer_fails_naming_the_key(okta_mocks: MockRun) -> None:
    okta_mocks.mocks.outputs[AUTH_SERVER] = lambda _args: {"issuer": "", "issuerMode": "ORG_URL"}

    # The connector must never get an empty issuer.
    with pytest.raises(ValueError, match=r"no issuer for authorization server 'aus1custom' \(pach"):
        _deploy(okta_mocks, {"authorizationServer": CUSTOM_SERVER})


def test_custom_server_gets_policy_rule_scope_claim_and_okta_issuer(okta_mocks: MockRun) -> None:
    component = _deploy(okta_mocks, {"authorizationServer": CUSTOM_SERVER})

    assert okta_mocks.one(OAUTH, "sso-app").plain_inputs == _app_inputs(groupsClaim=None)
    assert ["openid", *component.connector_scopes] == DEX_SCOPES
    (server,) = okta_mocks.reads
    assert (server.type, server.name, server.id) == (
        AUTH_SERVER,
        "sso-authorization-server",
        CUSTOM_SERVER,
    )
    assert okta_mocks.resolve(component.issuer) == (CUSTOM_ISSUER, True, False)
    assert _invoked(okta_mocks, GET_SERVER_SCOPES) == [{"authServerId": CUSTOM_SERVER}]
    assert _invoked(okta_mocks, GET_ORG_METADATA) == []

    scope = okta_mocks.one(SERVER_SCOPE, "sso-groups-scope")
    assert scope.plain_inputs == {
        "authServerId": CUSTOM_SERVER,
        "name": "groups",
        "description": OUR_SCOPE,
        "consent": "IMPLICIT",
        "metadataPublish": "ALL_CLIENTS",
    }
    claim = okta_mocks.one(SERVER_CLAIM, "sso-groups-claim")
    assert claim.plain_inputs == {
        "authServerId": CUSTOM_SERVER,
        "name": "groups",
        "claimType": "IDENTITY",
        "valueType": "GROUPS",
        "groupFilterType": "REGEX",
        "value": NO_GROUP,
        "scopes": ["groups"],
        "alwaysIncludeInToken": True,
    }
    assert scope.urn in claim.dependencies

    app = okta_mocks.one(OAUTH, "sso-app")
    policy = okta_mocks.one(SERVER_POLICY, "sso-access-policy")
    assert policy.plain_inputs == {
        "authServerId": CUSTOM_SERVER,
        "name": "Pachyderm",
        "description": "Sign-in to Pachyderm through Dex (Pachyderm)",
        "priority": 1,
        # This app's client only: other clients of the server keep their own policies.
        "clientWhitelists": [CLIENT_ID],
    }
    assert app.urn in policy.dependencies
    rule = okta_mocks.one(SERVER_POLICY_RULE, "sso-access-rule")
    assert rule.plain_inputs == {
        "authServerId": CUSTOM_SERVER,
        "policyId": "sso-access-policy-id",
        "name": "Dex sign-in",
        "priority": 1,
        "grantTypeWhitelists": ["authorization_code", "refresh_token"],
        "groupWhitelists": ["EVERYONE"],
        "scopeWhitelists": DEX_SCOPES,
    }
    # The rule names the groups scope, so Okta must know the scope first.
    assert {policy.urn, scope.urn} <= set(rule.dependencies)


def test_custom_server_with_its_own_groups_scope_uses_it(okta_mocks: MockRun) -> None:
    okta_mocks.mocks.invokes[GET_SERVER_SCOPES] = _server_scopes(
        _scope("groups", "Group memberships, for every app")
    )
    _deploy(okta_mocks, {"authorizationServer": CUSTOM_SERVER})

    # Someone else's scope: used by name, never declared, so destroy never deletes it.
    assert okta_mocks.of_type(SERVER_SCOPE) == []
    claim = okta_mocks.one(SERVER_CLAIM, "sso-groups-claim")
    assert claim.plain_inputs["scopes"] == ["groups"]
    rule = okta_mocks.one(SERVER_POLICY_RULE, "sso-access-rule")
    assert rule.plain_inputs["scopeWhitelists"] == DEX_SCOPES
    policy = okta_mocks.one(SERVER_POLICY, "sso-access-policy")
    assert policy.plain_inputs["clientWhitelists"] == [CLIENT_ID]
    assert rule.dependencies == (policy.urn,)


@pytest.mark.parametrize(
    ("description", "claims"),
    [(OUR_SCOPE, [_claim("groups")]), ("", [_claim("groups")]), (None, [_claim("groups")])],
    ids=["this-stack", "earlier-version-without-description", "no-description"],
)
def test_this_stacks_own_groups_scope_stays_declared(
    okta_mocks: MockRun, description: str | None, claims: list[dict[str, Any]]
) -> None:
    # The second `up` finds the scope the first one created: dropping it from the program would
    # make Pulumi delete it (and break every login). Versions before the description mark always
    # created this program's claim with the scope.
    okta_mocks.mocks.invokes[GET_SERVER_SCOPES] = _server_scopes(_scope("groups", description))
    okta_mocks.mocks.invokes[GET_SERVER_CLAIMS] = _server_claims(*claims)
    _deploy(okta_mocks, {"authorizationServer": CUSTOM_SERVER})

    scope = okta_mocks.one(SERVER_SCOPE, "sso-groups-scope")
    assert scope.plain_inputs["description"] == OUR_SCOPE


@pytest.mark.parametrize("description", ["", None], ids=["empty", "none"])
def test_someone_elses_groups_scope_without_description_is_not_taken(
    okta_mocks: MockRun, description: str | None
) -> None:
    # A bare `groups` scope made in the console, with no claim of this program's shape next to
    # it: declaring it would make Pulumi create a second one, and destroy delete theirs.
    okta_mocks.mocks.invokes[GET_SERVER_SCOPES] = _server_scopes(_scope("groups", description))
    _deploy(okta_mocks, {"authorizationServer": CUSTOM_SERVER})

    assert okta_mocks.of_type(SERVER_SCOPE) == []
    claim = okta_mocks.one(SERVER_CLAIM, "sso-groups-claim")
    assert claim.plain_inputs["scopes"] == ["groups"]
    assert okta_mocks.one(SERVER_POLICY_RULE).plain_inputs["scopeWhitelists"] == DEX_SCOPES


@pytest.mark.parametrize(
    "server_scopes",
    [(_scope("groups", "Group memberships, for every app"),), ()],
    ids=["their-groups-scope", "no-groups-scope"],
)
def test_someone_elses_groups_claim_fails_before_anything_is_created(
    okta_mocks: MockRun, server_scopes: tuple[dict[str, Any], ...]
) -> None:
    okta_mocks.mocks.invokes[GET_SERVER_SCOPES] = _server_scopes(*server_scopes)
    okta_mocks.mocks.invokes[GET_SERVER_CLAIMS] = _server_claims(
        _claim("groups", value="pachyderm-", scopes=["groups", "profile"])
    )

    with pytest.raises(ValueError) as raised:
        _deploy(okta_mocks, {"authorizationServer": CUSTOM_SERVER})

    assert str(raised.value) == (
        "pachyderm-okta:okta.groupsClaim: authorization server 'aus1custom' already has a "
        "'groups' claim that this stack did not make; set groupsClaim: false to leave the "
        "server's groups claim and scope as they are, or delete that claim in Okta"
    )
    created = [r for r in okta_mocks.registrations if r.type not in (COMPONENT, PROVIDER)]
    assert created == []


def test_access_policy_leaves_okta_renumbering_alone(okta_mocks: MockRun) -> None:
    # Another policy created at priority 1 moves this one down; setting 1 again on every `up`
    # would make two stacks on one server take turns (okta/terraform-provider-okta#2140).
    _deploy(okta_mocks, {"authorizationServer": CUSTOM_SERVER})

    policy = okta_mocks.one(SERVER_POLICY, "sso-access-policy")
    assert policy.plain_inputs["priority"] == 1
    assert policy.ignore_changes == ("priority",)


@pytest.mark.parametrize(
    ("server_scopes", "connector_scopes"),
    [
        # Okta's default scopes only: requesting `groups` would fail every sign-in with
        # invalid_scope, so neither Dex nor the access rule names it.
        ((), ("profile", "email", "offline_access")),
        # The server has a `groups` scope of its own (its own claim may use it): Dex requests it.
        ((_scope("groups", "theirs"),), ("profile", "email", "groups", "offline_access")),
        # The scope an earlier `up` of this stack made: no longer declared, this `up` deletes it.
        ((_scope("groups", OUR_SCOPE),), ("profile", "email", "offline_access")),
    ],
    ids=[
        "server-without-groups-scope",
        "server-with-its-own-groups-scope",
        "scope-this-stack-made-before-the-claim-was-turned-off",
    ],
)
def test_custom_server_without_groups_claim_still_lets_the_app_in(
    okta_mocks: MockRun,
    server_scopes: tuple[dict[str, Any], ...],
    connector_scopes: tuple[str, ...],
) -> None:
    okta_mocks.mocks.invokes[GET_SERVER_SCOPES] = _server_scopes(*server_scopes)
    component = _deploy(okta_mocks, {"authorizationServer": "default", "groupsClaim": False})

    assert okta_mocks.of_type(SERVER_SCOPE) == []
    assert okta_mocks.of_type(SERVER_CLAIM) == []
    assert _invoked(okta_mocks, GET_SERVER_SCOPES) == [{"authServerId": "default"}]
    assert okta_mocks.one(SERVER_POLICY).plain_inputs["authServerId"] == "default"
    rule = okta_mocks.one(SERVER_POLICY_RULE)
    assert rule.plain_inputs["scopeWhitelists"] == ["openid", *connector_scopes]
    assert component.connector_scopes == connector_scopes
    assert rule.dependencies == (okta_mocks.one(SERVER_POLICY).urn,)
    assert [read.id for read in okta_mocks.reads] == ["default"]
    assert okta_mocks.resolve(component.issuer)[0] == "https://login.example.com/oauth2/default"


def test_rotation_gets_a_grace_period_and_claim_can_be_turned_off(okta_mocks: MockRun) -> None:
    _deploy(okta_mocks, {"refreshTokenRotation": "ROTATE", "groupsClaim": False})

    inputs = okta_mocks.one(OAUTH, "sso-app").plain_inputs
    assert inputs["refreshTokenRotation"] == "ROTATE"
    assert inputs["refreshTokenLeeway"] == 30
    assert "groupsClaim" not in inputs
    assert okta_mocks.of_type(SERVER_CLAIM) == []


def test_existing_groups_and_users_are_looked_up_and_assigned_once(okta_mocks: MockRun) -> None:
    groups = ["pachyderm-admins", "Data Eng"]
    users = ["alice@example.com", "bob@example.com"]
    _deploy(okta_mocks, {"groups": groups, "users": users})

    assert okta_mocks.of_type(GROUP) == []
    assert okta_mocks.of_type(APP_GROUP_ASSIGNMENTS) == []
    assignments = {r.name: r.plain_inputs for r in okta_mocks.of_type(GROUP_ASSIGNMENT)}
    assert assignments == {
        f"sso-group-{name_suffix(g)}": {"appId": "sso-app-id", "groupId": _group_id(g)}
        for g in groups
    }
    app_users = {r.name: r.plain_inputs for r in okta_mocks.of_type(APP_USER)}
    assert app_users == {
        f"sso-user-{name_suffix(u)}": {"appId": "sso-app-id", "userId": _user_id(u), "username": u}
        for u in users
    }
    # Lookups resolve concurrently, so compare them as a multiset.
    expected_calls = [
        (GET_ORG_METADATA, {}),
        *((GET_GROUP, {"name": g, "includeUsers": False}) for g in groups),
        *(
            (
                GET_USER,
                {
                    "searches": [{"name": "profile.login", "value": u, "comparison": "eq"}],
                    "skipGroups": True,
                    "skipRoles": True,
                },
            )
            for u in users
        ),
    ]
    invokes = [(token, args) for token, args, _provider in okta_mocks.mocks.calls]
    invoke_providers = [provider for _token, _args, provider in okta_mocks.mocks.calls]
    assert sorted(map(_canonical, invokes)) == sorted(map(_canonical, expected_calls))
    # Lookups go through the explicit provider: default providers are disabled in Pulumi.yaml.
    provider = okta_mocks.one(PROVIDER)
    assert len(invoke_providers) == 5
    assert all(ref.startswith(f"{provider.urn}::") for ref in invoke_providers)
    app = okta_mocks.one(OAUTH)
    assert all(app.urn in r.dependencies for r in okta_mocks.of_type(GROUP_ASSIGNMENT))


def test_names_okta_does_not_know_fail_before_anything_is_created(okta_mocks: MockRun) -> None:
    # The org has `pachyderm-admins-eu` but no `pachyderm-admin`: the lookup returns the lone
    # prefix match, and assigning it would let the wrong people in.
    okta_mocks.mocks.invokes[GET_GROUP] = OktaGroups(("admins", "pachyderm-admins-eu")).get_group

    def get_user(args: dict[str, Any]) -> dict[str, Any]:
        (search,) = args["searches"]
        if search["value"] == "ghost@example.com":
            raise InvokeRefusedError("no user found for profile.login eq ghost@example.com")
        return _get_user(args)

    okta_mocks.mocks.invokes[GET_USER] = get_user

    with pytest.raises(StackConfigError) as raised:
        _deploy(
            okta_mocks,
            {
                "groups": ["admins", "pachyderm-admin", "data-eng"],
                "users": ["alice@example.com", "ghost@example.com"],
            },
        )

    assert str(raised.value) == (
        "The stack configuration has 3 problems (nothing was created):\n"
        "  pachyderm-okta:okta.groups[1]: Okta has no group named 'pachyderm-admin'; its name "
        "search found only 'pachyderm-admins-eu', which pulumi-okta would have assigned instead. "
        "Correct the name (compared exactly, case included), create the group in Okta, or set "
        "createGroups: true\n"
        "  pachyderm-okta:okta.groups[2]: Okta's lookup of the group failed: group with name "
        "'data-eng' does not exist\n"
        "  pachyderm-okta:okta.users[1]: Okta's lookup of the user failed: no user found for "
        "profile.login eq ghost@example.com"
    )
    assert "Traceback" not in str(raised.value)
    # The explicit provider alone: no component, app, assignment or anything else.
    assert [r.type for r in okta_mocks.registrations] == [PROVIDER]


def test_created_groups_are_assigned_without_lookups(okta_mocks: MockRun) -> None:
    groups = ["pachyderm-admins", "pachyderm-users"]
    _deploy(okta_mocks, {"groups": groups, "createGroups": True})

    created = {r.name: r.plain_inputs for r in okta_mocks.of_type(GROUP)}
    assert created == {f"sso-group-{name_suffix(g)}": {"name": g} for g in groups}
    assignments = {r.name: r.plain_inputs["groupId"] for r in okta_mocks.of_type(GROUP_ASSIGNMENT)}
    assert assignments == {name: f"{name}-id" for name in created}
    assert [token for token, _args, _provider in okta_mocks.mocks.calls] == [GET_ORG_METADATA]


def test_nothing_assigned_or_looked_up_when_none_configured(okta_mocks: MockRun) -> None:
    _deploy(okta_mocks, {})

    for kind in (GROUP, GROUP_ASSIGNMENT, APP_USER, APP_GROUP_ASSIGNMENTS):
        assert okta_mocks.of_type(kind) == []
    assert [token for token, _args, _provider in okta_mocks.mocks.calls] == [GET_ORG_METADATA]


def test_only_the_client_secret_is_secret(okta_mocks: MockRun) -> None:
    component = _deploy(okta_mocks, {})

    assert okta_mocks.resolve(component.client_secret) == (CLIENT_SECRET, True, True)
    assert okta_mocks.resolve(component.client_id) == (CLIENT_ID, True, False)
    assert okta_mocks.resolve(component.app_id) == ("sso-app-id", True, False)
    assert okta_mocks.resolve(component.issuer)[1:] == (True, False)


def test_children_are_named_from_the_component_and_parented_to_it(okta_mocks: MockRun) -> None:
    _deploy(
        okta_mocks,
        {"authorizationServer": CUSTOM_SERVER, "groups": ["admins"], "users": ["a@example.com"]},
        name="pachyderm-sso",
    )

    component = okta_mocks.one(COMPONENT, "pachyderm-sso")
    provider = okta_mocks.one(PROVIDER)
    children = [r for r in okta_mocks.registrations if r.urn not in (component.urn, provider.urn)]
    assert sorted((r.type, r.name) for r in children) == sorted(
        [
            (OAUTH, "pachyderm-sso-app"),
            (SERVER_SCOPE, "pachyderm-sso-groups-scope"),
            (SERVER_CLAIM, "pachyderm-sso-groups-claim"),
            (SERVER_POLICY, "pachyderm-sso-access-policy"),
            (SERVER_POLICY_RULE, "pachyderm-sso-access-rule"),
            (GROUP_ASSIGNMENT, f"pachyderm-sso-group-{name_suffix('admins')}"),
            (APP_USER, f"pachyderm-sso-user-{name_suffix('a@example.com')}"),
        ]
    )
    assert all(r.parent == component.urn for r in children)
    # The provider reaches the children, the read and the lookups through parentage alone.
    assert all(r.provider.startswith(f"{provider.urn}::") for r in children)
    (server,) = okta_mocks.reads
    assert (server.name, server.parent) == ("pachyderm-sso-authorization-server", component.urn)
    assert server.provider.startswith(f"{provider.urn}::")
    assert all(ref.startswith(f"{provider.urn}::") for _t, _a, ref in okta_mocks.mocks.calls)


def test_registered_outputs(okta_mocks: MockRun) -> None:
    _deploy(okta_mocks, {})

    component = okta_mocks.one(COMPONENT, "sso")
    outputs = okta_mocks.monitor.component_outputs[component.urn]
    assert set(outputs) == {"app_id", "client_id", "client_secret", "issuer"}
    assert outputs["issuer"] == ORG_URL


@pytest.mark.parametrize(
    ("value", "prefix"),
    [
        ("pachyderm-admins", "pachyderm-admins-"),
        ("Data Eng", "data-eng-"),
        ("alice.o'neil@example.com", "alice-o-neil-example-com-"),
        ("__", ""),
    ],
)
def test_name_suffix_is_readable_and_stable(value: str, prefix: str) -> None:
    slug = name_suffix(value)

    assert slug.startswith(prefix)
    assert len(slug) == len(prefix) + 8
    assert slug == name_suffix(value)


def test_name_suffix_keeps_names_that_fold_together_apart() -> None:
    assert name_suffix("Data Eng") != name_suffix("data-eng")


# --- the groups claim carries only the groups the stack names ------------------------------------


def test_the_org_servers_claim_filters_exactly_the_named_groups(okta_mocks: MockRun) -> None:
    _deploy(okta_mocks, {"groups": ["Data Eng", "pachyderm-admins"]}, auth=NAMED_GROUPS_AUTH)

    claim = okta_mocks.one(OAUTH, "sso-app").plain_inputs["groupsClaim"]

    assert claim == {
        "name": "groups",
        "type": "FILTER",
        "filterType": "REGEX",
        "value": NAMED_GROUPS_FILTER,
    }
    # Whole names only, whether Okta matches the whole name or searches within it.
    for name in ("Data Eng", "team.a+ops", "Data Analysts", "pachyderm-admins"):
        assert re.search(claim["value"], name), name
    for name in ("Data Engineering", "teamXa+ops", "team.aaops", "pachyderm-admins-old", "admins"):
        assert not re.search(claim["value"], name), name


def test_a_custom_servers_claim_filters_exactly_the_named_groups(okta_mocks: MockRun) -> None:
    _deploy(
        okta_mocks,
        {"groups": ["Data Eng", "pachyderm-admins"], "authorizationServer": CUSTOM_SERVER},
        auth=NAMED_GROUPS_AUTH,
    )

    claim = okta_mocks.one(SERVER_CLAIM, "sso-groups-claim").plain_inputs

    assert (claim["groupFilterType"], claim["value"]) == ("REGEX", NAMED_GROUPS_FILTER)


def test_groups_claim_all_keeps_every_group_for_bindings_made_by_hand(
    okta_mocks: MockRun,
) -> None:
    _deploy(okta_mocks, {"groups": ["pachyderm-admins"], "groupsClaim": "all"})

    claim = okta_mocks.one(OAUTH, "sso-app").plain_inputs["groupsClaim"]

    assert claim["value"] == ".*"


def test_a_claim_this_program_made_for_other_groups_is_still_its_own(okta_mocks: MockRun) -> None:
    # An earlier up named other groups: the claim is this stack's, not someone else's.
    earlier = _claim("groups", value=r"^(?:old\-team)$")
    okta_mocks.mocks.invokes[GET_SERVER_CLAIMS] = _server_claims(earlier)

    _deploy(okta_mocks, {"groups": ["pachyderm-admins"], "authorizationServer": CUSTOM_SERVER})

    claim = okta_mocks.one(SERVER_CLAIM, "sso-groups-claim").plain_inputs
    assert claim["value"] == r"^(?:pachyderm\-admins)$"


@pytest.mark.parametrize(
    ("server", "changed"),
    [("org", "okta-app"), (CUSTOM_SERVER, "okta-groups-claim")],
    ids=["org-server", "custom-server"],
)
def test_a_newly_bound_group_changes_only_the_claims_filter(server: str, changed: str) -> None:
    # The Okta cost of a change of the set: one resource updated, its filter alone.
    okta_app = json.dumps({"groups": ["pachyderm-admins"], "authorizationServer": server})
    team = {"default": {"roleBindings": {"group:team-a": ["projectViewer"]}}}

    def okta_inputs(**auth: Any) -> dict[str, dict[str, Any]]:
        with drained_event_loop():
            plan = plan_program(
                dev_stack(
                    "grpc://127.0.0.1:1",
                    pachyderm_okta__okta=okta_app,
                    pachyderm_okta__auth=dev_auth(**auth),
                )
            )
        return {r.name: r.plain_inputs for r in plan.registrations if r.type.startswith("okta:")}

    before, after = okta_inputs(), okta_inputs(projects=team)

    assert before.keys() == after.keys()
    differing = {name for name in before if before[name] != after[name]}
    assert differing == {changed}
    field = "groupsClaim" if server == "org" else "value"
    assert {key for key in after[changed] if after[changed][key] != before[changed][key]} == {field}
    filters = [
        inputs[field]["value"] if server == "org" else inputs[field]
        for inputs in (before[changed], after[changed])
    ]
    assert filters == [r"^(?:pachyderm\-admins)$", r"^(?:pachyderm\-admins|team\-a)$"]
