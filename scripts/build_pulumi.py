"""Build the real Pulumi CLI of the real-CLI test tier from its published Go module.

Usage: ``python -m scripts.build_pulumi DEST_DIR`` (``make test`` runs it through the Makefile
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

import sys
from pathlib import Path

from scripts.go_build import build_checked, go_command, run

PULUMI_VERSION = "3.274.0"
MODULE = "github.com/pulumi/pulumi/pkg/v3"
PACKAGE = f"{MODULE}/cmd/pulumi"
VERSION_VARIABLE = "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"
GO_MODULE_DIR = Path(__file__).resolve().parent.parent / "testkit" / "realcli"
# Where `make test` keeps the binary; testkit/real_cli.py looks here.
BUILD_DIR_NAME = f"pulumi-v{PULUMI_VERSION}"


def build(destination: Path) -> None:
    """Build the CLI, check that it says its version, then keep it."""
    go = go_command("the real-CLI test tier's Pulumi CLI", "PACHYDERM_OKTA_SKIP_REAL_CLI")

    def compile_into(scratch: Path) -> None:
        ldflags = f"-X {VERSION_VARIABLE}=v{PULUMI_VERSION}"
        run([go, "build", "-ldflags", ldflags, "-o", str(scratch), PACKAGE], GO_MODULE_DIR)

    def check(scratch: Path) -> None:
        printed = run(
            [str(scratch / "pulumi"), "version"], GO_MODULE_DIR, PULUMI_SKIP_UPDATE_CHECK="true"
        ).strip()
        if printed != f"v{PULUMI_VERSION}":
            raise SystemExit(f"the built pulumi reports {printed!r}, not v{PULUMI_VERSION}")

    build_checked(destination, compile_into, check)
    print(f"{destination}: pulumi {PULUMI_VERSION} from {MODULE}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    build(Path(sys.argv[1]).resolve())
