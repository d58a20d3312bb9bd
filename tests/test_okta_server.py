"""Pure decisions about Okta's authorization server (``components.okta_server``).

Regressions guarded: an org issuer with the trailing slash Okta's org link may carry (Dex compares
issuers byte for byte and pachd refuses the connector); a custom server's issuer altered instead
of taken as Okta reports it; an empty issuer reaching the connector; and the ``groups`` scope
decision flapping between runs (this stack's own scope must stay declared, or the next ``up``
deletes it) or taking over a scope someone else made (``destroy`` would delete it), a bare scope
without a description among them; and a second ``groups`` claim next to someone else's.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from components import okta_decisions

MARK = okta_decisions.groups_scope_description("pachyderm-okta", "dev")


@pytest.mark.parametrize(
    ("reported", "issuer"),
    [
        ("https://dev-123456.okta.com", "https://dev-123456.okta.com"),
        ("https://dev-123456.okta.com/", "https://dev-123456.okta.com"),
        ("https://acme.oktapreview.com/", "https://acme.oktapreview.com"),
    ],
)
def test_org_issuer_is_the_org_url_without_trailing_slash(reported: str, issuer: str) -> None:
    assert okta_decisions.org_issuer(reported) == issuer


@pytest.mark.parametrize("reported", [None, ""])
def test_org_issuer_missing_is_refused(reported: str | None) -> None:
    with pytest.raises(okta_decisions.OktaIssuerError) as raised:
        okta_decisions.org_issuer(reported)
    assert str(raised.value) == (
        "Okta's org metadata (/.well-known/okta-organization) names no organization URL; "
        "check okta:orgName and okta:baseUrl"
    )


@pytest.mark.parametrize(
    "issuer",
    ["https://dev-123456.okta.com/oauth2/default", "https://login.example.com/oauth2/aus1x"],
)
def test_custom_server_issuer_is_kept_byte_for_byte(issuer: str) -> None:
    assert okta_decisions.custom_server_issuer(issuer, "aus1x") == issuer


def test_custom_server_issuer_missing_is_refused() -> None:
    with pytest.raises(okta_decisions.OktaIssuerError) as raised:
        okta_decisions.custom_server_issuer("", "aus1x")
    assert str(raised.value) == (
        "Okta reports no issuer for authorization server 'aus1x' "
        "(pachyderm-okta:okta.authorizationServer); is it active?"
    )


def test_scope_mark_names_the_stack() -> None:
    assert MARK == (
        "Groups in ID tokens for Pachyderm's Dex sign-in (Pulumi stack pachyderm-okta/dev)"
    )
    assert okta_decisions.groups_scope_description("pachyderm-okta", "prod") != MARK


OUR_CLAIM = okta_decisions.ServerClaim(
    name="groups",
    claim_type="IDENTITY",
    value_type="GROUPS",
    value=".*",
    scopes=("groups",),
    always_include_in_token=True,
)
THEIR_CLAIM = okta_decisions.ServerClaim(
    name="groups",
    claim_type="IDENTITY",
    value_type="GROUPS",
    value="pachyderm-",
    scopes=("groups",),
    always_include_in_token=True,
)


@pytest.mark.parametrize(
    ("existing", "claims", "create"),
    [
        ([], [], True),
        ([("openid", ""), ("offline_access", "")], [], True),
        ([("groups", MARK)], [OUR_CLAIM], True),
        # Created by an earlier version of this program, which set no description and always
        # made this program's claim with the scope.
        ([("groups", "")], [OUR_CLAIM], True),
        ([("groups", None)], [OUR_CLAIM], True),
        # A bare scope without a description, or one next to someone else's claim: not ours.
        ([("groups", "")], [], False),
        ([("groups", None)], [THEIR_CLAIM], False),
        ([("openid", ""), ("groups", "Group memberships, for every app")], [OUR_CLAIM], False),
        # Another stack's scope on the same server is not this stack's to delete.
        (
            [("groups", okta_decisions.groups_scope_description("pachyderm-okta", "prod"))],
            [OUR_CLAIM],
            False,
        ),
    ],
)
def test_groups_scope_is_declared_unless_someone_else_owns_it(
    existing: list[tuple[str, str | None]], claims: list[okta_decisions.ServerClaim], create: bool
) -> None:
    assert okta_decisions.declares_groups_scope(existing, claims, "groups", MARK) is create


@pytest.mark.parametrize(
    "claims",
    [[], [OUR_CLAIM], [OUR_CLAIM, THEIR_CLAIM], [replace(THEIR_CLAIM, name="roles")]],
    ids=["none", "ours", "ours-next-to-theirs", "another-name"],
)
def test_groups_claim_is_free_unless_only_someone_elses_exists(
    claims: list[okta_decisions.ServerClaim],
) -> None:
    okta_decisions.check_groups_claim_is_free(claims, "aus1x")


@pytest.mark.parametrize(
    "claim",
    [
        THEIR_CLAIM,
        replace(OUR_CLAIM, always_include_in_token=False),
        replace(OUR_CLAIM, claim_type="RESOURCE"),
        replace(OUR_CLAIM, scopes=("groups", "profile")),
        replace(OUR_CLAIM, value_type="EXPRESSION"),
    ],
)
def test_someone_elses_groups_claim_is_refused(claim: okta_decisions.ServerClaim) -> None:
    with pytest.raises(
        okta_decisions.OktaServerConflictError, match="'aus1x' already has a 'groups'"
    ):
        okta_decisions.check_groups_claim_is_free([claim], "aus1x")


def test_the_groups_filter_names_each_group_whole_and_escaped() -> None:
    names = ["pachyderm-admins", "data.eng", "a+b", "Data Eng", "équipe-1"]

    pattern = okta_decisions.groups_filter(names)

    assert pattern == r"^(?:Data\ Eng|a\+b|data\.eng|pachyderm\-admins|équipe\-1)$"
    assert okta_decisions.groups_filter(None) == ".*"
    assert okta_decisions.groups_filter([]) == "^(?:)$"


def test_a_claim_of_this_programs_shape_for_any_named_groups_is_its_own() -> None:
    named = replace(OUR_CLAIM, value=okta_decisions.groups_filter(["team-a"]))
    someone_elses = replace(OUR_CLAIM, value="^team-")

    assert okta_decisions.is_this_programs_groups_claim(named)
    assert okta_decisions.is_this_programs_groups_claim(OUR_CLAIM)
    assert not okta_decisions.is_this_programs_groups_claim(someone_elses)
