"""Building a program of a test tier from its published Go module: shared by the build scripts.

Each real tier keeps a Go module of its own under ``testkit/`` (a ``go.mod`` requiring the
upstream module at one version, its ``go.sum`` pinning every module by hash); ``go build`` takes
the sources from the Go module proxy and keeps them in Go's caches, so a rebuild links only. A
build goes to a scratch folder beside its destination and replaces the destination only once
the caller's check of the result passed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path


def go_command(needed_for: str, opt_out: str) -> str:
    """The ``go`` on PATH; without one, what to install, or how to opt out of the tier."""
    go = shutil.which("go")
    if go is None:
        raise SystemExit(
            f"{needed_for} is built with Go, and no `go` is on PATH: install Go 1.26 or newer "
            f"(Debian: golang-go; or https://go.dev/dl), or opt out of the tier with {opt_out}=1 "
            "(docs/testing.md)"
        )
    return go


def run(command: list[str], module_dir: Path, **environment: str) -> str:
    """Run ``command`` in ``module_dir`` with the module's ``go.sum`` read-only; its stdout."""
    result = subprocess.run(  # noqa: S603 - the build scripts' own commands
        command,
        cwd=module_dir,
        env={**os.environ, "GOFLAGS": "-mod=readonly", **environment},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr.strip()}")
    return result.stdout


def build_checked(
    destination: Path, build: Callable[[Path], None], check: Callable[[Path], None]
) -> None:
    """``build(scratch)``, then ``check(scratch)``, then the scratch folder becomes ``destination``.

    ``check`` raises (``SystemExit``) when the result is not what the tier needs.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=destination.parent) as scratch:
        build(Path(scratch))
        check(Path(scratch))
        if destination.exists():
            shutil.rmtree(destination)
        Path(scratch).chmod(0o755)
        Path(scratch).rename(destination)
        # TemporaryDirectory cleans up a folder that is no longer there.
        Path(scratch).mkdir()
