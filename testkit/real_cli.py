"""The real-CLI test tier: the Pulumi CLI built from its Go module, where the stand-in was.

``scripts/build_pulumi.py`` builds ``pulumi`` 3.274.0 into ``.cache/pulumi-v3.274.0/`` (``make
test`` does, first). The real CLI runs every command the scripts run before ``pulumi up`` - login
to a file backend, ``whoami``, ``stack select --create``, ``config set --secret``, ``config get``,
``config --json``, ``stack output`` - while ``up``, ``preview``, ``refresh`` and ``destroy`` stay
with the stand-in (:mod:`testkit.standins.pulumi_dispatch`): they need the program's resource
plugins, which build only from their own repositories.

Opting out is explicit: without ``PACHYDERM_OKTA_SKIP_REAL_CLI`` a missing build fails the tier (CI
must not pass by skipping it), as for the real-pachd tier.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from testkit.stacks import ROOT
from testkit.standins import Toolbox, toolbox
from testkit.standins.tools import HERE, wrapper, write_executable

PULUMI_VERSION = "3.274.0"
BUILD_DIR = ROOT / ".cache" / f"pulumi-v{PULUMI_VERSION}"
REAL_CLI = BUILD_DIR / "pulumi"
SKIP_VARIABLE = "PACHYDERM_OKTA_SKIP_REAL_CLI"
# What every real-CLI call gets: no update check (it would reach api.github.com), no telemetry.
QUIET = {"PULUMI_SKIP_UPDATE_CHECK": "true", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true"}


class RealCliMissingError(RuntimeError):
    """No build of the real CLI."""


def require_real_cli() -> Path:
    """The built CLI, or :class:`RealCliMissingError` saying how to build it."""
    if not REAL_CLI.is_file():
        raise RealCliMissingError(
            f"no Pulumi CLI build in {BUILD_DIR}: `make test` builds it (python -m "
            f"scripts.build_pulumi {BUILD_DIR.relative_to(ROOT)}), or set {SKIP_VARIABLE}=1"
        )
    return REAL_CLI


def real_toolbox(root: Path, **options: object) -> Toolbox:
    """:func:`testkit.standins.toolbox` with the real CLI as ``pulumi`` (the stand-in for ``up``).

    The stand-in runs in its ``hybrid`` mode: it reads the real CLI's stacks and writes nothing.
    """
    tools = toolbox(root, pulumi_version=PULUMI_VERSION, **options)  # type: ignore[arg-type]
    cli_config_path = tools.bin / ".pulumi.standin.json"
    cli_config = json.loads(cli_config_path.read_text())
    cli_config.update(hybrid=True, real_cli=str(require_real_cli()))
    cli_config_path.write_text(json.dumps(cli_config))
    write_executable(
        tools.bin / "pulumi",
        wrapper(sys.executable, HERE / "pulumi_dispatch.py", cli_config_path),
    )
    return tools


def run_cli(
    cli: Path | str,
    args: list[str],
    *,
    cwd: Path,
    home: Path,
    env: Mapping[str, str] | None = None,
    stdin: str = "",
) -> subprocess.CompletedProcess[str]:
    """``cli args`` as a script runs it: a user's environment, no terminal, ``home`` as HOME."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        **QUIET,
        **(env or {}),
    }
    return subprocess.run(
        [str(cli), *args],
        cwd=cwd,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
