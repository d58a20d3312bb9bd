"""``RobotSecrets``: each robot's token delivered in a Kubernetes Secret, for every kind of client.

One Secret per robot (``pachyderm-okta:auth.robots.<name>.secret``), holding what each consumer
reads, from the same token (docs/operations.md, "Robot accounts"):

- ``config.json``: a pachctl config whose active context holds pachd's in-cluster address and the
  token as its session token. pachctl reads its token only from the config file ``PACH_CONFIG``
  names (pachyderm ``src/internal/config``), and pachyderm_sdk's ``Client.from_config`` reads the
  same file; ``metrics: false`` keeps pachctl from reporting usage to an outside service.
- ``PACH_PYTHON_AUTH_TOKEN``: the variable pachyderm_sdk's ``Client`` takes its token from
  (``pachyderm_sdk/constants.py``), with ``PACHD_ADDRESS`` beside it.
- ``AWS_ACCESS_KEY_ID`` and ``AWS_SECRET_ACCESS_KEY``: the S3 gateway takes a Pachyderm token as
  the access key and the same token as the secret key (pachyderm ``src/server/pfs/s3/auth.go``,
  ``SecretKey``), with ``S3_ENDPOINT``.

The token stays a Pulumi secret from pachd's answer to the Secret's data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as kubernetes

from components.settings.robots import RobotSettings

TYPE_TOKEN = "pachyderm-okta:pachyderm:RobotSecrets"
# The chart's pachd Service and its ports (etc/helm/pachyderm/templates/pachd/service.yaml).
PACHD_SERVICE = "pachd"
PACHD_GRPC_PORT = 30650
PACHD_S3_PORT = 30600
PACHCTL_CONTEXT = "robot"


def in_cluster_pachd_address(namespace: str) -> str:
    """pachd's gRPC address for a pod of the cluster."""
    return f"grpc://{PACHD_SERVICE}.{namespace}.svc.cluster.local:{PACHD_GRPC_PORT}"


def in_cluster_s3_endpoint(namespace: str) -> str:
    """The S3 gateway's endpoint for a pod of the cluster."""
    return f"http://{PACHD_SERVICE}.{namespace}.svc.cluster.local:{PACHD_S3_PORT}"


def robot_secret_data(token: str, release_namespace: str) -> dict[str, str]:
    """The Secret's ``stringData`` for ``token``: one entry per kind of consumer."""
    address = in_cluster_pachd_address(release_namespace)
    config = {
        "v2": {
            "active_context": PACHCTL_CONTEXT,
            "contexts": {PACHCTL_CONTEXT: {"pachd_address": address, "session_token": token}},
            "metrics": False,
        }
    }
    return {
        "config.json": json.dumps(config, indent=2) + "\n",
        "PACHD_ADDRESS": address,
        "PACH_PYTHON_AUTH_TOKEN": token,
        "S3_ENDPOINT": in_cluster_s3_endpoint(release_namespace),
        "AWS_ACCESS_KEY_ID": token,
        "AWS_SECRET_ACCESS_KEY": token,
    }


@dataclass(frozen=True)
class RobotSecretsArgs:
    """Inputs of :class:`RobotSecrets`."""

    robots: Mapping[str, RobotSettings]
    tokens: Mapping[str, pulumi.Output[str]]
    """Each robot's current token (secret), by robot name."""
    release_namespace: str
    """Where the Pachyderm release runs (its pachd Service is the address consumers use)."""


class RobotSecrets(pulumi.ComponentResource):
    """One Kubernetes Secret per robot, in the namespace and under the name the stack gives."""

    secrets: dict[str, kubernetes.core.v1.Secret]
    """By robot name."""

    def __init__(
        self, name: str, args: RobotSecretsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE_TOKEN, name, {}, opts)
        self.secrets = {}
        for robot, settings in sorted(args.robots.items()):
            data: pulumi.Output[dict[str, str]] = args.tokens[robot].apply(
                lambda token: robot_secret_data(token, args.release_namespace)
            )
            # Secret already (the token is); said again so no code path can lose it.
            secret_data: pulumi.Output[dict[str, str]] = pulumi.Output.secret(data)
            self.secrets[robot] = kubernetes.core.v1.Secret(
                f"{name}-{robot}",
                metadata=kubernetes.meta.v1.ObjectMetaArgs(
                    name=settings.secret.name,
                    namespace=settings.secret.namespace,
                    labels={"app.kubernetes.io/managed-by": "pachyderm-okta"},
                    annotations={"pachyderm-okta/robot": f"robot:{robot}"},
                ),
                type="Opaque",
                string_data=secret_data,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"secrets": {robot: s.id for robot, s in self.secrets.items()}})
