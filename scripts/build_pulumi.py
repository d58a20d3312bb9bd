"""Build the real Pulumi CLI of the real-CLI test tier from its published Go module.

Usage: ``python scripts/build_pulumi.py DEST_DIR`` (``make test`` runs it through the Makefile
target for ``.cache/pulumi-v3.274.0/``; the tests never build anything).

The project pins the Python SDK ``pulumi==3.272.0`` (requirements.txt), and the CLI is released
under the same version. The Go module proxy does not serve ``github.com/pulumi/pulumi/pkg/v3`` at
3.261 to 3.273, so the tier builds the nearest version it serves, :data:`PULUMI_VERSION`
(3.274.0; the other neighbour, 3.260.0, is twelve releases away). ``testkit/realcli/go.mod``, a
module of ours, holds that requirement, pkg's own ``replace`` of ``github.com/atotto/clipboard`` by
its fork (copied from pkg's go.mod), and the ``go.sum`` that pins every module by hash. ``go
build`` takes the sources from the Go module proxy and caches them (``GOMODCACHE``, ``GOCACHE``),
so a rebuild only links.

Pulumi's release build stamps the version into ``github.com/pulumi/pulumi/sdk/v3/go/common/
version.Version`` at link time (``pulumi version`` prints it; unstamped, it prints nothing, and
scripts/lib.sh, which compares the CLI's version with the SDK pin, would refuse the CLI). The
result is checked before it is kept: ``pulumi version`` must print ``v`` and the version.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PULUMI_VERSION = "3.274.0"
MODULE = "github.com/pulumi/pulumi/pkg/v3"
PACKAGE = f"{MODULE}/cmd/pulumi"
VERSION_VARIABLE = "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"
GO_MODULE_DIR = Path(__file__).resolve().parent.parent / "testkit" / "realcli"
# Where `make test` keeps the binary; testkit/real_cli.py looks here.
BUILD_DIR_NAME = f"pulumi-v{PULUMI_VERSION}"


def _go() -> str:
    go = shutil.which("go")
    if go is None:
        raise SystemExit(
            "the real-CLI test tier builds the Pulumi CLI with Go, and no `go` is on PATH: install "
            "Go 1.26 or newer (https://go.dev/dl), or opt out of the tier with "
            "PACHYDERM_OKTA_SKIP_REAL_CLI=1 (docs/testing.md, 'The real Pulumi CLI')"
        )
    return go


def _run(command: list[str], **environment: str) -> str:
    result = subprocess.run(  # noqa: S603 - fixed arguments
        command,
        cwd=GO_MODULE_DIR,
        env={**os.environ, "GOFLAGS": "-mod=readonly", **environment},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr.strip()}")
    return result.stdout


def build(destination: Path) -> None:
    """Build the CLI into a scratch folder, check it, then move it to ``destination``."""
    go = _go()
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=destination.parent) as scratch:
        ldflags = f"-X {VERSION_VARIABLE}=v{PULUMI_VERSION}"
        _run([go, "build", "-ldflags", ldflags, "-o", scratch, PACKAGE])
        printed = _run(
            [str(Path(scratch) / "pulumi"), "version"], PULUMI_SKIP_UPDATE_CHECK="true"
        ).strip()
        if printed != f"v{PULUMI_VERSION}":
            raise SystemExit(f"the built pulumi reports {printed!r}, not v{PULUMI_VERSION}")
        if destination.exists():
            shutil.rmtree(destination)
        Path(scratch).chmod(0o755)
        Path(scratch).rename(destination)
        # TemporaryDirectory cleans up a folder that is no longer there.
        Path(scratch).mkdir()
    print(f"{destination}: pulumi {PULUMI_VERSION} from {MODULE}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    build(Path(sys.argv[1]).resolve())
