"""Pure builders for what Pachyderm's auth needs: the Dex connector document and OIDC scopes.

No resources here: these are plain functions of plain values, called inside ``Output.apply`` by
the auth component and unit-tested on their own.
"""

from __future__ import annotations

from typing import Any

# Dex requests `openid` plus exactly these when `scopes` is set (pachyderm-auth.md 3): `groups` for
# group role bindings, `offline_access` for Okta refresh tokens (pulumi-notes.md B4).
OKTA_CONNECTOR_SCOPES = ("openid", "profile", "email", "groups", "offline_access")
# What pachd asks Dex for when a user logs in (auth.DefaultOIDCScopes, pachyderm-auth.md 1).
PACHD_OIDC_SCOPES = ("email", "profile", "groups", "openid")
# Dex client ids the chart and console expect (pachd.oauthClientID, console.config.oauthClientID).
PACHD_CLIENT_ID = "pachd"
CONSOLE_CLIENT_ID = "console"


def okta_connector_config(
    *,
    issuer: str,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    skip_email_verified: bool,
) -> dict[str, Any]:
    """The Dex ``oidc`` connector config for the Okta app (pachyderm-auth.md 3 and 8).

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
        "scopes": list(OKTA_CONNECTOR_SCOPES),
        "insecureEnableGroups": True,
        "insecureSkipEmailVerified": skip_email_verified,
        "insecureSkipIssuerCallbackDomainCheck": False,
    }
