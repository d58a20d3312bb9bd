"""Build the real pachd and pachctl of the real-pachd test tier from their published Go module.

Usage: ``python -m scripts.build_pachd DEST_DIR`` (``make test`` runs it through the Makefile
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

import sys
from pathlib import Path

from scripts.go_build import build_checked, go_command, run

PACHYDERM_VERSION = "2.12.2"
MODULE = "github.com/pachyderm/pachyderm/v2"
PROGRAMS = ("pachd", "pachctl")
GO_MODULE_DIR = Path(__file__).resolve().parent.parent / "testkit" / "realpachd"


def build(destination: Path) -> None:
    """Build both programs, check that pachctl says its version, then keep them."""
    go = go_command("the real-pachd test tier's pachd", "PACHYDERM_OKTA_SKIP_REAL_PACHD")
    module_dir = run([go, "list", "-m", "-f", "{{.Dir}}", MODULE], GO_MODULE_DIR).strip()
    if not module_dir:  # `go list -m` prints no Dir until the module is downloaded
        run([go, "mod", "download", MODULE], GO_MODULE_DIR)
        module_dir = run([go, "list", "-m", "-f", "{{.Dir}}", MODULE], GO_MODULE_DIR).strip()
    ldflags = " ".join(
        [
            f"-X {MODULE}/src/version.AppVersion={PACHYDERM_VERSION}",
            f"-X {MODULE}/src/server/identity/server.webDir={module_dir}/dex-assets",
        ]
    )
    packages = [f"{MODULE}/src/server/cmd/{program}" for program in PROGRAMS]

    def compile_into(scratch: Path) -> None:
        command = [go, "build", "-ldflags", ldflags, "-o", str(scratch), *packages]
        run(command, GO_MODULE_DIR, CGO_ENABLED="0")

    def check(scratch: Path) -> None:
        printed = run([str(scratch / "pachctl"), "version", "--client-only"], GO_MODULE_DIR)
        if printed.strip() != PACHYDERM_VERSION:
            raise SystemExit(
                f"the built pachctl reports {printed.strip()!r}, not {PACHYDERM_VERSION}"
            )

    build_checked(destination, compile_into, check)
    print(f"{destination}: pachd and pachctl {PACHYDERM_VERSION} from {MODULE}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    build(Path(sys.argv[1]).resolve())
