"""``PachydermAuth``: Pachyderm's auth, owned through pachd's API by dynamic resources."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_random as random

from components import dex, urls
from components.naming import name_suffix
from components.pachyderm_auth.activation import ActivationArgs, AuthActivation
from components.pachyderm_auth.auth_config import AuthConfig, AuthConfigArgs
from components.pachyderm_auth.identity_config import IdentityConfigArgs, IdentityServerConfig
from components.pachyderm_auth.idp_connector import ConnectorArgs, IdpConnector
from components.pachyderm_auth.oidc_client import OidcClient, OidcClientArgs
from components.pachyderm_auth.pachd_project import PachydermProject, ProjectArgs
from components.pachyderm_auth.resource_binding import (
    ProjectBindingArgs,
    ProjectRoleBinding,
    RepoBindingArgs,
    RepoRoleBinding,
)
from components.pachyderm_auth.robot_token import RobotToken, RobotTokenArgs
from components.pachyderm_auth.role_binding import ClusterRoleBinding, RoleBindingArgs
from components.pachyderm_auth.stack_connection import ConnectionSettings
from components.settings import AuthSettings

TYPE_TOKEN = "pachyderm-okta:pachyderm:Auth"


@dataclass(frozen=True)
class OktaConnectorArgs:
    """What the Okta app gives the Dex connector."""

    issuer: pulumi.Input[str]
    client_id: pulumi.Input[str]
    client_secret: pulumi.Input[str]
    scopes: Sequence[str]
    """The connector's ``scopes`` (Dex adds ``openid`` itself)."""


@dataclass(frozen=True)
class PachydermAuthArgs:
    """Inputs of :class:`PachydermAuth`."""

    settings: AuthSettings
    public_url: urls.PublicUrl
    connection: ConnectionSettings
    """How the deployer reaches pachd: :func:`connection_settings` of the stack's settings."""
    okta: OktaConnectorArgs
    console_client_secret: pulumi.Input[str]
    """The secret the console pod reads; registered in Dex as the ``console`` client's."""
    license_key: pulumi.Output[str] | None = None
    """Enterprise activation code (Pachyderm 2.11 only)."""
    adopted_root_token: pulumi.Output[str] | None = None
    """An existing root token to adopt; unset, a new one is minted."""
    wait_for: tuple[pulumi.Resource, ...] = ()
    """Resources pachd needs first (the Helm release): activation, and so everything, waits."""


class PachydermAuth(pulumi.ComponentResource):
    """Pachyderm's auth, wired to Okta through pachd's API (docs/architecture.md, step 5).

    Give the component ``depends_on=[<helm release>]`` or ``wait_for``: every child waits for
    the activation, and the activation for pachd.
    """

    root_token: pulumi.Output[str]
    """The cluster's root token (secret)."""
    issuer: pulumi.Output[str]
    """Dex's issuer, shared by the identity server and pachd's OIDC config."""
    connector_version: pulumi.Output[int]
    """The Okta connector's ``configVersion`` in pachd."""
    robot_tokens: dict[str, RobotToken]
    """Each robot's token resource, by robot name: its ``token`` (secret) and ``expires_at``."""

    def __init__(
        self, name: str, args: PachydermAuthArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE_TOKEN, name, {}, opts)
        self._prefix = name
        self._args = args
        # Secret whichever way it came: adopted from config or minted here.
        self.root_token = pulumi.Output.secret(
            args.adopted_root_token or self._password("root-token")
        )
        self._connection = _connection(args, self.root_token)
        self.issuer = pulumi.Output.from_input(urls.dex_issuer(args.public_url))

        activation = self._activation()
        identity = self._identity_config(activation)
        self.connector_version = self._okta_connector(identity).config_version
        pachd_client_secret = self._password("pachd-client-secret")
        pachd_client = self._dex_clients(activation, pachd_client_secret)
        self._oidc_config(identity, pachd_client, pachd_client_secret)
        self._role_bindings(activation)
        created = self._projects(activation)
        self._project_bindings(activation, created)
        self._repo_bindings(activation, created)
        self.robot_tokens = self._robot_tokens(activation)
        self.register_outputs(
            {
                "root_token": self.root_token,
                "issuer": self.issuer,
                "connector_version": self.connector_version,
                "robot_tokens": {robot: token.token for robot, token in self.robot_tokens.items()},
            }
        )

    def _robot_tokens(self, activation: AuthActivation) -> dict[str, RobotToken]:
        return {
            robot: RobotToken(
                f"{self._prefix}-robot-{robot}",
                self._connection,
                RobotTokenArgs(
                    robot=robot,
                    ttl_seconds=settings.ttl_seconds,
                    rotate_after_seconds=settings.rotate_after_seconds,
                    rotation=settings.rotation,
                ),
                self._after(activation),
            )
            for robot, settings in sorted(self._args.settings.robots.items())
        }

    def _activation(self) -> AuthActivation:
        args = self._args
        licensed = args.license_key is not None
        return AuthActivation(
            f"{self._prefix}-activation",
            self._connection,
            ActivationArgs(
                license_key=pulumi.Output.secret(args.license_key or ""),
                enterprise_secret=self._password("enterprise-secret") if licensed else "",
                deactivate_on_delete=args.settings.deactivate_on_delete,
            ),
            pulumi.ResourceOptions(parent=self, depends_on=list(args.wait_for)),
        )

    def _after(self, *resources: pulumi.Resource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, depends_on=list(resources))

    def _identity_config(self, activation: AuthActivation) -> IdentityServerConfig:
        # Dex and auth configuration calls are refused until auth is active.
        settings = self._args.settings
        return IdentityServerConfig(
            f"{self._prefix}-identity",
            self._connection,
            IdentityConfigArgs(
                issuer=self.issuer,
                id_token_expiry=settings.id_token_expiry,
                rotation_token_expiry=settings.rotation_token_expiry,
            ),
            self._after(activation),
        )

    def _okta_connector(self, identity: IdentityServerConfig) -> IdpConnector:
        settings = self._args.settings
        okta = self._args.okta
        # The Okta app registers the same callback as its sign-in redirect.
        redirect_uri = urls.dex_callback_uri(self._args.public_url)
        document = pulumi.Output.all(okta.issuer, okta.client_id, okta.client_secret).apply(
            lambda values: dex.okta_connector_config(
                issuer=values[0],
                client_id=values[1],
                client_secret=values[2],
                redirect_uri=redirect_uri,
                skip_email_verified=settings.skip_email_verified,
                scopes=okta.scopes,
            )
        )
        return IdpConnector(
            f"{self._prefix}-connector",
            self._connection,
            ConnectorArgs(
                connector_id=settings.connector_id,
                name=settings.connector_name,
                type="oidc",
                config=pulumi.Output.secret(document),
            ),
            self._after(identity),
        )

    def _dex_clients(
        self, activation: AuthActivation, pachd_client_secret: pulumi.Output[str]
    ) -> OidcClient:
        """Dex's ``pachd`` and ``console`` clients; returns pachd's."""
        public_url = self._args.public_url
        pachd_client = OidcClient(
            f"{self._prefix}-pachd-client",
            self._connection,
            OidcClientArgs(
                client_id=dex.PACHD_CLIENT_ID,
                name=dex.PACHD_CLIENT_ID,
                secret=pachd_client_secret,
                redirect_uris=[urls.pachd_redirect_uri(public_url)],
                # The console exchanges its users' tokens through pachd's client.
                trusted_peers=[dex.CONSOLE_CLIENT_ID],
            ),
            self._after(activation),
        )
        OidcClient(
            f"{self._prefix}-console-client",
            self._connection,
            OidcClientArgs(
                client_id=dex.CONSOLE_CLIENT_ID,
                name=dex.CONSOLE_CLIENT_ID,
                secret=pulumi.Output.secret(self._args.console_client_secret),
                redirect_uris=[urls.console_redirect_uri(public_url)],
                trusted_peers=[],
            ),
            self._after(activation),
        )
        return pachd_client

    def _oidc_config(
        self,
        identity: IdentityServerConfig,
        pachd_client: OidcClient,
        pachd_client_secret: pulumi.Output[str],
    ) -> None:
        # SetConfiguration runs OIDC discovery against Dex at the issuer, so the identity
        # config must exist, and the client it names must exist with the same secret.
        public_url = self._args.public_url
        AuthConfig(
            f"{self._prefix}-oidc-config",
            self._connection,
            AuthConfigArgs(
                issuer=self.issuer,
                client_id=dex.PACHD_CLIENT_ID,
                client_secret=pachd_client_secret,
                redirect_uri=urls.pachd_redirect_uri(public_url),
                scopes=list(dex.PACHD_OIDC_SCOPES),
                # One cluster: pachd reaches Dex in-process (docs/decisions.md, decision 3).
                localhost_issuer=True,
                user_accessible_issuer_host=urls.user_accessible_issuer_host(public_url),
                # Dex passes an email_verified of false on; only pachd refuses it (decision 46).
                require_email_verified=not self._args.settings.skip_email_verified,
            ),
            self._after(identity, pachd_client),
        )

    def _role_bindings(self, activation: AuthActivation) -> None:
        for principal, roles in self._args.settings.cluster_role_bindings().items():
            ClusterRoleBinding(
                f"{self._prefix}-binding-{name_suffix(principal)}",
                self._connection,
                RoleBindingArgs(principal=principal, roles=list(roles)),
                self._after(activation),
            )

    def _projects(self, activation: AuthActivation) -> dict[str, PachydermProject]:
        """The projects the stack creates when pachd lacks them, by name."""
        return {
            name: PachydermProject(
                f"{self._prefix}-project-{name_suffix(name)}",
                self._connection,
                ProjectArgs(name=name),
                # A project holds data: destroy leaves it, and the preview says delete[retain].
                pulumi.ResourceOptions.merge(
                    self._after(activation), pulumi.ResourceOptions(retain_on_delete=True)
                ),
            )
            for name, access in self._args.settings.projects.items()
            if access.create
        }

    def _project_bindings(
        self, activation: AuthActivation, created: dict[str, PachydermProject]
    ) -> None:
        for project, access in self._args.settings.projects.items():
            after = _waits_for(activation, created.get(project))
            for principal, roles in access.role_bindings.items():
                ProjectRoleBinding(
                    f"{self._prefix}-project-binding-{name_suffix(f'{project} {principal}')}",
                    self._connection,
                    ProjectBindingArgs(project=project, principal=principal, roles=list(roles)),
                    self._after(*after),
                )

    def _repo_bindings(
        self, activation: AuthActivation, created: dict[str, PachydermProject]
    ) -> None:
        for repo, access in self._args.settings.repos.items():
            after = _waits_for(activation, created.get(repo.partition("/")[0]))
            for principal, roles in access.role_bindings.items():
                RepoRoleBinding(
                    f"{self._prefix}-repo-binding-{name_suffix(f'{repo} {principal}')}",
                    self._connection,
                    RepoBindingArgs(repo=repo, principal=principal, roles=list(roles)),
                    self._after(*after),
                )

    def _password(self, suffix: str) -> pulumi.Output[str]:
        # In encrypted state before pachd sees it (docs/decisions.md, decision 2). Letters and
        # digits only: these travel in gRPC metadata, YAML and shell commands.
        password = random.RandomPassword(
            f"{self._prefix}-{suffix}",
            length=40,
            special=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return pulumi.Output.secret(password.result)


def _waits_for(
    activation: AuthActivation, project: PachydermProject | None
) -> tuple[pulumi.Resource, ...]:
    """What a binding waits for: activation, and the project when the stack creates it."""
    return (activation,) if project is None else (activation, project)


def _connection(args: PachydermAuthArgs, root_token: pulumi.Output[str]) -> dict[str, Any]:
    """How every auth resource reaches pachd: the ``Connection`` fields, as Pulumi inputs.

    A direct stack stores no ``port_forward`` key, so its state is what it was before the key
    existed.
    """
    settings = args.connection
    connection: dict[str, Any] = {
        "pachd_address": settings.pachd_address,
        "root_token": root_token,
        "call_timeout_seconds": settings.call_timeout_seconds,
        "ready_timeout_seconds": settings.ready_timeout_seconds,
        "pachd_ca_cert": settings.pachd_ca_cert,
    }
    if settings.port_forward is not None:
        connection["port_forward"] = settings.port_forward.model_dump()
    return connection
