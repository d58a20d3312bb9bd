"""Pure builders for what Pachyderm's auth needs: the Dex connector document and OIDC scopes.

No resources here: these are plain functions of plain values, called inside ``Output.apply`` by
the auth component and unit-tested on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from components.okta_decisions import GROUPS_SCOPE

# The scopes the connector lists. Dex's oidc connector always requests `openid` first and then
# these (pachyderm/dex connector/oidc/oidc.go, `Config.Open`: `scopes := []string{oidc.ScopeOpenID}`
# followed by `append(scopes, c.Scopes...)`), so listing `openid` here would send it twice.
# `profile` and `email` carry the name and email Dex requires, `groups` the claim behind
# `group:<name>` role bindings, and `offline_access` is what makes Okta issue the refresh token
# Dex stores for the session (Okta issues refresh tokens only when it is requested).
OKTA_CONNECTOR_SCOPES = ("profile", "email", "groups", "offline_access")
# Everything Dex asks Okta for at sign-in: what a custom authorization server's access rule must
# allow, and nothing more.
OKTA_REQUESTED_SCOPES = ("openid", *OKTA_CONNECTOR_SCOPES)
# What pachd asks Dex for when a user logs in (pachyderm src/auth/auth.go, `DefaultOIDCScopes`).
PACHD_OIDC_SCOPES = ("email", "profile", "groups", "openid")
# Dex client ids the chart and console expect (pachd.oauthClientID, console.config.oauthClientID).
PACHD_CLIENT_ID = "pachd"
CONSOLE_CLIENT_ID = "console"


def okta_connector_scopes(*, groups: bool) -> tuple[str, ...]:
    """The connector's ``scopes``; ``groups`` only when the authorization server defines it.

    Okta refuses the whole authorization request with ``invalid_scope`` when it names a scope the
    server does not define (Okta "Scopes" reference), and a custom server has a ``groups`` scope
    only when someone created it. The org server always has it.
    """
    return tuple(scope for scope in OKTA_CONNECTOR_SCOPES if groups or scope != GROUPS_SCOPE)


def okta_requested_scopes(*, groups: bool) -> tuple[str, ...]:
    """What Dex asks Okta for at sign-in: ``openid`` (always first) and the connector's scopes."""
    return ("openid", *okta_connector_scopes(groups=groups))


def okta_connector_config(
    *,
    issuer: str,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    skip_email_verified: bool,
    scopes: Sequence[str],
) -> dict[str, Any]:
    """The Dex ``oidc`` connector config for the Okta app.

    ``issuer`` must be Okta's discovery issuer byte for byte (no trailing slash on the org
    server); ``redirect_uri`` is ``<publicUrl>/dex/callback``, which equals Dex's own
    ``<issuer>/callback``, so the callback-domain check stays on.
    """
    if issuer.endswith("/"):
        raise ValueError(
            "the Okta issuer must not end in '/': Dex compares it byte-for-byte with Okta's "
            "discovery document"
        )
    return {
        "issuer": issuer,
        "clientID": client_id,
        "clientSecret": client_secret,
        "redirectURI": redirect_uri,
        "scopes": list(scopes),
        # The secret goes in the token request's body (client_secret_post) on every Okta host,
        # matching the app's token_endpoint_auth_method (components/okta_app.py). Without this
        # key Dex picks the style from the issuer's host (pachyderm/dex connector/oidc/oidc.go,
        # `knownBrokenAuthHeaderProvider`): the body for *.okta.com and *.oktapreview.com, but
        # auto-detection (HTTP basic first) on an Okta custom URL domain.
        "basicAuthUnsupported": True,
        # Dex reads the `groups` claim only with this flag (oidc.go `createIdentity`).
        "insecureEnableGroups": True,
        # Okta's authorization-code ID token is thin (no groups, no email_verified); Dex merges
        # the userinfo claims into it only with this flag (docs/decisions.md, decision 28).
        "getUserInfo": True,
        "insecureSkipEmailVerified": skip_email_verified,
        "insecureSkipIssuerCallbackDomainCheck": False,
    }
