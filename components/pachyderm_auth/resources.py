"""The dynamic resources, one per provider, with explicit ``pachyderm`` type tokens.

Type tokens are ``pulumi-python:dynamic/pachyderm:<Name>``: static, so a refactor never moves a
URN. Every credential a provider returns is listed in ``additional_secret_outputs``: the engine
only re-marks an output secret when a same-named *input* was secret (pulumi-notes.md D4), and
this makes it explicit for every output, minted or not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import Resource

from components.pachyderm_auth.provider import (
    ActivationProvider,
    AuthConfigProvider,
    ConnectorProvider,
    IdentityConfigProvider,
    OidcClientProvider,
    RoleBindingProvider,
)

Props = Mapping[str, pulumi.Input[Any]]


def _with_secrets(opts: pulumi.ResourceOptions, *names: str) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions.merge(
        opts, pulumi.ResourceOptions(additional_secret_outputs=["root_token", *names])
    )


class AuthActivation(Resource, module="pachyderm", name="AuthActivation"):
    """Pachyderm auth, activated with the stack's root token."""

    pachd_version: pulumi.Output[str]
    """The pachd version that was activated, e.g. ``2.12.2``."""

    def __init__(self, name: str, props: Props, opts: pulumi.ResourceOptions) -> None:
        super().__init__(
            ActivationProvider(),
            name,
            {**props, "pachd_version": None},
            _with_secrets(opts, "license_key", "enterprise_secret"),
        )


class IdentityServerConfig(Resource, module="pachyderm", name="IdentityServerConfig"):
    """Dex's issuer and token expiries."""

    def __init__(self, name: str, props: Props, opts: pulumi.ResourceOptions) -> None:
        super().__init__(IdentityConfigProvider(), name, dict(props), _with_secrets(opts))


class IdpConnector(Resource, module="pachyderm", name="IdpConnector"):
    """The Okta connector in pachd's Dex."""

    config_version: pulumi.Output[int]
    """The connector's ``configVersion`` in pachd after the last create or update."""

    def __init__(self, name: str, props: Props, opts: pulumi.ResourceOptions) -> None:
        super().__init__(
            ConnectorProvider(),
            name,
            {**props, "config_version": None},
            _with_secrets(opts, "config"),
        )


class OidcClient(Resource, module="pachyderm", name="OidcClient"):
    """A Dex OIDC client (``pachd`` or ``console``)."""

    def __init__(self, name: str, props: Props, opts: pulumi.ResourceOptions) -> None:
        super().__init__(OidcClientProvider(), name, dict(props), _with_secrets(opts, "secret"))


class AuthConfig(Resource, module="pachyderm", name="AuthConfig"):
    """pachd's OIDC configuration."""

    def __init__(self, name: str, props: Props, opts: pulumi.ResourceOptions) -> None:
        super().__init__(
            AuthConfigProvider(), name, dict(props), _with_secrets(opts, "client_secret")
        )


class ClusterRoleBinding(Resource, module="pachyderm", name="ClusterRoleBinding"):
    """One principal's roles on the CLUSTER resource."""

    def __init__(self, name: str, props: Props, opts: pulumi.ResourceOptions) -> None:
        super().__init__(RoleBindingProvider(), name, dict(props), _with_secrets(opts))
