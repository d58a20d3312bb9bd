"""``PachydermAuth``: Pachyderm's auth, owned through pachd's API by dynamic resources."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_random as random

from components import connector, urls
from components.naming import name_suffix
from components.pachyderm_auth.activation import AuthActivation
from components.pachyderm_auth.auth_config import AuthConfig
from components.pachyderm_auth.identity_config import IdentityServerConfig
from components.pachyderm_auth.idp_connector import IdpConnector
from components.pachyderm_auth.kube_target import PortForwardTarget
from components.pachyderm_auth.oidc_client import OidcClient
from components.pachyderm_auth.role_binding import ClusterRoleBinding
from components.settings import AuthSettings

TYPE_TOKEN = "pachyderm-okta:pachyderm:Auth"


@dataclass(frozen=True)
class OktaClient:
    """What the Okta app gives the Dex connector."""

    issuer: pulumi.Input[str]
    client_id: pulumi.Input[str]
    client_secret: pulumi.Input[str]
    redirect_uri: pulumi.Input[str]
    scopes: Sequence[str]
    """The connector's ``scopes`` (Dex adds ``openid`` itself)."""


@dataclass(frozen=True)
class PachydermAuthArgs:
    """Inputs of :class:`PachydermAuth`."""

    settings: AuthSettings
    public_url: urls.PublicUrl
    pachd_address: pulumi.Input[str]
    """gRPC address the deployer reaches pachd at (the deployment's, or the override)."""
    okta: OktaClient
    console_client_secret: pulumi.Input[str]
    """The secret the console pod reads; registered in Dex as the ``console`` client's."""
    license_key: pulumi.Output[str] | None = None
    """Enterprise activation code (Pachyderm 2.11 only)."""
    adopted_root_token: pulumi.Output[str] | None = None
    """An existing root token to adopt; unset, a new one is minted."""
    wait_for: tuple[pulumi.Resource, ...] = ()
    """Resources pachd needs first (the Helm release): activation, and so everything, waits."""
    port_forward: PortForwardTarget | None = None
    """Set: the deployer reaches pachd through the Kubernetes API, not at ``pachd_address``."""


class PachydermAuth(pulumi.ComponentResource):
    """Activates Pachyderm auth and wires it to Okta, through pachd's API.

    Children, in dependency order (give the component ``depends_on=[<helm release>]``):

    - ``<name>-root-token`` (``RandomPassword``, unless a root token is adopted) and
      ``<name>-pachd-client-secret``/``<name>-enterprise-secret`` (``RandomPassword``): minted
      before pachd sees them, so no failure can lose them (pachd never returns an existing root
      token: ``Activate`` in pachyderm/pachyderm src/server/auth/server/api_server.go);
    - ``<name>-activation`` (``AuthActivation``);
    - ``<name>-identity`` (``IdentityServerConfig``): issuer ``<publicUrl>/dex``;
    - ``<name>-connector`` (``IdpConnector``): the Okta ``oidc`` connector;
    - ``<name>-pachd-client`` and ``<name>-console-client`` (``OidcClient``);
    - ``<name>-oidc-config`` (``AuthConfig``): pachd's OIDC settings, same issuer;
    - ``<name>-binding-<principal>`` (``ClusterRoleBinding``), one per principal.

    Outputs: ``root_token`` (secret), ``issuer``, ``connector_version``.
    """

    root_token: pulumi.Output[str]
    """The cluster's root token (secret)."""
    issuer: pulumi.Output[str]
    """Dex's issuer, shared by the identity server and pachd's OIDC config."""
    connector_version: pulumi.Output[int]
    """The Okta connector's ``configVersion`` in pachd."""

    def __init__(
        self, name: str, args: PachydermAuthArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE_TOKEN, name, {}, opts)
        settings = args.settings
        issuer = urls.dex_issuer(args.public_url)

        # Secret whichever way it came: adopted from config or minted here.
        root_token: pulumi.Output[str] = pulumi.Output.secret(
            args.adopted_root_token or self._password(f"{name}-root-token")
        )
        connection: dict[str, pulumi.Input[Any]] = {
            "pachd_address": args.pachd_address,
            "root_token": root_token,
            "call_timeout_seconds": settings.call_timeout_seconds,
            "ready_timeout_seconds": settings.pachd_ready_timeout_seconds,
        }
        if args.port_forward is not None:
            connection["port_forward"] = args.port_forward.model_dump()
        activation = AuthActivation(
            f"{name}-activation",
            {
                **connection,
                "license_key": pulumi.Output.secret(args.license_key or ""),
                "enterprise_secret": self._password(f"{name}-enterprise-secret")
                if args.license_key is not None
                else "",
                "deactivate_on_delete": settings.deactivate_on_delete,
            },
            pulumi.ResourceOptions(parent=self, depends_on=list(args.wait_for)),
        )
        # identity_v2 and auth configuration RPCs fail until Activate ran: they are gated by
        # cluster permissions with no "auth off" bypass (pachyderm/pachyderm
        # src/internal/middleware/auth/interceptor.go).
        after_activation = pulumi.ResourceOptions(parent=self, depends_on=[activation])
        identity_config = IdentityServerConfig(
            f"{name}-identity",
            {
                **connection,
                "issuer": issuer,
                "id_token_expiry": settings.id_token_expiry,
                "rotation_token_expiry": settings.rotation_token_expiry,
            },
            after_activation,
        )
        connector_config = pulumi.Output.all(
            args.okta.issuer, args.okta.client_id, args.okta.client_secret, args.okta.redirect_uri
        ).apply(
            lambda okta: connector.okta_connector_config(
                issuer=okta[0],
                client_id=okta[1],
                client_secret=okta[2],
                redirect_uri=okta[3],
                skip_email_verified=settings.skip_email_verified,
                scopes=args.okta.scopes,
            )
        )
        okta_connector = IdpConnector(
            f"{name}-connector",
            {
                **connection,
                "connector_id": settings.connector_id,
                "name": settings.connector_name,
                "type": "oidc",
                "config": pulumi.Output.secret(connector_config),
            },
            pulumi.ResourceOptions(parent=self, depends_on=[identity_config]),
        )
        pachd_client_secret = self._password(f"{name}-pachd-client-secret")
        pachd_client = OidcClient(
            f"{name}-pachd-client",
            {
                **connection,
                "client_id": connector.PACHD_CLIENT_ID,
                "name": connector.PACHD_CLIENT_ID,
                "secret": pachd_client_secret,
                "redirect_uris": [urls.pachd_redirect_uri(args.public_url)],
                # The console exchanges its users' tokens through pachd's client.
                "trusted_peers": [connector.CONSOLE_CLIENT_ID],
            },
            after_activation,
        )
        OidcClient(
            f"{name}-console-client",
            {
                **connection,
                "client_id": connector.CONSOLE_CLIENT_ID,
                "name": connector.CONSOLE_CLIENT_ID,
                "secret": pulumi.Output.secret(args.console_client_secret),
                "redirect_uris": [urls.console_redirect_uri(args.public_url)],
                "trusted_peers": [],
            },
            after_activation,
        )
        # SetConfiguration runs OIDC discovery against Dex at the issuer, so the identity
        # config must exist, and the client it names must exist with the same secret.
        AuthConfig(
            f"{name}-oidc-config",
            {
                **connection,
                "issuer": issuer,
                "client_id": connector.PACHD_CLIENT_ID,
                "client_secret": pachd_client_secret,
                "redirect_uri": urls.pachd_redirect_uri(args.public_url),
                "scopes": list(connector.PACHD_OIDC_SCOPES),
                # One cluster: pachd reaches Dex in-process (``LocalhostRewriteClient``,
                # pachyderm/pachyderm src/server/auth/server/http_client.go).
                "localhost_issuer": True,
                "user_accessible_issuer_host": urls.user_accessible_issuer_host(args.public_url),
                "require_email_verified": False,
            },
            pulumi.ResourceOptions(parent=self, depends_on=[identity_config, pachd_client]),
        )
        for principal, roles in settings.cluster_role_bindings().items():
            ClusterRoleBinding(
                f"{name}-binding-{name_suffix(principal)}",
                {**connection, "principal": principal, "roles": list(roles)},
                after_activation,
            )

        self.root_token = root_token
        self.issuer = pulumi.Output.from_input(issuer)
        self.connector_version = okta_connector.config_version
        self.register_outputs(
            {
                "root_token": self.root_token,
                "issuer": self.issuer,
                "connector_version": self.connector_version,
            }
        )

    def _password(self, name: str) -> pulumi.Output[str]:
        # Letters and digits only: these travel in gRPC metadata, YAML and shell commands.
        password = random.RandomPassword(
            name, length=40, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        return pulumi.Output.secret(password.result)
