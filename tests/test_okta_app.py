"""OktaOidcApp under recording mocks: the Okta app, its groups claim and its assignments.

Guards against the Okta regressions users hit: an app without the refresh-token grant or with PKCE
required (Dex logins fail), a redirect URI or issuer that differs from what Dex computes (trailing
slash), groups missing from ID tokens (claim on the wrong authorization server), assignments that
reference the wrong group or user, ``AppGroupAssignments`` fighting over the app's groups, children
outside the component or its explicit provider, and a client secret that is not a Pulumi secret.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components import providers
from components.naming import name_suffix
from components.okta_app import OktaOidcApp, OktaOidcAppArgs
from components.settings import load_settings
from tests.conftest import MockRun

COMPONENT = "pachyderm-okta:okta:OidcApp"
OAUTH = "okta:app/oAuth:OAuth"
GROUP = "okta:group/group:Group"
GROUP_ASSIGNMENT = "okta:app/groupAssignment:GroupAssignment"
APP_USER = "okta:app/user:User"
APP_GROUP_ASSIGNMENTS = "okta:index/appGroupAssignments:AppGroupAssignments"
SERVER_SCOPE = "okta:auth/serverScope:ServerScope"
SERVER_CLAIM = "okta:auth/serverClaim:ServerClaim"
GET_GROUP = "okta:group/getGroup:getGroup"
GET_USER = "okta:user/getUser:getUser"
PROVIDER = "pulumi:providers:okta"

CLIENT_ID = "0oa-test-client-id"
CLIENT_SECRET = "test-okta-client-secret-0004"


def _entries(okta_app: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    return {
        "okta:orgName": ("dev-123456", False),
        "okta:baseUrl": ("okta.com", False),
        "okta:apiToken": ("test-okta-api-token-SSWS-0001", True),
        "pachyderm-okta:publicUrl": ("https://pachyderm.example.com", False),
        "pachyderm-okta:okta": (json.dumps(okta_app), False),
        # An https URL with TLS in a load balancer (NodePort would need TLS at the proxy).
        "pachyderm-okta:pachyderm": (json.dumps({"serviceType": "LoadBalancer"}), False),
    }


def _group_id(name: str) -> str:
    return f"00g-{name}"


def _user_id(login: str) -> str:
    return f"00u-{login}"


def _canonical(call: tuple[str, dict[str, Any]]) -> str:
    return json.dumps(call, sort_keys=True)


def _get_user(args: dict[str, Any]) -> dict[str, Any]:
    (search,) = args["searches"]
    return {"id": _user_id(search["value"])}


@pytest.fixture
def okta_mocks(mock_run: MockRun) -> MockRun:
    """``mock_run`` with the app's computed outputs and the two Okta lookups answered."""
    mock_run.mocks.outputs[OAUTH] = lambda _args: {
        "clientId": CLIENT_ID,
        "clientSecret": CLIENT_SECRET,
    }
    mock_run.mocks.invokes[GET_GROUP] = lambda args: {"id": _group_id(args["name"])}
    mock_run.mocks.invokes[GET_USER] = _get_user
    return mock_run


def _deploy(run: MockRun, okta_app: dict[str, Any], name: str = "sso") -> OktaOidcApp:
    """Build settings and the Okta provider as ``__main__`` does, then the component."""

    def program() -> OktaOidcApp:
        settings = load_settings(lambda: _entries(okta_app))
        provider = providers.okta_provider("okta", settings.okta_org)
        return OktaOidcApp(
            name,
            OktaOidcAppArgs(
                app=settings.project.okta,
                org=settings.okta_org,
                public_url=settings.project.public_url,
            ),
            opts=pulumi.ResourceOptions(providers=[provider]),
        )

    return run.run(program)


def test_app_is_a_web_code_flow_client_for_dex_with_org_groups_claim(okta_mocks: MockRun) -> None:
    _deploy(okta_mocks, {"appLabel": "Pachyderm (dev)"})

    app = okta_mocks.one(OAUTH, "sso-app")
    assert app.plain_inputs == {
        "label": "Pachyderm (dev)",
        "type": "web",
        "grantTypes": ["authorization_code", "refresh_token"],
        "responseTypes": ["code"],
        "redirectUris": ["https://pachyderm.example.com/dex/callback"],
        "postLogoutRedirectUris": ["https://pachyderm.example.com"],
        "tokenEndpointAuthMethod": "client_secret_basic",
        "pkceRequired": False,
        "consentMethod": "TRUSTED",
        "issuerMode": "ORG_URL",
        "refreshTokenRotation": "STATIC",
        "refreshTokenLeeway": 0,
        "groupsClaim": {"name": "groups", "type": "FILTER", "filterType": "REGEX", "value": ".*"},
    }
    assert okta_mocks.of_type(SERVER_CLAIM) == []
    assert okta_mocks.of_type(SERVER_SCOPE) == []


def test_rotation_gets_a_grace_period_and_claim_can_be_turned_off(okta_mocks: MockRun) -> None:
    _deploy(okta_mocks, {"refreshTokenRotation": "ROTATE", "groupsClaim": False})

    inputs = okta_mocks.one(OAUTH, "sso-app").plain_inputs
    assert inputs["refreshTokenRotation"] == "ROTATE"
    assert inputs["refreshTokenLeeway"] == 30
    assert "groupsClaim" not in inputs
    assert okta_mocks.of_type(SERVER_CLAIM) == []


def test_custom_server_gets_scope_and_claim_instead_of_app_claim(okta_mocks: MockRun) -> None:
    _deploy(okta_mocks, {"authorizationServer": "aus1custom"})

    assert "groupsClaim" not in okta_mocks.one(OAUTH, "sso-app").plain_inputs
    scope = okta_mocks.one(SERVER_SCOPE, "sso-groups-scope")
    assert scope.plain_inputs == {
        "authServerId": "aus1custom",
        "name": "groups",
        "consent": "IMPLICIT",
        "metadataPublish": "ALL_CLIENTS",
    }
    claim = okta_mocks.one(SERVER_CLAIM, "sso-groups-claim")
    assert claim.plain_inputs == {
        "authServerId": "aus1custom",
        "name": "groups",
        "claimType": "IDENTITY",
        "valueType": "GROUPS",
        "groupFilterType": "REGEX",
        "value": ".*",
        "scopes": ["groups"],
        "alwaysIncludeInToken": True,
    }
    assert scope.urn in claim.dependencies


@pytest.mark.parametrize("server", ["org", "default"])
def test_no_groups_claim_anywhere_when_off(okta_mocks: MockRun, server: str) -> None:
    _deploy(okta_mocks, {"authorizationServer": server, "groupsClaim": False})

    assert "groupsClaim" not in okta_mocks.one(OAUTH, "sso-app").plain_inputs
    assert okta_mocks.of_type(SERVER_CLAIM) == []
    assert okta_mocks.of_type(SERVER_SCOPE) == []


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
    assert len(invoke_providers) == 4
    assert all(ref.startswith(f"{provider.urn}::") for ref in invoke_providers)
    app = okta_mocks.one(OAUTH)
    assert all(app.urn in r.dependencies for r in okta_mocks.of_type(GROUP_ASSIGNMENT))


def test_created_groups_are_assigned_without_lookups(okta_mocks: MockRun) -> None:
    groups = ["pachyderm-admins", "pachyderm-users"]
    _deploy(okta_mocks, {"groups": groups, "createGroups": True})

    created = {r.name: r.plain_inputs for r in okta_mocks.of_type(GROUP)}
    assert created == {f"sso-group-{name_suffix(g)}": {"name": g} for g in groups}
    assignments = {r.name: r.plain_inputs["groupId"] for r in okta_mocks.of_type(GROUP_ASSIGNMENT)}
    assert assignments == {name: f"{name}-id" for name in created}
    assert okta_mocks.mocks.calls == []


def test_nothing_assigned_or_looked_up_when_none_configured(okta_mocks: MockRun) -> None:
    _deploy(okta_mocks, {})

    for kind in (
        GROUP,
        GROUP_ASSIGNMENT,
        APP_USER,
        "okta:index/appGroupAssignments:AppGroupAssignments",
    ):
        assert okta_mocks.of_type(kind) == []
    assert okta_mocks.mocks.calls == []


def test_only_the_client_secret_is_secret(okta_mocks: MockRun) -> None:
    component = _deploy(okta_mocks, {})

    assert okta_mocks.resolve(component.client_secret) == (CLIENT_SECRET, True, True)
    assert okta_mocks.resolve(component.client_id) == (CLIENT_ID, True, False)
    assert okta_mocks.resolve(component.app_id) == ("sso-app-id", True, False)
    assert okta_mocks.resolve(component.redirect_uri) == (
        "https://pachyderm.example.com/dex/callback",
        True,
        False,
    )
    assert okta_mocks.resolve(component.issuer)[1:] == (True, False)


@pytest.mark.parametrize(
    ("server", "issuer"),
    [
        ("org", "https://dev-123456.okta.com"),
        ("default", "https://dev-123456.okta.com/oauth2/default"),
        ("aus1custom", "https://dev-123456.okta.com/oauth2/aus1custom"),
    ],
)
def test_issuer_is_oktas_discovery_issuer(okta_mocks: MockRun, server: str, issuer: str) -> None:
    component = _deploy(okta_mocks, {"authorizationServer": server})

    assert okta_mocks.resolve(component.issuer)[0] == issuer


def test_children_are_named_from_the_component_and_parented_to_it(okta_mocks: MockRun) -> None:
    _deploy(
        okta_mocks,
        {"authorizationServer": "default", "groups": ["admins"], "users": ["a@example.com"]},
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
            (GROUP_ASSIGNMENT, f"pachyderm-sso-group-{name_suffix('admins')}"),
            (APP_USER, f"pachyderm-sso-user-{name_suffix('a@example.com')}"),
        ]
    )
    assert all(r.parent == component.urn for r in children)
    # The provider reaches the children through parentage alone.
    assert all(r.provider.startswith(f"{provider.urn}::") for r in children)


def test_registered_outputs(okta_mocks: MockRun) -> None:
    _deploy(okta_mocks, {})

    component = okta_mocks.one(COMPONENT, "sso")
    outputs = okta_mocks.monitor.component_outputs[component.urn]
    assert set(outputs) == {"app_id", "client_id", "client_secret", "issuer", "redirect_uri"}


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
