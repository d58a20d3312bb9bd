"""Pure decisions about Okta's authorization server (``components.okta_server``).

Regressions guarded: an org issuer with the trailing slash Okta's org link may carry (Dex compares
issuers byte for byte and pachd refuses the connector); a custom server's issuer altered instead
of taken as Okta reports it; an empty issuer reaching the connector; and the ``groups`` scope
decision flapping between runs (this stack's own scope must stay declared, or the next ``up``
deletes it) or taking over a scope someone else made (``destroy`` would delete it).
"""

from __future__ import annotations

import pytest

from components import okta_server

MARK = okta_server.groups_scope_description("pachyderm-okta", "dev")


@pytest.mark.parametrize(
    ("reported", "issuer"),
    [
        ("https://dev-123456.okta.com", "https://dev-123456.okta.com"),
        ("https://dev-123456.okta.com/", "https://dev-123456.okta.com"),
        ("https://acme.oktapreview.com/", "https://acme.oktapreview.com"),
    ],
)
def test_org_issuer_is_the_org_url_without_trailing_slash(reported: str, issuer: str) -> None:
    assert okta_server.org_issuer(reported) == issuer


@pytest.mark.parametrize("reported", [None, ""])
def test_org_issuer_missing_is_refused(reported: str | None) -> None:
    with pytest.raises(okta_server.OktaIssuerError) as raised:
        okta_server.org_issuer(reported)
    assert str(raised.value) == (
        "Okta's org metadata (/.well-known/okta-organization) names no organization URL; "
        "check okta:orgName and okta:baseUrl"
    )


@pytest.mark.parametrize(
    "issuer",
    ["https://dev-123456.okta.com/oauth2/default", "https://login.example.com/oauth2/aus1x"],
)
def test_custom_server_issuer_is_kept_byte_for_byte(issuer: str) -> None:
    assert okta_server.custom_server_issuer(issuer, "aus1x") == issuer


def test_custom_server_issuer_missing_is_refused() -> None:
    with pytest.raises(okta_server.OktaIssuerError) as raised:
        okta_server.custom_server_issuer("", "aus1x")
    assert str(raised.value) == (
        "Okta reports no issuer for authorization server 'aus1x' "
        "(pachyderm-okta:okta.authorizationServer); is it active?"
    )


def test_scope_mark_names_the_stack() -> None:
    assert MARK == (
        "Groups in ID tokens for Pachyderm's Dex sign-in (Pulumi stack pachyderm-okta/dev)"
    )
    assert okta_server.groups_scope_description("pachyderm-okta", "prod") != MARK


@pytest.mark.parametrize(
    ("existing", "create"),
    [
        ([], True),
        ([("openid", ""), ("offline_access", "")], True),
        ([("groups", MARK)], True),
        # Created by an earlier version of this program, which set no description.
        ([("groups", "")], True),
        ([("groups", None)], True),
        ([("openid", ""), ("groups", "Group memberships, for every app")], False),
        # Another stack's scope on the same server is not this stack's to delete.
        ([("groups", okta_server.groups_scope_description("pachyderm-okta", "prod"))], False),
    ],
)
def test_groups_scope_is_declared_unless_someone_else_owns_it(
    existing: list[tuple[str, str | None]], create: bool
) -> None:
    assert okta_server.create_groups_scope(existing, "groups", MARK) is create
