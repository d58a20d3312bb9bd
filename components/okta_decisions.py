"""Pure decisions about the Okta authorization server: which issuer to trust, whose scope it is.

No resources and no calls here: :mod:`components.okta_app` reads Okta through the provider and
passes the answers in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# The claim Dex reads when the connector sets `insecureEnableGroups` (pachyderm/dex
# connector/oidc/oidc.go, `createIdentity`), and the scope Dex requests for it.
GROUPS_CLAIM = "groups"
GROUPS_SCOPE = "groups"
# Every Okta group the user is in (Okta guide "Add a groups claim for the org authorization
# server": Filter, "Matches regex", `.*`). Which groups matter is decided by Pachyderm's role
# bindings, not by the token.
GROUPS_FILTER_REGEX = ".*"


class OktaIssuerError(ValueError):
    """Okta's answer carries no usable issuer."""


class OktaGroupNameError(ValueError):
    """Okta's group lookup found a group whose name is not the configured one."""


def org_issuer(organization_url: str | None) -> str:
    """The org authorization server's issuer from the org URL Okta publishes.

    The org server's discovery ``issuer`` is the org URL without a trailing slash, and Dex
    compares issuers byte for byte (go-oidc ``NewProvider``); the slash that Pachyderm's older
    Okta page adds makes pachd refuse the connector.
    """
    if not organization_url:
        raise OktaIssuerError(
            "Okta's org metadata (/.well-known/okta-organization) names no organization URL; "
            "check okta:orgName and okta:baseUrl"
        )
    return organization_url.rstrip("/")


def custom_server_issuer(issuer: str | None, server_id: str) -> str:
    """A custom authorization server's issuer as Okta reports it, byte for byte.

    The issuer depends on the server's issuer mode (ORG_URL or a CUSTOM_URL domain), so it is
    never rebuilt from the org name; it is refused only if Okta reports none.
    """
    if not issuer:
        raise OktaIssuerError(
            f"Okta reports no issuer for authorization server {server_id!r} "
            "(pachyderm-okta:okta.authorizationServer); is it active?"
        )
    return issuer


def exact_group_id(configured: str, found_name: str | None, found_id: str, config_key: str) -> str:
    """The id of the group Okta found, if its name is exactly the configured one.

    pulumi-okta's ``getGroup`` searches Okta by name prefix and, when one group matches, returns
    it even if its name only starts with the one asked for (docs/decisions.md, "The Okta group
    you named"). Assigning that group would let its members in, and Pachyderm's ``group:`` role
    bindings, which compare names exactly, would still not match them.
    """
    if found_name != configured:
        raise OktaGroupNameError(
            f"{config_key}: Okta has no group named {configured!r}; its name search found only "
            f"{found_name!r}, which pulumi-okta would have assigned instead. It was not assigned: "
            "correct the name (compared exactly, case included), or create the group in Okta"
        )
    return found_id


def groups_scope_description(project: str, stack: str) -> str:
    """The description this stack gives the ``groups`` scope it creates: its ownership mark."""
    return f"Groups in ID tokens for Pachyderm's Dex sign-in (Pulumi stack {project}/{stack})"


@dataclass(frozen=True)
class ServerClaim:
    """A claim of a custom authorization server, as Okta lists it."""

    name: str
    claim_type: str
    value_type: str
    value: str
    scopes: tuple[str, ...]
    always_include_in_token: bool


class OktaServerConflictError(ValueError):
    """The custom server already has a ``groups`` claim that is not this stack's."""


def is_this_programs_groups_claim(claim: ServerClaim) -> bool:
    """Whether ``claim`` is exactly the ``groups`` claim this program declares.

    Claims carry no description to mark their owner, so the shape is the mark: an ID-token
    claim of every group (regex ``.*``), always included, under the ``groups`` scope.
    """
    return (
        claim.name == GROUPS_CLAIM
        and claim.claim_type == "IDENTITY"
        and claim.value_type == "GROUPS"
        and claim.value == GROUPS_FILTER_REGEX
        and claim.scopes == (GROUPS_SCOPE,)
        and claim.always_include_in_token
    )


def declares_groups_scope(
    existing: Sequence[tuple[str, str | None]],
    claims: Sequence[ServerClaim],
    scope_name: str,
    description: str,
) -> bool:
    """Whether this stack declares the server's ``scope_name`` scope.

    ``existing`` is ``(name, description)`` of every scope the server has now, ``claims`` its
    claims. Yes when there is no such scope, or when it is this stack's own: it carries
    ``description``, or it has no description (as versions of this program before the mark left
    it) and the server has this program's ``groups`` claim, which those versions always created
    with it. Then it stays declared and is not deleted on the next ``up``. No otherwise: a scope
    of that name is someone else's, used as it is and never deleted by this stack; a bare scope
    without a description is not taken for this stack's.
    """
    for name, found_description in existing:
        if name == scope_name:
            if found_description == description:
                return True
            if not found_description:
                return any(is_this_programs_groups_claim(claim) for claim in claims)
            return False
    return True


def check_groups_claim_is_free(claims: Sequence[ServerClaim], server_id: str) -> None:
    """Refuse a server whose ``groups`` claim is someone else's, before anything is created.

    Called only when the stack would create its claim on a server whose ``groups`` scope is not
    this stack's. A ``groups`` claim in this program's shape is taken for this stack's (the one
    an earlier ``up`` made); any other would clash with the claim this stack creates.
    """
    named = [claim for claim in claims if claim.name == GROUPS_CLAIM]
    if named and not any(is_this_programs_groups_claim(claim) for claim in named):
        raise OktaServerConflictError(
            f"pachyderm-okta:okta.groupsClaim: authorization server {server_id!r} already has a "
            f"{GROUPS_CLAIM!r} claim that this stack did not make; set groupsClaim: false to "
            "leave the server's groups claim and scope as they are, or delete that claim in Okta"
        )
