"""Pure decisions on what Okta reports: which issuer to trust, whose ``groups`` scope it is.

:mod:`components.okta_app` reads Okta and passes the answers in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# The claim Dex reads and the scope it requests for it (docs/decisions.md, decision 28).
GROUPS_CLAIM = "groups"
GROUPS_SCOPE = "groups"
# Every Okta group the user is in (`okta.groupsClaim: all`, and every version before 26's).
GROUPS_FILTER_REGEX = ".*"
# The shape of the filter of named groups (:func:`groups_filter`): claims carry no owner mark.
_NAMED_GROUPS_FILTER = re.compile(r"\^\(\?:.*\)\$", re.DOTALL)


def _escaped(name: str) -> str:
    # Okta evaluates the filter as a Java regex, where a backslash before any non-alphabetic
    # character means that character (java.util.regex.Pattern), so escaping every ASCII
    # character but letters, digits and '_' is literal there, in Python and in JavaScript alike.
    return "".join(
        f"\\{char}" if char.isascii() and not (char.isalnum() or char == "_") else char
        for char in name
    )


def groups_filter(groups: Sequence[str] | None) -> str:
    """The groups claim's regex: exactly ``groups`` (``None``: every group).

    Anchored, so it is right whether Okta matches the whole name or searches within it; a stack
    that names no group gets a filter no group name matches (names are never empty).
    """
    if groups is None:
        return GROUPS_FILTER_REGEX
    return "^(?:" + "|".join(_escaped(name) for name in sorted(set(groups))) + ")$"


class OktaIssuerError(ValueError):
    """Okta's answer carries no usable issuer."""


def org_issuer(organization_url: str | None) -> str:
    """The org authorization server's issuer: the org URL without its trailing slash.

    Dex compares issuers byte for byte (decision 21).
    """
    if not organization_url:
        raise OktaIssuerError(
            "Okta's org metadata (/.well-known/okta-organization) names no organization URL; "
            "check okta:orgName and okta:baseUrl"
        )
    return organization_url.rstrip("/")


def custom_server_issuer(issuer: str | None, server_id: str) -> str:
    """A custom authorization server's issuer as Okta reports it, never rebuilt (decision 21)."""
    if not issuer:
        raise OktaIssuerError(
            f"Okta reports no issuer for authorization server {server_id!r} "
            "(pachyderm-okta:okta.authorizationServer); is it active?"
        )
    return issuer


def group_name_problem(configured: str, found_name: str | None) -> str | None:
    """What is wrong when Okta's group lookup found a group not named ``configured``; else None.

    pulumi-okta's lookup accepts a lone prefix match (decision 31).
    """
    if found_name == configured:
        return None
    return (
        f"Okta has no group named {configured!r}; its name search found only {found_name!r}, "
        "which pulumi-okta would have assigned instead. Correct the name (compared exactly, case "
        "included), create the group in Okta, or set createGroups: true"
    )


# How a provider's refusal of an invoke reaches the program: the engine's wrapping
# (pulumi/pulumi pkg/resource/deploy/source_eval.go, ResourceMonitor.Invoke) inside the SDK's
# (pulumi/runtime/invoke.py, _invoke).
_INVOKE_WRAPPING = re.compile(r"^(invoke of \S+ failed|invocation of \S+ returned an error): ")


def lookup_failure(error: BaseException) -> str:
    """The Okta provider's reason for a failed lookup, on one line, without Pulumi's wrapping."""
    reason = " ".join(str(error).split())
    while (unwrapped := _INVOKE_WRAPPING.sub("", reason)) != reason:
        reason = unwrapped
    return reason


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
    """Whether ``claim`` has exactly the shape of this program's: claims carry no owner mark.

    Its value is ``.*`` or a filter of named groups (:func:`groups_filter`), for any set of
    groups: an earlier ``up`` may have named other groups (decision 49).
    """
    return (
        claim.name == GROUPS_CLAIM
        and claim.claim_type == "IDENTITY"
        and claim.value_type == "GROUPS"
        and (
            claim.value == GROUPS_FILTER_REGEX or bool(_NAMED_GROUPS_FILTER.fullmatch(claim.value))
        )
        and claim.scopes == (GROUPS_SCOPE,)
        and claim.always_include_in_token
    )


def declares_groups_scope(
    existing: Sequence[tuple[str, str | None]],
    claims: Sequence[ServerClaim],
    scope_name: str,
    description: str,
) -> bool:
    """Whether this stack declares the server's ``scope_name`` scope (decisions 12 and 33).

    ``existing`` is ``(name, description)`` of every scope the server has. Yes when there is no
    such scope or it is this stack's: it carries ``description``, or none next to this program's
    ``groups`` claim. Otherwise it is someone else's, used but never deleted.
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

    A claim in this program's shape is taken for the one an earlier ``up`` made.
    """
    named = [claim for claim in claims if claim.name == GROUPS_CLAIM]
    if named and not any(is_this_programs_groups_claim(claim) for claim in named):
        raise OktaServerConflictError(
            f"pachyderm-okta:okta.groupsClaim: authorization server {server_id!r} already has a "
            f"{GROUPS_CLAIM!r} claim that this stack did not make; set groupsClaim: false to "
            "leave the server's groups claim and scope as they are, or delete that claim in Okta"
        )
