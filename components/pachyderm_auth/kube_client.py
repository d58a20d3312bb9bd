"""The Kubernetes API client of the port-forward, loaded as the Kubernetes provider loads it.

``kubernetes:kubeconfig`` is a path or the YAML contents (as pulumi-kubernetes takes it) and
``kubernetes:context`` picks the context; unset, ``KUBECONFIG`` or ``~/.kube/config``. Exec
credential plugins (EKS, GKE) run through the library's kubeconfig loader.
"""

from __future__ import annotations

import json
import os
from typing import Any

import yaml
from kubernetes import client as kube_client
from kubernetes import config as kube_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from components.pachyderm_auth.kube_target import KubeAccess
from components.pachyderm_auth.port_forward_errors import PortForwardError


def api_client(access: KubeAccess) -> kube_client.ApiClient:
    """An API client for the configured cluster."""
    try:
        if access.kubeconfig is None:
            return kube_config.new_client_from_config(context=access.context)
        path = os.path.expanduser(access.kubeconfig)
        if "\n" not in access.kubeconfig and os.path.isfile(path):
            return kube_config.new_client_from_config(config_file=path, context=access.context)
        try:
            document = yaml.safe_load(access.kubeconfig)
        except yaml.YAMLError:
            # The parser's message quotes the offending line, which may hold a credential.
            document = None
        if not isinstance(document, dict):
            raise ConfigException("kubernetes:kubeconfig is neither a file nor kubeconfig YAML")
        return kube_config.new_client_from_config_dict(document, context=access.context)
    except (ConfigException, OSError) as error:
        # The loader's messages name a key, the context or the file, never a value.
        raise PortForwardError(
            f"cannot load the kubeconfig for the port-forward: {error}"
        ) from None


def api_answer(error: ApiException) -> tuple[int, str]:
    """``(HTTP status, message)`` of an API refusal, from its Status body when there is one.

    A refused stream upgrade reaches the library as a handshake failure with status 0; the
    websocket exception it wraps keeps the real status and body.
    """
    status = int(error.status or 0)
    body: Any = error.body
    handshake_status = getattr(error.__context__, "status_code", None)
    if status == 0 and handshake_status:
        status = int(handshake_status)
        body = getattr(error.__context__, "resp_body", None)
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str) and body:
        try:
            document = json.loads(body)
        except ValueError:
            return status, body.strip()
        if isinstance(document, dict) and document.get("message"):
            return status, str(document["message"])
        return status, body.strip()
    return status, str(error.reason or error)
