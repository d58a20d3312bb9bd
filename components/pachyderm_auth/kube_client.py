"""The Kubernetes API client of the port-forward, loaded as the Kubernetes provider loads it.

``kubernetes:kubeconfig`` is a path or the YAML contents (as pulumi-kubernetes takes it) and
``kubernetes:context`` picks the context; unset, ``KUBECONFIG`` or ``~/.kube/config``. Exec
credential plugins (EKS, GKE) run once per process (:mod:`.exec_credentials`).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import urllib3
import yaml
from kubernetes import client as kube_client
from kubernetes.client.exceptions import ApiException
from kubernetes.client.rest import should_bypass_proxies
from kubernetes.config import incluster_config
from kubernetes.config import kube_config as kube_config_loader
from kubernetes.config.config_exception import ConfigException
from kubernetes.config.kube_config import KubeConfigMerger

from components.pachyderm_auth.exec_credentials import PluginOnceLoader
from components.pachyderm_auth.kube_target import KubeAccess
from components.pachyderm_auth.port_forward_errors import PortForwardError


@contextmanager
def api_client(access: KubeAccess, timeout: float) -> Iterator[kube_client.ApiClient]:
    """An API client for the configured cluster, for one operation.

    The loader writes a kubeconfig's embedded client certificate, key and CA to files (the
    library's ``_create_temp_file_with_content``) and would delete them only when the process
    exits; here they go into a private directory that is removed when the operation ends. An exec
    credential plugin runs at most once per process, within ``timeout`` seconds
    (:mod:`components.pachyderm_auth.exec_credentials`).
    """
    key_files = tempfile.mkdtemp(prefix="pachyderm-okta-kube-")
    configuration = kube_client.Configuration()
    try:
        try:
            _loader(access, key_files, timeout).load_and_set(configuration)
        except (ConfigException, OSError) as error:
            # The loader's messages name a key, the context or the file, never a value.
            raise PortForwardError(
                f"cannot load the kubeconfig for the port-forward: {error}"
            ) from None
        _proxy_both_paths_use(configuration)
        client = kube_client.ApiClient(configuration)
        try:
            yield client
        finally:
            client.close()
    finally:
        _forget_files_under(key_files)
        shutil.rmtree(key_files, ignore_errors=True)


SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
"""Where the kubelet mounts a pod's service-account token and the cluster's CA."""


def _in_cluster_possible() -> bool:
    """Whether this runs in a pod: client-go's ``inClusterClientConfig.Possible`` test.

    The API's address in the environment and a service-account token file.
    """
    token = SERVICE_ACCOUNT / "token"
    return bool(
        os.environ.get(incluster_config.SERVICE_HOST_ENV_NAME)
        and os.environ.get(incluster_config.SERVICE_PORT_ENV_NAME)
        and token.is_file()
    )


def _in_cluster_loader() -> incluster_config.InClusterConfigLoader:
    # The token is read again when it may have rotated (bound service-account tokens).
    return incluster_config.InClusterConfigLoader(
        token_filename=str(SERVICE_ACCOUNT / "token"),
        cert_filename=str(SERVICE_ACCOUNT / "ca.crt"),
        try_refresh_token=True,
    )


def _loader(
    access: KubeAccess, key_files: str, timeout: float
) -> PluginOnceLoader | incluster_config.InClusterConfigLoader:
    """The library's loader for ``access``, built as ``load_kube_config*`` build theirs.

    No kubeconfig at all, inside a pod: the pod's service account, as pulumi-kubernetes falls back
    to it through client-go (docs/decisions.md, decision 44).
    """
    options: dict[str, Any] = {
        "active_context": access.context,
        "config_base_path": None,
        "temp_file_path": key_files,
        "plugin_timeout": timeout,
    }
    kubeconfig = access.kubeconfig
    if kubeconfig is None or (
        "\n" not in kubeconfig and os.path.isfile(os.path.expanduser(kubeconfig))
    ):
        # KUBECONFIG may list several files: the library's merger reads them as kubectl does.
        # Read now, not at import as the library's KUBE_CONFIG_DEFAULT_LOCATION is.
        merged = KubeConfigMerger(kubeconfig or os.environ.get("KUBECONFIG", "~/.kube/config"))
        if merged.config is None and kubeconfig is None and _in_cluster_possible():
            return _in_cluster_loader()
        if merged.config is None:
            raise ConfigException("Invalid kube-config file. No configuration found.")
        return PluginOnceLoader(
            config_dict=merged.config, config_persister=merged.save_changes, **options
        )
    try:
        document = yaml.safe_load(kubeconfig)
    except yaml.YAMLError:
        # The parser's message quotes the offending line, which may hold a credential.
        document = None
    if not isinstance(document, dict):
        raise ConfigException("kubernetes:kubeconfig is neither a file nor kubeconfig YAML")
    return PluginOnceLoader(config_dict=document, **options)


def _proxy_both_paths_use(configuration: kube_client.Configuration) -> None:
    """Keep only proxies that requests and streams both go through; refuse the others.

    Requests go through urllib3 (``kubernetes/client/rest.py``), streams through websocket-client,
    which gets only the proxy's host and port, and a Basic ``proxy-authorization`` header split at
    its first ``:`` (``kubernetes/stream/ws_client.py``, ``websocket_proxycare``). So credentials in
    the proxy's URL, which neither path sends, become that header; a SOCKS or ``https://`` proxy,
    which the streams would not speak, is refused (docs/decisions.md, decision 44).
    """
    proxy = configuration.proxy
    if not proxy or should_bypass_proxies(configuration.host, configuration.no_proxy or ""):
        return
    parts = urlsplit(proxy)
    where = "the kubeconfig's proxy-url, or HTTPS_PROXY/HTTP_PROXY/ALL_PROXY"
    if parts.scheme.lower() != "http":
        raise PortForwardError(
            f"the proxy for the Kubernetes API ({where}) is a {parts.scheme}:// proxy, which the "
            "kubernetes client's port-forward streams do not use; use an http:// proxy, or list "
            "the API server's host in NO_PROXY if it can be reached directly"
        )
    if parts.username is None:
        return
    user, password = unquote(parts.username), unquote(parts.password or "")
    if ":" in user:
        raise PortForwardError(
            f"the proxy for the Kubernetes API ({where}) has a user name with ':', which the "
            "kubernetes client's port-forward streams cannot send"
        )
    configuration.proxy = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    configuration.proxy_headers = {
        **(configuration.proxy_headers or {}),
        **urllib3.make_headers(proxy_basic_auth=f"{user}:{password}"),
    }


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
