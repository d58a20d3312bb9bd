"""The Kubernetes API client of the port-forward, loaded as the Kubernetes provider loads it.

``kubernetes:kubeconfig`` is a path or the YAML contents (as pulumi-kubernetes takes it) and
``kubernetes:context`` picks the context; unset, ``KUBECONFIG`` or ``~/.kube/config``. Exec
credential plugins (EKS, GKE) run through the library's kubeconfig loader.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml
from kubernetes import client as kube_client
from kubernetes import config as kube_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config import kube_config as kube_config_loader
from kubernetes.config.config_exception import ConfigException

from components.pachyderm_auth.kube_target import KubeAccess
from components.pachyderm_auth.port_forward_errors import PortForwardError


@contextmanager
def api_client(access: KubeAccess) -> Iterator[kube_client.ApiClient]:
    """An API client for the configured cluster, for one operation.

    The loader writes a kubeconfig's embedded client certificate, key and CA to files (the
    library's ``_create_temp_file_with_content``) and would delete them only when the process
    exits; here they go into a private directory that is removed when the operation ends.
    """
    key_files = tempfile.mkdtemp(prefix="pachyderm-okta-kube-")
    configuration = kube_client.Configuration()
    try:
        _load(access, configuration, key_files)
        client = kube_client.ApiClient(configuration)
        try:
            yield client
        finally:
            client.close()
    finally:
        _forget_files_under(key_files)
        shutil.rmtree(key_files, ignore_errors=True)


def _load(access: KubeAccess, configuration: kube_client.Configuration, key_files: str) -> None:
    try:
        if access.kubeconfig is None:
            kube_config.load_kube_config(
                context=access.context,
                client_configuration=configuration,
                temp_file_path=key_files,
            )
            return
        path = os.path.expanduser(access.kubeconfig)
        if "\n" not in access.kubeconfig and os.path.isfile(path):
            kube_config.load_kube_config(
                config_file=path,
                context=access.context,
                client_configuration=configuration,
                temp_file_path=key_files,
            )
            return
        try:
            document = yaml.safe_load(access.kubeconfig)
        except yaml.YAMLError:
            # The parser's message quotes the offending line, which may hold a credential.
            document = None
        if not isinstance(document, dict):
            raise ConfigException("kubernetes:kubeconfig is neither a file nor kubeconfig YAML")
        kube_config.load_kube_config_from_dict(
            document,
            context=access.context,
            client_configuration=configuration,
            temp_file_path=key_files,
        )
    except (ConfigException, OSError) as error:
        # The loader's messages name a key, the context or the file, never a value.
        raise PortForwardError(
            f"cannot load the kubeconfig for the port-forward: {error}"
        ) from None


def _forget_files_under(directory: str) -> None:
    """Drop the loader's memory of the files in ``directory``.

    For the same contents it hands out the path it remembers, which must not outlive the directory.
    """
    remembered = kube_config_loader._temp_files
    for contents, path in list(remembered.items()):
        if os.path.dirname(path) == directory:
            del remembered[contents]


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
