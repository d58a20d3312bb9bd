"""Old import path of the auth dynamic resources, kept so earlier importers keep working.

The type tokens are static (``pulumi-python:dynamic/pachyderm:<Name>``, from each class's
``module``/``name``), so where a class lives never moves a URN. New code imports from the
per-object modules.
"""

from components.pachyderm_auth.activation import AuthActivation
from components.pachyderm_auth.auth_config import AuthConfig
from components.pachyderm_auth.identity_config import IdentityServerConfig
from components.pachyderm_auth.idp_connector import IdpConnector
from components.pachyderm_auth.oidc_client import OidcClient
from components.pachyderm_auth.role_binding import ClusterRoleBinding

__all__ = [
    "AuthActivation",
    "AuthConfig",
    "ClusterRoleBinding",
    "IdentityServerConfig",
    "IdpConnector",
    "OidcClient",
]
