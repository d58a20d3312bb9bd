"""Build the real pachd and pachctl of the real-pachd test tier from their published Go module.

Usage: ``python scripts/build_pachd.py DEST_DIR`` (``make test`` runs it through the Makefile
target for ``.cache/pachd-v2.12.2/``; the tests never build anything).

The Go module ``github.com/pachyderm/pachyderm/v2`` is required at :data:`PACHYDERM_VERSION` by
``testkit/realpachd/go.mod``, a module of ours holding nothing but that requirement, Pachyderm's
own ``replace`` of Dex by its fork, and the ``go.sum`` that pins every module by hash. ``go build``
takes the sources from the Go module proxy and caches them (``GOMODCACHE``, ``GOCACHE``), so a
rebuild only links. The flags are those of Pachyderm's release build (``goreleaser/docker-*.yml``
in the module): ``CGO_ENABLED=0`` - with cgo, pachd refuses to open Dex's database and panics
("CGO_ENABLED=1, cannot use dex") - and the version stamped into ``src/version.AppVersion``;
unstamped, pachd reports 0.0.0. One more link-time value points Dex's web pages
(``src/server/identity/server.webDir``, ``/dex-assets`` in the image) at the module's own
``dex-assets`` folder.

The result is checked before it is kept: ``pachctl version --client-only`` must print the version.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PACHYDERM_VERSION = "2.12.2"
MODULE = "github.com/pachyderm/pachyderm/v2"
PROGRAMS = ("pachd", "pachctl")
GO_MODULE_DIR = Path(__file__).resolve().parent.parent / "testkit" / "realpachd"
# Where `make test` keeps the binaries; testkit/real_pachd.py looks here.
BUILD_DIR_NAME = f"pachd-v{PACHYDERM_VERSION}"


def _go() -> str:
    go = shutil.which("go")
    if go is None:
        raise SystemExit(
            "the real-pachd test tier builds pachd with Go, and no `go` is on PATH: install Go "
            "1.23 or newer (Debian: golang-go; or https://go.dev/dl), or opt out of the tier "
            "with PACHYDERM_OKTA_SKIP_REAL_PACHD=1 (docs/testing.md, 'The real pachd')"
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
    """Build both programs into a scratch folder, check them, then move them to ``destination``."""
    go = _go()
    module_dir = _run([go, "list", "-m", "-f", "{{.Dir}}", MODULE]).strip()
    if not module_dir:  # `go list -m` prints no Dir until the module is downloaded
        _run([go, "mod", "download", MODULE])
        module_dir = _run([go, "list", "-m", "-f", "{{.Dir}}", MODULE]).strip()
    ldflags = " ".join(
        [
            f"-X {MODULE}/src/version.AppVersion={PACHYDERM_VERSION}",
            f"-X {MODULE}/src/server/identity/server.webDir={module_dir}/dex-assets",
        ]
    )
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=destination.parent) as scratch:
        packages = [f"{MODULE}/src/server/cmd/{program}" for program in PROGRAMS]
        _run([go, "build", "-ldflags", ldflags, "-o", scratch, *packages],
             CGO_ENABLED="0")  # fmt: skip
        printed = _run([str(Path(scratch) / "pachctl"), "version", "--client-only"]).strip()
        if printed != PACHYDERM_VERSION:
            raise SystemExit(f"the built pachctl reports {printed!r}, not {PACHYDERM_VERSION}")
        if destination.exists():
            shutil.rmtree(destination)
        Path(scratch).chmod(0o755)
        Path(scratch).rename(destination)
        # TemporaryDirectory cleans up a folder that is no longer there.
        Path(scratch).mkdir()
    print(f"{destination}: pachd and pachctl {PACHYDERM_VERSION} from {MODULE}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    build(Path(sys.argv[1]).resolve())
