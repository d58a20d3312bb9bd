"""The kube context a stack names must exist where the Kubernetes provider will look for it.

The program passes ``kubernetes:kubeconfig`` and ``kubernetes:context`` to its explicit provider.
Unset, the kubeconfig is ``$KUBECONFIG`` (the pinned pulumi_kubernetes ``Provider`` defaults it from
the environment), and the provider reads that value as one file path (``~/`` expanded) or as
kubeconfig contents (pulumi/pulumi-kubernetes ``provider/pkg/provider/util.go``,
``parseKubeconfigString``): a ``KUBECONFIG`` listing several files is neither. With no kubeconfig
at all the provider loads client-go's default, ``~/.kube/config``. Without a context it uses the
kubeconfig's ``current-context``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from components.settings import ConfigProblem

KUBECONFIG_KEY = "kubernetes:kubeconfig"
CONTEXT_KEY = "kubernetes:context"


def _expand_home(value: str, home: Path) -> str:
    if value == "~":
        return str(home)
    if value.startswith("~/"):
        return str(home / value[2:])
    return value


def _parsed(text: str) -> dict[str, Any] | None:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    return document if isinstance(document, dict) else None


def _kubeconfig(
    stack_value: str | None, environ: Mapping[str, str], home: Path
) -> tuple[str, dict[str, Any] | None, ConfigProblem | None]:
    """``(where, document, problem)``: the kubeconfig the provider will read, and from where."""
    value, key = stack_value, KUBECONFIG_KEY
    if not value:
        value, key = environ.get("KUBECONFIG", ""), "KUBECONFIG"
    if not value:
        default = home / ".kube" / "config"
        if not default.is_file():
            return (
                str(default),
                None,
                ConfigProblem(
                    KUBECONFIG_KEY,
                    f"is not set, KUBECONFIG is not set, and there is no {default}: set "
                    f"{KUBECONFIG_KEY} to the kubeconfig file of the cluster to deploy to",
                ),
            )
        return str(default), _parsed(default.read_text()), None
    path = Path(_expand_home(value, home))
    if "\n" not in value and path.is_file():
        return str(path), _parsed(path.read_text()), None
    document = _parsed(value)
    if document is not None:
        return f"the kubeconfig in {key}", document, None
    if key == "KUBECONFIG" and os.pathsep in value:
        message = (
            f"is not set, and KUBECONFIG lists several files ({value}), which the Kubernetes "
            "provider reads as one path: set kubernetes:kubeconfig to the file with the context"
        )
    else:
        message = (
            f"{'is' if key == KUBECONFIG_KEY else 'is not set, and KUBECONFIG is'} neither "
            f"an existing file nor kubeconfig contents (no file {path}): point it at the "
            "kubeconfig file of the cluster to deploy to"
        )
    return value, None, ConfigProblem(KUBECONFIG_KEY, message)


def kube_context_problems(
    entries: Mapping[str, tuple[str, bool]], environ: Mapping[str, str], home: Path
) -> list[ConfigProblem]:
    """The problem, if any, with the kubeconfig or context ``entries`` name on this machine."""
    stack_value = entries.get(KUBECONFIG_KEY, ("", False))[0] or None
    context = entries.get(CONTEXT_KEY, ("", False))[0] or None
    where, document, problem = _kubeconfig(stack_value, environ, home)
    if problem is not None:
        return [problem]
    contexts = [
        str(entry.get("name"))
        for entry in (document or {}).get("contexts") or []
        if isinstance(entry, dict)
    ]
    listed = ", ".join(contexts) or "none"
    if context is not None:
        if context in contexts:
            return []
        return [
            ConfigProblem(
                CONTEXT_KEY,
                f"names the context {context!r}, which {where} does not have (its contexts: "
                f"{listed}): set it to one of them (`kubectl config get-contexts`)",
            )
        ]
    current = str((document or {}).get("current-context") or "")
    if current and current in contexts:
        return []
    return [
        ConfigProblem(
            CONTEXT_KEY,
            f"is not set, and {where} has no usable current-context (its contexts: {listed}): "
            "set kubernetes:context to the context of the cluster to deploy to",
        )
    ]
