"""Stand-ins for ``curl``, Pulumi's ``install.sh`` and ``python3``: record, then act offline.

Run as ``python tools.py CONFIG_JSON TOOL <arguments>`` by the wrappers :mod:`testkit.standins`
writes. Every call appends one JSON line to the config's log:

- ``curl``: writes the stand-in installer to the ``-o`` file (no network);
- ``install.sh``: takes Pulumi's installer flags (``--no-edit-path --install-root DIR --version
  V``, as the pinned SDK's ``PulumiCommand.install`` passes them) and puts a stand-in CLI of
  version V (or of ``installs_version``, to model a broken installer) in ``DIR/bin/pulumi``. Like
  an installer that ignores its flags, it also writes into ``$HOME``, so the tests can see that the
  caller confined it;
- ``python3``: ``-m venv DIR`` makes a virtualenv whose ``python`` records ``-m pip`` instead of
  installing; any other use runs the real interpreter (with ``pretend_version``, ``-c`` code and
  ``-V`` see that older version instead).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def wrapper(target_python: str, script: Path, config: Path, *args: str) -> str:
    """A POSIX sh script running ``script`` with the config and its own arguments."""
    quoted = " ".join(f"'{part}'" for part in (target_python, str(script), str(config), *args))
    return f'#!/bin/sh\nexec {quoted} "$@"\n'


def write_executable(path: Path, content: str) -> None:
    """Write ``content`` to ``path`` and make it executable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    path.chmod(0o755)


def write_pulumi(path: Path, config: dict[str, Any], version: str) -> None:
    """Install the stand-in Pulumi CLI of ``version`` at ``path``."""
    cli_config = path.parent / f".{path.name}.standin.json"
    cli_config.parent.mkdir(parents=True, exist_ok=True)
    cli_config.write_text(json.dumps({**config, "version": version, "cli": str(path)}))
    write_executable(path, wrapper(sys.executable, HERE / "pulumi_cli.py", cli_config))


def _record(config: dict[str, Any], entry: dict[str, Any]) -> None:
    with open(config["log"], "a", encoding="utf-8") as log:
        log.write(json.dumps({**entry, "cwd": os.getcwd(), "env": dict(os.environ)}) + "\n")


def curl(config: dict[str, Any], config_path: Path, args: list[str]) -> int:
    """Fetch nothing: write the stand-in installer where ``-o`` says."""
    output = args[args.index("-o") + 1] if "-o" in args else None
    _record(config, {"tool": "curl", "argv": args})
    if config.get("curl_fails") or output is None:
        print("curl: (6) Could not resolve host (stand-in)", file=sys.stderr)
        return 6
    installer = wrapper(sys.executable, HERE / "tools.py", config_path, "install.sh")
    write_executable(Path(output), installer)
    return 0


def installer(config: dict[str, Any], args: list[str]) -> int:
    """Pulumi's install.sh, as the tests need it: flags in, a CLI out, a stray write to $HOME."""
    _record(config, {"tool": "install.sh", "argv": args})
    root = Path(args[args.index("--install-root") + 1])
    version = config.get("installs_version") or args[args.index("--version") + 1]
    write_pulumi(root / "bin" / "pulumi", config["pulumi"], version)
    stray = Path(os.environ["HOME"]) / ".pulumi" / "installer-was-here"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_text("an installer that writes to $HOME\n")
    return 0


def python3(config: dict[str, Any], config_path: Path, args: list[str]) -> int:
    """``-m venv`` makes a recording virtualenv; everything else is the real interpreter."""
    if args[:2] == ["-m", "venv"]:
        _record(config, {"tool": "python3", "argv": args})
        venv_python = Path(args[2]) / "bin" / "python"
        write_executable(
            venv_python, wrapper(sys.executable, HERE / "tools.py", config_path, "venv-python")
        )
        return 0
    pretend = config.get("pretend_version")
    if pretend and args == ["-V"]:
        print("Python " + ".".join(str(part) for part in pretend))
        return 0
    if pretend and args[:1] == ["-c"]:
        args = ["-c", f"import sys; sys.version_info = {tuple(pretend)!r}\n{args[1]}", *args[2:]]
    os.execv(sys.executable, [sys.executable, *args])  # noqa: S606 - the real interpreter


def venv_python(config: dict[str, Any], args: list[str]) -> int:
    """The virtualenv's python: ``-m pip`` is recorded, not run."""
    if args[:2] == ["-m", "pip"]:
        _record(config, {"tool": "pip", "argv": args[2:]})
        return 0
    os.execv(sys.executable, [sys.executable, *args])  # noqa: S606 - the real interpreter


def main() -> int:
    """Entry point: ``tools.py CONFIG_JSON TOOL <arguments>``."""
    config_path = Path(sys.argv[1])
    config = json.loads(config_path.read_text())
    tool, args = sys.argv[2], sys.argv[3:]
    if tool == "curl":
        return curl(config, config_path, args)
    if tool == "install.sh":
        return installer(config, args)
    if tool == "python3":
        return python3(config, config_path, args)
    if tool == "venv-python":
        return venv_python(config, args)
    raise SystemExit(f"unknown stand-in tool {tool}")


if __name__ == "__main__":
    sys.exit(main())
