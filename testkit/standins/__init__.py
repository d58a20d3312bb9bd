"""Offline stand-ins for the tools ``make up`` and the README's commands run.

:func:`toolbox` writes a ``bin`` directory to put first on ``PATH``: a stand-in ``pulumi``
(:mod:`testkit.standins.pulumi_cli`), ``curl``, and ``python3`` (:mod:`testkit.standins.tools`).
Each records its arguments and environment in one JSON-lines log, which :class:`Toolbox` reads.
Nothing reaches the network.
"""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from testkit.stacks import ROOT, filled_stack_text
from testkit.standins.tools import HERE, wrapper, write_executable, write_pulumi

_PINNED = re.search(r"^pulumi==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M)
PINNED_VERSION = _PINNED.group(1) if _PINNED else ""
"""The Pulumi SDK version ``requirements.txt`` pins: the CLI version ``make up`` installs."""
# What `make up` and the README's commands read or run: a clone needs nothing else of the repo.
CLONE_FILES = (
    "Makefile",
    "Pulumi.yaml",
    "Pulumi.dev.yaml",
    "Pulumi.prod.yaml",
    "requirements.txt",
    "requirements-dev.txt",
    "policy/PulumiPolicy.yaml",
    "policy/requirements.txt",
    ".ci/run",
)
# The system directories a user's PATH has; the stand-ins come first.
SYSTEM_PATH = "/usr/bin:/bin"
BASH = shutil.which("bash", path=SYSTEM_PATH) or "/bin/bash"


@dataclass(frozen=True)
class Toolbox:
    """A stand-in ``bin`` directory, a home directory for the user, and the call log."""

    bin: Path
    home: Path
    log: Path
    universe: Path
    """Where the stand-in CLI keeps stacks of non-``file://`` backends (a cloud, a bucket)."""

    def calls(self, tool: str | None = None) -> list[dict[str, Any]]:
        """Every recorded call, oldest first (only ``tool``'s, if given)."""
        if not self.log.exists():
            return []
        entries = [json.loads(line) for line in self.log.read_text().splitlines()]
        return [entry for entry in entries if tool is None or entry["tool"] == tool]

    def clear(self) -> None:
        """Forget the calls recorded so far."""
        self.log.unlink(missing_ok=True)


# The kube contexts of the user's ~/.kube/config: those of the filled-in shipped stacks.
KUBE_CONTEXTS = ("minikube", "prod-cluster")


def kubeconfig(contexts: tuple[str, ...], current: str | None = None) -> str:
    """A kubeconfig with ``contexts`` (each on a cluster and user of its own name)."""
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": name, "cluster": {"server": "https://127.0.0.1:6443"}} for name in contexts
            ],
            "users": [{"name": name, "user": {}} for name in contexts],
            "contexts": [
                {"name": name, "context": {"cluster": name, "user": name}} for name in contexts
            ],
            "current-context": current or (contexts[0] if contexts else ""),
        }
    )


def toolbox(
    root: Path,
    *,
    pulumi_version: str | None,
    installs_version: str | None = None,
    curl_fails: bool = False,
    pretend_python: tuple[int, int, int] | None = None,
    kube_contexts: tuple[str, ...] = KUBE_CONTEXTS,
) -> Toolbox:
    """Write the stand-ins under ``root``; ``pulumi_version=None`` leaves ``pulumi`` off PATH.

    The user's home has a ``~/.kube/config`` with ``kube_contexts`` (none: no kubeconfig).
    """
    tools = Toolbox(
        bin=root / "bin", home=root / "home", log=root / "calls.jsonl", universe=root / "backends"
    )
    tools.home.mkdir(parents=True)
    if kube_contexts:
        (tools.home / ".kube").mkdir()
        (tools.home / ".kube" / "config").write_text(kubeconfig(kube_contexts))
    pulumi_config = {"log": str(tools.log), "universe": str(tools.universe)}
    config: dict[str, Any] = {
        "log": str(tools.log),
        "pulumi": pulumi_config,
        "installs_version": installs_version,
        "curl_fails": curl_fails,
        "pretend_version": list(pretend_python) if pretend_python else None,
    }
    config_path = root / "tools.json"
    config_path.write_text(json.dumps(config))
    if pulumi_version is not None:
        write_pulumi(tools.bin / "pulumi", pulumi_config, pulumi_version)
    for tool in ("curl", "python3"):
        write_executable(
            tools.bin / tool, wrapper(sys.executable, HERE / "tools.py", config_path, tool)
        )
    return tools


def clone(destination: Path, *, examples_filled: bool = True) -> Path:
    """A copy of what ``make up`` and ``make check`` read, as a fresh clone has it.

    With ``examples_filled``, the stack files' example values are replaced as the Quickstart's
    first step says (:data:`testkit.stacks.EXAMPLE_FILLS`).
    """
    for name in CLONE_FILES:
        (destination / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, destination / name)
    for folder in ("scripts", "components"):
        shutil.copytree(
            ROOT / folder, destination / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    if examples_filled:
        for stack_file in destination.glob("Pulumi.*.yaml"):
            stack_file.write_text(filled_stack_text(stack_file.read_text()))
    return destination


def shell(
    tools: Toolbox,
    cwd: Path,
    command: str,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    path: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in a fresh shell: a new ``bash`` with only a user's environment.

    That is ``PATH`` (the stand-ins first, or ``path``), ``HOME``, a locale, and ``env`` - what
    the README tells the user to export, plus what the command line itself sets.
    """
    environment = {
        "PATH": path or f"{tools.bin}:{SYSTEM_PATH}",
        "HOME": str(tools.home),
        "LANG": "C.UTF-8",
        **(env or {}),
    }
    return subprocess.run(
        [BASH, "-c", command],
        cwd=cwd,
        env=environment,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


# What a terminal answers to the queries a program writes (xterm's control sequences): OSC 11 asks
# for the background colour (a dark one here), DSR 6 for the cursor position.
TERMINAL_REPLIES = {
    b"\x1b]11;?": b"\x1b]11;rgb:0000/0000/0000\x1b\\",
    b"\x1b[6n": b"\x1b[1;1R",
}


def shell_in_terminal(
    tools: Toolbox,
    cwd: Path,
    command: str,
    env: dict[str, str],
    typed: tuple[str, str] | None = None,
    timeout: float = 300,
) -> tuple[int, str]:
    """Run ``command`` as :func:`shell` does, but on a pseudo-terminal: a user at a terminal.

    ``typed`` is (prompt, answer): once the terminal shows the prompt, the user types the answer
    key by key, then Enter (the real CLI's prompts read keys in raw mode). Nothing else is ever
    typed, so a prompt nobody expected keeps the command waiting until ``timeout``.
    Returns the exit code and what the terminal showed (stdout and stderr together).
    """
    controller, terminal = pty.openpty()
    environment = {
        "PATH": f"{tools.bin}:{SYSTEM_PATH}",
        "HOME": str(tools.home),
        "LANG": "C.UTF-8",
        "TERM": "xterm-256color",
        **env,
    }
    process = subprocess.Popen(
        [BASH, "-c", command],
        cwd=cwd,
        env=environment,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,
    )
    os.close(terminal)
    shown: list[bytes] = []
    pending = [typed] if typed else []

    def read() -> None:
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: every process holding the terminal has ended
                return
            if not chunk:
                return
            shown.append(chunk)
            # Answer as a terminal does: the real CLI asks for the background colour and the
            # cursor position, and waits 5 s for an answer that never comes from a bare pty.
            for query, reply in TERMINAL_REPLIES.items():
                for _ in range(chunk.count(query)):
                    os.write(controller, reply)
            if pending and pending[0][0].encode() in b"".join(shown):
                _, answer = pending.pop()
                for key in answer.encode():
                    os.write(controller, bytes([key]))
                    time.sleep(0.02)  # one key per read, as a person types
                os.write(controller, b"\r")

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        code = process.wait(timeout=timeout)
    finally:
        process.kill()
        reader.join(timeout=30)
        os.close(controller)
    return code, b"".join(shown).decode(errors="replace").replace("\r\n", "\n")
