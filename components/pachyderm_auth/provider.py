"""Old import path of the auth providers, kept for stacks created before the split.

Pulumi stores each dynamic resource's provider pickled by dill *by reference*
(``pulumi.dynamic.dynamic.serialize_provider``): a stack created by earlier code holds
``components.pachyderm_auth.provider.<Name>`` in every resource's ``__provider`` output, and the
engine keeps those outputs for as long as the resource does not change (``SameStep.Apply``,
pulumi/pulumi pkg/resource/deploy/step.go). Every name such a pickle can refer to must therefore
stay importable here. New code imports from the per-object modules.
"""

from components.pachyderm_auth.activation import (
    LICENSE_CLUSTER_ID,
    LICENSE_SERVER_ADDRESS,
    ROOT_PRINCIPAL,
    ActivationProvider,
    foreign_token_message,
)
from components.pachyderm_auth.auth_config import AuthConfigProvider
from components.pachyderm_auth.identity_config import IdentityConfigProvider
from components.pachyderm_auth.idp_connector import ConnectorProvider, connector_config
from components.pachyderm_auth.oidc_client import OidcClientProvider
from components.pachyderm_auth.role_binding import RoleBindingProvider

__all__ = [
    "LICENSE_CLUSTER_ID",
    "LICENSE_SERVER_ADDRESS",
    "ROOT_PRINCIPAL",
    "ActivationProvider",
    "AuthConfigProvider",
    "ConnectorProvider",
    "IdentityConfigProvider",
    "OidcClientProvider",
    "RoleBindingProvider",
    "connector_config",
    "foreign_token_message",
]
