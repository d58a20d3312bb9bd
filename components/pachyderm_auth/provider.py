"""Import path that stacks deployed before the per-object modules still name.

Pulumi stores each dynamic resource's provider pickled by reference to its class, and keeps that
pickle until the resource changes (docs/decisions-provider.md, "Existing stacks"): these are
the classes such a pickle names. Code imports from the per-object modules.
"""

from components.pachyderm_auth.activation import ActivationProvider
from components.pachyderm_auth.auth_config import AuthConfigProvider
from components.pachyderm_auth.identity_config import IdentityConfigProvider
from components.pachyderm_auth.idp_connector import ConnectorProvider
from components.pachyderm_auth.oidc_client import OidcClientProvider
from components.pachyderm_auth.role_binding import RoleBindingProvider

__all__ = [
    "ActivationProvider",
    "AuthConfigProvider",
    "ConnectorProvider",
    "IdentityConfigProvider",
    "OidcClientProvider",
    "RoleBindingProvider",
]
