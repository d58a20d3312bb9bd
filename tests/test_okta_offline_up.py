"""The whole program offline with Okta's answers: the issuer pachd gets is the one Okta reports.

Guards the path from Okta to pachd end to end (``__main__.py`` under mocks, the dynamic resources
through Pulumi's real dynamic provider host, a fake pachd): on the org server and on a custom
authorization server in CUSTOM_URL issuer mode, the connector stored in pachd and the
``oktaIssuer`` stack output carry Okta's issuer byte for byte, the client authenticates in the POST
body, Dex reads Okta's userinfo on both, and a custom server gets an access policy bound to the
app's client id. A connector built from ``okta:orgName``/``okta:baseUrl`` instead would fail OIDC
discovery in the cluster.
"""

from __future__ import annotations

import json

from components import program
from testkit.dynamic_host import DynamicProviderHost
from testkit.fake_pachd import FakePachd
from testkit.offline_up import (
    AUTH_SERVER,
    OKTA_APP,
    OKTA_CLIENT_ID,
    OfflineEngine,
    Plan,
    World,
    dev_stack,
    plan_program,
)

SERVER_POLICY = "okta:auth/serverPolicy:ServerPolicy"
SERVER_POLICY_RULE = "okta:auth/serverPolicyRule:ServerPolicyRule"


def _up(host: DynamicProviderHost, pachd: FakePachd, plan: Plan) -> None:
    result = OfflineEngine(host).up(plan)
    assert [step.action for step in result.steps] == ["create"] * len(plan.dynamic)


def test_org_server_connector_carries_the_org_url_okta_publishes(
    host: DynamicProviderHost, pachd: FakePachd
) -> None:
    world = World(okta_org_url="https://dev-123456.okta.com/")
    plan = plan_program(dev_stack(pachd.address), world=world)
    _up(host, pachd, plan)

    config = pachd.state.connectors["okta"]["config"]
    assert config["issuer"] == plan.exports[program.OUTPUT_OKTA_ISSUER]
    assert config["issuer"] == "https://dev-123456.okta.com"
    assert config["basicAuthUnsupported"] is True
    assert config["getUserInfo"] is True
    app = next(r for r in plan.registrations if r.type == OKTA_APP)
    assert app.plain_inputs["tokenEndpointAuthMethod"] == "client_secret_post"
    assert not [r for r in plan.registrations if r.type in (SERVER_POLICY, SERVER_POLICY_RULE)]


def test_custom_server_connector_carries_the_issuer_okta_reports(
    host: DynamicProviderHost, pachd: FakePachd
) -> None:
    okta_settings = {"appLabel": "Pachyderm (dev)", "authorizationServer": "aus1custom"}
    stack = dev_stack(pachd.address, pachyderm_okta__okta=json.dumps(okta_settings))
    # A custom URL domain: nothing in the stack config spells this host.
    world = World(okta_org_url="https://sso.example.org")
    plan = plan_program(stack, world=world)
    _up(host, pachd, plan)

    issuer = "https://sso.example.org/oauth2/aus1custom"
    assert pachd.state.connectors["okta"]["config"]["issuer"] == issuer
    # Groups arrive in the ID token here, but email_verified only through userinfo.
    assert pachd.state.connectors["okta"]["config"]["getUserInfo"] is True
    assert plan.exports[program.OUTPUT_OKTA_ISSUER] == issuer
    (policy,) = [r for r in plan.registrations if r.type == SERVER_POLICY]
    assert policy.plain_inputs["clientWhitelists"] == [OKTA_CLIENT_ID]
    (rule,) = [r for r in plan.registrations if r.type == SERVER_POLICY_RULE]
    assert rule.plain_inputs["policyId"] == f"{policy.name}-id"
    assert AUTH_SERVER not in {r.type for r in plan.registrations}


def test_custom_server_without_a_groups_scope_gets_a_connector_that_never_asks_for_it(
    host: DynamicProviderHost, pachd: FakePachd
) -> None:
    # groupsClaim off and the server defines no `groups` scope: a connector asking for it would
    # make Okta refuse every sign-in with invalid_scope.
    okta_settings = {"authorizationServer": "aus1custom", "groupsClaim": False}
    stack = dev_stack(pachd.address, pachyderm_okta__okta=json.dumps(okta_settings))
    plan = plan_program(stack, world=World(okta_org_url="https://sso.example.org"))
    _up(host, pachd, plan)

    scopes = ["profile", "email", "offline_access"]
    assert pachd.state.connectors["okta"]["config"]["scopes"] == scopes
    (rule,) = [r for r in plan.registrations if r.type == SERVER_POLICY_RULE]
    assert rule.plain_inputs["scopeWhitelists"] == ["openid", *scopes]
