"""What pachd learns about a user who signs in: Dex's ``oidc`` connector, then pachd's OIDC login.

:func:`create_identity` is a port of ``createIdentity`` in pachyderm/dex
``connector/oidc/oidc.go`` at commit 292f1ae604a3 (the fork pachyderm/pachyderm's ``go.mod``
pins on 2.11.x and 2.12.x), with what it depends on: the scopes ``Config.Open`` requests, and
go-oidc v3.5.0's ``Provider.UserInfo`` and ``UserInfo.Claims`` (coreos/go-oidc ``oidc/oidc.go``).
``UserInfo.Claims`` is ``json.Unmarshal`` into the ID token's claim map, which is the merge:
each top-level userinfo claim replaces the ID token's claim of that name, the others stay.
Signature checks and HTTP are not ported: callers hand in decoded claims, as JSON decoding
gives them (str, bool, float, list, dict, None). Of go-oidc's typed decode of the userinfo
answer only ``email_verified`` is ported (``stringAsBool``); the error strings are Dex's own.

:func:`pachd_login` continues past Dex: Dex's ID token for pachd carries the identity's email
and ``email_verified`` only for the ``email`` scope and its groups only for ``groups``
(pachyderm/dex ``server/oauth2.go``, ``newIDToken``), and pachd names the user
``user:<email>`` and each group ``group:<name>`` (pachyderm/pachyderm
``src/server/auth/server/oidc.go``, ``validateIDToken`` and ``syncGroupMembership``;
``src/auth/auth.go``, ``UserPrefix`` and ``GroupPrefix``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components.dex import PACHD_OIDC_SCOPES

USER_PREFIX = "user:"
GROUP_PREFIX = "group:"


class DexLoginError(Exception):
    """``createIdentity`` refused the login; Dex shows ``Failed to authenticate: <message>``."""


class PachdLoginError(Exception):
    """pachd refused Dex's ID token at the end of ``pachctl auth login``."""


@dataclass(frozen=True)
class TokenResponse:
    """What the upstream provider answers Dex for one sign-in (or refresh)."""

    id_token: Mapping[str, Any] | None
    """The ID token's claims; None when the token response carries no ``id_token``."""
    userinfo: Mapping[str, Any] | None = None
    """The userinfo endpoint's answer for the access token; None when discovery names none."""


@dataclass(frozen=True)
class DexIdentity:
    """``connector.Identity`` without the connector data (pachyderm/dex connector/connector.go)."""

    user_id: str
    username: str
    preferred_username: str
    email: str
    email_verified: bool
    groups: tuple[str, ...]


@dataclass(frozen=True)
class PachdLogin:
    """The principals pachd records for the user: ``user:<email>`` and its ``group:`` names."""

    user: str
    groups: tuple[str, ...]


def requested_scopes(config: Mapping[str, Any]) -> tuple[str, ...]:
    """``openid``, then the connector's scopes, or ``profile email`` when it lists none."""
    scopes: Sequence[str] = config.get("scopes") or ("profile", "email")
    return ("openid", *scopes)


def _userinfo_claims(userinfo: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if userinfo is None:
        raise DexLoginError(
            "oidc: error loading userinfo: "
            "oidc: user info endpoint is not supported by this provider"
        )
    # go-oidc decodes email_verified as `stringAsBool` before handing over the raw claims.
    if "email_verified" in userinfo and not (
        isinstance(userinfo["email_verified"], bool)
        or userinfo["email_verified"] in ("true", "false")
    ):
        raise DexLoginError(
            "oidc: error loading userinfo: oidc: failed to decode userinfo: "
            "invalid value for boolean"
        )
    return userinfo


def _string(claims: Mapping[str, Any], key: str) -> str | None:
    value = claims.get(key)
    return value if isinstance(value, str) else None


def _list(claims: Mapping[str, Any], key: str) -> list[Any] | None:
    value = claims.get(key)
    return value if isinstance(value, list) else None


def _groups(claims: Mapping[str, Any], mapped_key: str, *, override: bool) -> tuple[str, ...]:
    groups_key = "groups"
    values = _list(claims, groups_key)
    if (values is None or override) and mapped_key:
        groups_key = mapped_key
        values = _list(claims, groups_key)
    groups: list[str] = []
    # A single group sent as a string counts as a list of one.
    single = _string(claims, groups_key)
    if single is not None:
        groups = [single]
    for value in values or ():
        if not isinstance(value, str):
            raise DexLoginError(f'malformed "{groups_key}" claim')
        groups.append(value)
    return tuple(groups)


def _claims(config: Mapping[str, Any], response: TokenResponse, *, refresh: bool) -> dict[str, Any]:
    """The ID token's claims, with the userinfo claims over them when ``getUserInfo`` is set."""
    claims: dict[str, Any] = {}
    if response.id_token is not None:
        claims = dict(response.id_token)
    elif not refresh:
        # ID tokens aren't mandatory in the answer to a refresh_token grant.
        raise DexLoginError("oidc: no id_token in token response")
    if config.get("getUserInfo", False):
        claims.update(_userinfo_claims(response.userinfo))
    return claims


def _email(
    claims: Mapping[str, Any], config: Mapping[str, Any], mapped_key: str, *, override: bool
) -> tuple[str, bool]:
    """``(email, email_verified)``, or Dex's error when the email scope's claims are missing."""
    has_email_scope = "email" in requested_scopes(config)
    email_key = "email"
    email = _string(claims, email_key)
    if (email is None or override) and mapped_key:
        email_key = mapped_key
        email = _string(claims, email_key)
    if email is None and has_email_scope:
        raise DexLoginError(f'missing email claim, not found "{email_key}" key')

    verified = claims.get("email_verified")
    if not isinstance(verified, bool):
        if config.get("insecureSkipEmailVerified", False):
            verified = True
        elif has_email_scope:
            raise DexLoginError('missing "email_verified" claim')
        else:
            verified = False
    return email or "", verified


def create_identity(
    config: Mapping[str, Any], response: TokenResponse, *, refresh: bool = False
) -> DexIdentity:
    """The identity Dex's ``oidc`` connector builds from ``response`` under ``config``.

    ``config`` is the connector's JSON document (absent keys take Go's zero values, as
    ``json.Unmarshal`` into ``Config`` leaves them). Raises :class:`DexLoginError` with Dex's
    exact message where Dex refuses the login.
    """
    claims = _claims(config, response, refresh=refresh)

    subject = _string(claims, "sub")
    if subject is None:
        raise DexLoginError('missing "sub" claim')
    username_key = config.get("userNameKey") or "name"
    username = _string(claims, username_key)
    if username is None:
        raise DexLoginError(f'missing "{username_key}" claim')

    mapping: Mapping[str, str] = config.get("claimMapping") or {}
    override = bool(config.get("overrideClaimMapping", False))
    preferred_username = _string(claims, "preferred_username")
    if (preferred_username is None or override) and mapping.get("preferred_username"):
        preferred_username = _string(claims, mapping["preferred_username"])
    email, email_verified = _email(claims, config, mapping.get("email", ""), override=override)
    groups: tuple[str, ...] = ()
    if config.get("insecureEnableGroups", False):
        groups = _groups(claims, mapping.get("groups", ""), override=override)

    user_id_key = config.get("userIDKey") or ""
    if user_id_key:
        mapped_id = _string(claims, user_id_key)
        if mapped_id is None:
            raise DexLoginError(f"oidc: not found {user_id_key} claim")
        subject = mapped_id

    return DexIdentity(
        user_id=subject,
        username=username,
        preferred_username=preferred_username or "",
        email=email,
        email_verified=email_verified,
        groups=groups,
    )


def pachd_login(
    identity: DexIdentity,
    *,
    require_email_verified: bool,
    scopes: Sequence[str] = PACHD_OIDC_SCOPES,
) -> PachdLogin:
    """The principals pachd records when ``identity`` logs in through Dex with ``scopes``.

    ``require_email_verified`` and ``scopes`` are pachd's OIDC configuration (``auth.OIDCConfig``).
    """
    email = identity.email if "email" in scopes else ""
    email_verified = identity.email_verified if "email" in scopes else False
    groups = identity.groups if "groups" in scopes else ()
    if not email_verified and require_email_verified:
        raise PachdLoginError(
            "could not verify token: "
            "email_verified claim was false, and require_email_verified was set"
        )
    return PachdLogin(
        user=USER_PREFIX + email, groups=tuple(GROUP_PREFIX + group for group in groups)
    )
