"""The whole program: settings in, providers and components built, stack outputs out.

``__main__.py`` only calls :func:`build` and exports; tests call it under mocks. Output keys are
constants shared with the tests (pulumi/examples ``OUTPUT_KEY_*`` style).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pulumi

from components import access, providers, urls
from components.okta_app import OktaOidcApp, OktaOidcAppArgs, look_up_assignees
from components.pachyderm import PachydermDeployment, PachydermDeploymentArgs
from components.pachyderm_auth import OktaConnectorArgs, PachydermAuth, PachydermAuthArgs
from components.pachyderm_auth.stack_connection import connection_settings
from components.robot_secrets import RobotSecrets, RobotSecretsArgs
from components.settings import StackSettings

OUTPUT_PACHYDERM_URL = "pachydermUrl"
OUTPUT_PACHD_ADDRESS = "pachdAddress"
OUTPUT_OKTA_ISSUER = "oktaIssuer"
OUTPUT_OKTA_CLIENT_ID = "oktaClientId"
OUTPUT_OKTA_REDIRECT_URI = "oktaRedirectUri"
OUTPUT_ROOT_TOKEN = "rootToken"
OUTPUT_PACHCTL_CONNECT = "pachctlConnect"
OUTPUT_PACHCTL_LOGIN = "pachctlLogin"
OUTPUT_PACHCTL_WHOAMI = "pachctlWhoami"
OUTPUT_ACCESS = "access"
OUTPUT_ROBOTS = "robots"


def _utc_time(epoch_seconds: float | None) -> str | None:
    """An expiry as an ISO 8601 UTC time (``2027-01-06T20:00:52+00:00``)."""
    if epoch_seconds is None:
        return None
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat(timespec="seconds")


def build(settings: StackSettings) -> dict[str, Any]:
    """Create every resource for one stack; return the stack outputs by key."""
    project = settings.project
    okta_provider = providers.okta_provider("okta", settings.okta_org)
    # Names Okta does not know stop the program here, before anything is created.
    assignees = look_up_assignees(project.okta, okta_provider)
    kubernetes_provider = providers.kubernetes_provider("kubernetes", settings.kubernetes)

    okta_app = OktaOidcApp(
        "okta",
        OktaOidcAppArgs(
            app=project.okta,
            public_url=project.public_url,
            assignees=assignees,
            claimed_groups=project.claimed_groups(),
        ),
        pulumi.ResourceOptions(providers=[okta_provider]),
    )
    deployment = PachydermDeployment(
        "pachyderm",
        PachydermDeploymentArgs(settings=project.pachyderm, public_url=project.public_url),
        pulumi.ResourceOptions(providers=[kubernetes_provider]),
    )
    auth = PachydermAuth(
        "auth",
        PachydermAuthArgs(
            settings=project.auth,
            public_url=project.public_url,
            connection=connection_settings(project),
            okta=OktaConnectorArgs(
                issuer=okta_app.issuer,
                client_id=okta_app.client_id,
                client_secret=okta_app.client_secret,
                scopes=okta_app.connector_scopes,
            ),
            console_client_secret=deployment.console_client_secret,
            license_key=project.license_key,
            adopted_root_token=project.root_token,
            wait_for=(deployment.release,),
        ),
    )

    if project.auth.robots:
        RobotSecrets(
            "robots",
            RobotSecretsArgs(
                robots=project.auth.robots,
                tokens={robot: token.token for robot, token in auth.robot_tokens.items()},
                release_namespace=project.pachyderm.namespace,
            ),
            pulumi.ResourceOptions(providers=[kubernetes_provider]),
        )

    # What users type next: pachctl talks to the proxy's public address, not the override.
    public_grpc_address = urls.pachd_grpc_address(project.public_url)
    robots = {
        # Each robot's Secret and when its current token expires (the token itself: the Secret).
        OUTPUT_ROBOTS: {
            robot: {
                "secret": f"{settings.secret.namespace}/{settings.secret.name}",
                "expiresAt": auth.robot_tokens[robot].expires_at.apply(_utc_time),
            }
            for robot, settings in sorted(project.auth.robots.items())
        }
    }
    return {
        OUTPUT_PACHYDERM_URL: str(project.public_url),
        OUTPUT_PACHD_ADDRESS: public_grpc_address,
        OUTPUT_OKTA_ISSUER: okta_app.issuer,
        OUTPUT_OKTA_CLIENT_ID: okta_app.client_id,
        OUTPUT_OKTA_REDIRECT_URI: urls.dex_callback_uri(project.public_url),
        OUTPUT_ROOT_TOKEN: auth.root_token,
        OUTPUT_PACHCTL_CONNECT: f"pachctl connect {public_grpc_address}",
        OUTPUT_PACHCTL_LOGIN: "pachctl auth login",
        OUTPUT_PACHCTL_WHOAMI: "pachctl auth whoami",
        # Who gets which roles where, as the stack declares it (bindings made by hand: pachd).
        OUTPUT_ACCESS: access.as_output(access.access_table(project.auth)),
        # Only a stack with robots has the output: a stack without keeps the outputs it had.
        **(robots if project.auth.robots else {}),
    }
