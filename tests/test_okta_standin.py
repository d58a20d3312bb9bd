"""The stand-in Okta answers as Okta does, for the app and servers the program registers.

Guards the login tier (tests/test_real_pachd.py) against a stand-in that is kinder than Okta:
the real pachd's Dex signs in against it, so each Okta behaviour the login depends on is pinned
here, with Okta's endpoint paths, words and codes (Okta's OpenID Connect API reference): the
discovery documents of the org and a custom server; the authorization code flow's thin ID token,
with `groups` (as the app's or server's groups claim filters them) and `email_verified` only at
userinfo; the token endpoint refusing a client authentication other than the app's; a scope the
server does not know refused with `invalid_scope`; a person not assigned to the app refused
with `access_denied`.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from testkit.offline_up import OKTA_CLIENT_ID, OKTA_CLIENT_SECRET, World, dev_stack, plan_program
from testkit.okta_standin import OktaOrg, OktaStandInMissingError, OktaUser, StandInOkta
from testkit.real_pachd import SKIP_VARIABLE
from testkit.runtime import drained_event_loop

TIMEOUT = 10.0
REDIRECT_URI = "http://192.168.49.2:30080/dex/callback"
ADMIN = OktaUser("ada@example.com", groups=("pachyderm-admins", "finance", "pachyderm-ops"))
UNASSIGNED = OktaUser("eve@example.com", groups=("contractors",))
UNVERIFIED = OktaUser("ulf@example.com", groups=("pachyderm-admins",), email_verified=False)


def _org(okta: StandInOkta, groups_claim: str | None = None, server: str = "org") -> None:
    settings: dict[str, Any] = {"groups": ["pachyderm-admins"], "authorizationServer": server}
    with drained_event_loop():
        plan = plan_program(
            dev_stack("grpc://127.0.0.1:30650", pachyderm_okta__okta=json.dumps(settings)),
            world=World(okta_org_url=okta.url),
        )
    org = OktaOrg.of(plan, OKTA_CLIENT_SECRET, (ADMIN, UNASSIGNED, UNVERIFIED))
    if groups_claim is not None:
        org.client["groups_claim"] = {"filter_type": "REGEX", "value": groups_claim}
    okta.configure(org)


@pytest.fixture
def okta() -> Iterator[StandInOkta]:
    if os.environ.get(SKIP_VARIABLE):
        pytest.skip(
            f"{SKIP_VARIABLE} is set: the real-pachd tier and its stand-in Okta are not wanted"
        )
    try:
        standin = StandInOkta()
    except OktaStandInMissingError as missing:
        pytest.fail(str(missing))
    with standin:
        yield standin


def _authorize(
    okta: StandInOkta, base: str, scope: str = "openid profile email groups"
) -> dict[str, str]:
    return {
        "client_id": OKTA_CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": scope,
        "state": "state-1",
        "nonce": "nonce-1",
    }


def _sign_in(okta: StandInOkta, base: str, user: OktaUser, scope: str) -> dict[str, list[str]]:
    """The code flow up to the redirect back to Dex; its query parameters."""
    with requests.Session() as browser:
        page = browser.get(
            f"{base}/v1/authorize", params=_authorize(okta, base, scope), timeout=TIMEOUT
        )
        action = re.search(r'action="([^"]+)"', page.text)
        assert action is not None, page.text
        answer = browser.post(
            f"{okta.url}{action.group(1)}",
            data={"username": user.login, "password": user.password},
            timeout=TIMEOUT,
            allow_redirects=False,
        )
        while answer.status_code in (302, 303) and not answer.headers["Location"].startswith(
            REDIRECT_URI
        ):
            answer = browser.get(
                requests.compat.urljoin(answer.url, answer.headers["Location"]),
                timeout=TIMEOUT,
                allow_redirects=False,
            )
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    return parse_qs(location.query)


def _tokens(base: str, code: str) -> dict[str, Any]:
    answer = requests.post(
        f"{base}/v1/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": OKTA_CLIENT_ID,
            "client_secret": OKTA_CLIENT_SECRET,
        },
        timeout=TIMEOUT,
    )
    assert answer.status_code == 200, answer.text
    tokens: dict[str, Any] = answer.json()
    return tokens


def _claims(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


def _userinfo(base: str, access_token: str) -> dict[str, Any]:
    answer = requests.get(
        f"{base}/v1/userinfo",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=TIMEOUT,
    )
    assert answer.status_code == 200, answer.text
    userinfo: dict[str, Any] = answer.json()
    return userinfo


@pytest.mark.parametrize("server", ["org", "default"])
def test_discovery_names_oktas_issuer_and_endpoints(okta: StandInOkta, server: str) -> None:
    _org(okta, server=server)
    issuer = okta.url if server == "org" else f"{okta.url}/oauth2/default"
    endpoints = f"{okta.url}/oauth2/v1" if server == "org" else f"{issuer}/v1"

    document = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=TIMEOUT).json()

    assert document["issuer"] == issuer
    assert document["authorization_endpoint"] == f"{endpoints}/authorize"
    assert document["token_endpoint"] == f"{endpoints}/token"
    assert document["userinfo_endpoint"] == f"{endpoints}/userinfo"
    assert document["jwks_uri"] == f"{endpoints}/keys"
    assert "groups" in document["scopes_supported"]


@pytest.mark.parametrize("server", ["org", "default"])
def test_the_code_flows_id_token_is_thin_and_userinfo_has_the_rest(
    okta: StandInOkta, server: str
) -> None:
    _org(okta, server=server)
    base = f"{okta.url}/oauth2" if server == "org" else f"{okta.url}/oauth2/default"

    query = _sign_in(okta, base, ADMIN, "openid profile email groups")
    tokens = _tokens(base, query["code"][0])

    assert query["state"] == ["state-1"]
    id_token = _claims(tokens["id_token"])
    assert id_token["sub"] == ADMIN.id
    assert {"email", "email_verified", "groups", "name"}.isdisjoint(id_token)
    userinfo = _userinfo(base, tokens["access_token"])
    assert userinfo["email"] == ADMIN.login
    assert userinfo["email_verified"] is True
    # The program's groups claim names exactly the groups the stack names: not "finance", nor
    # "pachyderm-ops", which a prefix or substring match would let through.
    assert userinfo["groups"] == ["pachyderm-admins"]


def test_groups_are_those_the_apps_groups_claim_selects(okta: StandInOkta) -> None:
    _org(okta, groups_claim="pachyderm-.*")
    base = f"{okta.url}/oauth2"
    tokens = _tokens(base, _sign_in(okta, base, ADMIN, "openid email groups")["code"][0])

    userinfo = _userinfo(base, tokens["access_token"])

    # Matched as a whole name, as Okta's regex filter matches.
    assert sorted(userinfo["groups"]) == ["pachyderm-admins", "pachyderm-ops"]


def test_an_unverified_email_is_said_so(okta: StandInOkta) -> None:
    _org(okta)
    base = f"{okta.url}/oauth2"
    tokens = _tokens(base, _sign_in(okta, base, UNVERIFIED, "openid email")["code"][0])

    assert _userinfo(base, tokens["access_token"])["email_verified"] is False


def test_the_token_endpoint_enforces_the_apps_client_authentication(okta: StandInOkta) -> None:
    _org(okta)
    base = f"{okta.url}/oauth2"
    code = _sign_in(okta, base, ADMIN, "openid")["code"][0]

    # The program's app authenticates in the POST body (client_secret_post), never with Basic.
    answer = requests.post(
        f"{base}/v1/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
        auth=(OKTA_CLIENT_ID, OKTA_CLIENT_SECRET),
        timeout=TIMEOUT,
    )

    assert answer.status_code == 401
    assert answer.json() == {
        "error": "invalid_client",
        "error_description": (
            "Client authentication failed. Either the client or the client credentials are invalid."
        ),
    }


def test_a_scope_the_server_does_not_know_is_refused(okta: StandInOkta) -> None:
    _org(okta, server="default")
    base = f"{okta.url}/oauth2/default"

    answer = requests.get(
        f"{base}/v1/authorize",
        params=_authorize(okta, base, "openid email pachyderm:admin"),
        timeout=TIMEOUT,
        allow_redirects=False,
    )

    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["error"] == ["invalid_scope"]
    assert query["error_description"] == [
        "One or more scopes are not configured for the authorization server resource."
    ]
    assert query["state"] == ["state-1"]


def test_a_person_not_assigned_to_the_app_is_refused(okta: StandInOkta) -> None:
    _org(okta)

    query = _sign_in(okta, f"{okta.url}/oauth2", UNASSIGNED, "openid email")

    assert query["error"] == ["access_denied"]
    assert query["error_description"] == ["User is not assigned to the client application."]
