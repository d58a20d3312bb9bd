"""The ``pulumi`` of the real-CLI tier: the real CLI, except for what it cannot do here.

Run as ``python pulumi_dispatch.py CONFIG_JSON <pulumi arguments>`` by the wrapper that
:func:`testkit.real_cli.real_toolbox` writes. ``up``, ``preview``, ``refresh`` and ``destroy`` go
to the stand-in CLI (:mod:`testkit.standins.pulumi_cli`, in its ``hybrid`` mode): they run the
program and the Okta, Kubernetes and random resource plugins, which are not on this machine. Every
other command runs the real Pulumi CLI built by ``scripts/build_pulumi.py``, with the terminal and
environment it was given; this records the call (argv, whether stdin and stdout were terminals,
the exit code) in the stand-ins' log, in the stand-in's format, with ``"real": true``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
STANDIN_COMMANDS = frozenset({"up", "preview", "refresh", "destroy"})
# Root flags that take a value (pkg/cmd/pulumi/pulumi.go): skipped when finding the command.
VALUE_FLAGS = frozenset({"--cwd", "-C", "--color", "--profiling", "--tracing", "-v", "--verbose"})


def command_of(args: list[str]) -> str:
    """The first word that is not a flag (nor a root flag's value)."""
    skip = False
    for word in args:
        if skip:
            skip = False
        elif word.startswith("-"):
            skip = word in VALUE_FLAGS and "=" not in word
        else:
            return word
    return ""


def main() -> int:
    """Entry point: ``pulumi_dispatch.py CONFIG_JSON <args>``."""
    config_path = Path(sys.argv[1])
    config = json.loads(config_path.read_text())
    args = sys.argv[2:]
    if command_of(args) in STANDIN_COMMANDS:
        os.execv(  # noqa: S606 - the stand-in, by its path
            sys.executable, [sys.executable, str(HERE / "pulumi_cli.py"), str(config_path), *args]
        )
    entry = {
        "tool": "pulumi",
        "cli": config["real_cli"],
        "real": True,
        "argv": args,
        "stdin_tty": os.isatty(0),
        "stdout_tty": os.isatty(1),
    }
    # The one variable added: no update check (it would ask api.github.com, off this machine).
    environment = {"PULUMI_SKIP_UPDATE_CHECK": "true", **os.environ}
    code = subprocess.call([config["real_cli"], *args], env=environment)
    with open(config["log"], "a", encoding="utf-8") as log:
        log.write(json.dumps({**entry, "exit": code}) + "\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
