"""Exec credential plugins (``aws eks get-token``, ``gke-gcloud-auth-plugin``, kubelogin), run once.

The ``kubernetes`` client's loader runs the kubeconfig's plugin each time a client is built, waits
for it without a deadline, and when it fails only logs the plugin's message and carries on without
a credential, so the user sees a later 401 (``kubernetes/config/kube_config.py``,
``_load_from_exec_plugin``; ``exec_provider.py``, ``ExecProvider.run``). :class:`PluginOnceLoader`
replaces that one step: the plugin's credential is kept for the provider process until its
``expirationTimestamp`` (the loader's refresh hook asks again after that), its run has a deadline,
and its failure is a :class:`PortForwardError` with the plugin's own words.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from typing import Any

from kubernetes.config.exec_provider import ExecProvider
from kubernetes.config.kube_config import FileOrData, KubeConfigLoader, _is_expired, parse_rfc3339

from components.pachyderm_auth.port_forward_errors import PortForwardError

_MESSAGE_LIMIT = 500
"""Characters of the plugin's stderr shown: its last lines say why it failed."""

_credentials: dict[str, dict[str, Any]] = {}
"""The plugin's ``status`` by its command, arguments and environment, for this process."""
_credentials_lock = threading.Lock()


class PluginOnceLoader(KubeConfigLoader):
    """The library's kubeconfig loader, with the exec plugin's credential kept per process."""

    def __init__(self, *args: Any, plugin_timeout: float, **kwargs: Any) -> None:
        self._plugin_timeout = plugin_timeout
        super().__init__(*args, **kwargs)

    def _load_from_exec_plugin(self) -> bool | None:
        user, cluster = self._user, self._cluster
        if user is None or cluster is None or "exec" not in user:
            return None
        base_path = self._get_base_path(cluster.path)
        status = exec_credential(
            ExecProvider(user["exec"], base_path, cluster), self._plugin_timeout
        )
        if "token" in status:
            self.token = f"Bearer {status['token']}"
        elif "clientCertificateData" in status and "clientKeyData" in status:
            for attribute, key in (
                ("cert_file", "clientCertificateData"),
                ("key_file", "clientKeyData"),
            ):
                written = FileOrData(
                    status,
                    None,
                    data_key_name=key,
                    file_base_path=base_path,
                    base64_file_content=False,
                    temp_file_path=self._temp_file_path,
                ).as_file()
                setattr(self, attribute, written)
        else:
            raise PortForwardError(
                "the kubeconfig's credential plugin answered with neither a token nor a client "
                "certificate and key"
            )
        if "expirationTimestamp" in status:
            self.expiry = parse_rfc3339(status["expirationTimestamp"])
        return True


def exec_credential(plugin: ExecProvider, timeout: float) -> dict[str, Any]:
    """The plugin's ``ExecCredential`` status: kept from an earlier run until it expires."""
    key = json.dumps([plugin.args, sorted(plugin.env.items()), plugin.cwd], default=str)
    with _credentials_lock:
        status = _credentials.get(key)
        expiry = status.get("expirationTimestamp") if status else None
        if status is None or (expiry and _is_expired(parse_rfc3339(expiry))):
            status = _run(plugin, timeout)
            _credentials[key] = status
        return status


def _run(plugin: ExecProvider, timeout: float) -> dict[str, Any]:
    """Run the plugin as client-go does, non-interactively, within ``timeout`` seconds."""
    request: dict[str, Any] = {
        "apiVersion": plugin.api_version,
        "kind": "ExecCredential",
        "spec": {"interactive": False},
    }
    if plugin.cluster:
        request["spec"]["cluster"] = plugin.cluster.value
    env = {**plugin.env, "KUBERNETES_EXEC_INFO": json.dumps(request)}
    command = plugin.args[0]
    try:
        # The command the user's kubeconfig names, run as kubectl would run it.
        finished = subprocess.run(  # noqa: S603
            plugin.args,
            env=env,
            cwd=plugin.cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            shell=sys.platform in ("win32", "cygwin"),
        )
    except subprocess.TimeoutExpired:
        raise PortForwardError(
            f"the kubeconfig's credential plugin {command!r} did not answer within {timeout:g} s"
        ) from None
    except OSError as error:
        raise PortForwardError(
            f"the kubeconfig's credential plugin {command!r} could not be started: "
            f"{error.strerror or error}"
        ) from None
    if finished.returncode != 0:
        said = " ".join(finished.stderr.split())[-_MESSAGE_LIMIT:] or "nothing on stderr"
        raise PortForwardError(
            f"the kubeconfig's credential plugin {command!r} failed (exit "
            f"{finished.returncode}): {said}"
        )
    try:
        answer = json.loads(finished.stdout)
        status = answer["status"]
    except (ValueError, KeyError, TypeError):
        raise PortForwardError(
            f"the kubeconfig's credential plugin {command!r} printed no ExecCredential"
        ) from None
    if answer.get("apiVersion") != plugin.api_version or not isinstance(status, dict):
        raise PortForwardError(
            f"the kubeconfig's credential plugin {command!r} answered with apiVersion "
            f"{answer.get('apiVersion')!r}, not {plugin.api_version!r}"
        )
    return status
