"""Stand-in for the Pulumi CLI: records every call and answers as the real CLI would.

Run as ``python pulumi_cli.py CONFIG_JSON <pulumi arguments>`` by the ``pulumi`` wrapper that
:mod:`testkit.standins` writes. It models what decides *where* a command lands, following the
Pulumi sources:

- the backend: ``PULUMI_BACKEND_URL``, then ``backend.url`` in ``Pulumi.yaml``, then the
  ``current`` login in ``credentials.json`` (``PULUMI_CREDENTIALS_PATH`` or ``PULUMI_HOME``, default
  ``~/.pulumi``), then Pulumi Cloud when ``PULUMI_ACCESS_TOKEN`` is set; with none of these a
  non-interactive CLI fails (pulumi/pulumi pkg/workspace/creds.go, GetCurrentCloudURL);
- the stack: ``--stack``, else the stack ``pulumi stack select`` stored for this project under
  ``PULUMI_HOME/workspaces``;
- the secrets provider: the stack file's ``secretsprovider``, then its ``encryptionsalt``, then the
  backend's default (Pulumi Cloud's key for https backends, a passphrase for self-managed ones);
  the passphrase comes from ``PULUMI_CONFIG_PASSPHRASE``, ``PULUMI_CONFIG_PASSPHRASE_FILE``, or a
  terminal, else the CLI fails with its own message (pulumi/pulumi
  pkg/secrets/passphrase/manager.go, readPassphrase);
- config lives in ``Pulumi.<stack>.yaml`` next to ``Pulumi.yaml``; stacks, outputs and resources
  live in the backend (``<dir>/.pulumi/stacks/<project>/`` for ``file://``, a directory of the
  stand-in for every other URL).

Every call appends one JSON line (which CLI, argv, cwd, environment, and the backend, stack and
project it reached) to the log named in the config. Unknown commands or flags fail loudly, so a
README command the stand-in does not know cannot pass unnoticed. Not modelled: confirmation
prompts (a user answers them at the terminal), plugins, and running the program.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import sys
import urllib.parse
from pathlib import Path
from typing import Any, NoReturn

import yaml

VALUE_FLAGS = {"--cwd", "-C", "--stack", "-s", "--policy-pack", "--replace", "--secrets-provider"}
BOOL_FLAGS = {
    "--yes",
    "-y",
    "--create",
    "-c",
    "--secret",
    "--show-secrets",
    "--json",
    "--non-interactive",
    "--skip-preview",
    "--diff",
    "--local",
    "--verbose",
    "-v",
}
OKTA_APP_TYPE = "okta:app/oAuth:OAuth"
ROOT_TOKEN_TYPE = "random:index/randomPassword:RandomPassword"


class CliError(Exception):
    """A CLI error: printed as ``error: ...``, exit code 255 as the real CLI uses."""


class Call:
    """One invocation: parsed arguments, the project it runs in, and what it reached."""

    def __init__(self, config: dict[str, Any], argv: list[str]) -> None:
        self.config = config
        self.argv = argv
        self.positional: list[str] = []
        self.flags: dict[str, str | bool] = {}
        self._parse(argv)
        self.cwd = Path(str(self.flags.get("--cwd") or self.flags.get("-C") or os.getcwd()))
        self.record: dict[str, Any] = {
            "tool": "pulumi",
            "cli": config["cli"],
            "argv": argv,
            "cwd": os.getcwd(),
            "env": dict(os.environ),
            "stdin_tty": sys.stdin.isatty(),
        }

    def _parse(self, argv: list[str]) -> None:
        index = 0
        while index < len(argv):
            arg = argv[index]
            if arg.startswith("-"):
                name, _, inline = arg.partition("=")
                if name in VALUE_FLAGS:
                    if not inline:
                        index += 1
                        if index >= len(argv):
                            raise CliError(f"flag needs an argument: {name}")
                        inline = argv[index]
                    self.flags[name] = inline
                elif name in BOOL_FLAGS and not inline:
                    self.flags[name] = True
                else:
                    raise CliError(f"unknown flag: {arg} (the stand-in CLI does not model it)")
            else:
                self.positional.append(arg)
            index += 1

    def flag(self, *names: str) -> str | bool | None:
        """The value of the first of ``names`` given."""
        for name in names:
            if name in self.flags:
                return self.flags[name]
        return None

    # --- where things live ------------------------------------------------------------------

    def pulumi_home(self) -> Path:
        return Path(os.environ.get("PULUMI_HOME") or Path.home() / ".pulumi")

    def credentials_file(self) -> Path:
        folder = os.environ.get("PULUMI_CREDENTIALS_PATH") or str(self.pulumi_home())
        return Path(folder) / "credentials.json"

    def project_file(self) -> Path:
        for directory in (self.cwd, *self.cwd.parents):
            if (directory / "Pulumi.yaml").is_file():
                return directory / "Pulumi.yaml"
        raise CliError(
            "no Pulumi.yaml project file found (searching upwards from "
            f"{self.cwd}). If you have not created a project yet, use `pulumi new` to do so"
        )

    def project(self) -> dict[str, Any]:
        loaded = yaml.safe_load(self.project_file().read_text())
        self.record["project_dir"] = str(self.project_file().parent)
        return dict(loaded)

    def backend(self) -> str:
        url = os.environ.get("PULUMI_BACKEND_URL")
        if not url:
            url = (self.project().get("backend") or {}).get("url")
        if not url and self.credentials_file().is_file():
            url = json.loads(self.credentials_file().read_text()).get("current")
        if not url and os.environ.get("PULUMI_ACCESS_TOKEN"):
            url = "https://api.pulumi.com"
        if not url:
            raise CliError(
                "PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions"
            )
        self.record["backend"] = url
        return str(url)

    def stacks_dir(self) -> Path:
        url = self.backend()
        name = self.project()["name"]
        if url.startswith("file://"):
            path = url[len("file://") :]
            root = Path(os.path.expanduser(path)).resolve()
            if not root.is_dir():
                raise CliError(f"unable to open bucket {url}: no such directory {root}")
            return root / ".pulumi" / "stacks" / name
        universe = Path(self.config["universe"]) / urllib.parse.quote(url, safe="")
        return universe / "stacks" / name

    def workspace_file(self) -> Path:
        project_file = self.project_file()
        digest = hashlib.sha1(str(project_file).encode()).hexdigest()  # noqa: S324 - a file key
        name = self.project()["name"]
        return self.pulumi_home() / "workspaces" / f"{name}-{digest}-workspace.json"

    def stack_name(self) -> str:
        explicit = self.flag("--stack", "-s")
        if isinstance(explicit, str):
            name = explicit
        elif self.workspace_file().is_file():
            name = json.loads(self.workspace_file().read_text())["stack"]
        else:
            raise CliError("no stack selected; please use `pulumi stack select` to choose one")
        self.record["stack"] = name
        return str(name)

    def stack_state_file(self, name: str) -> Path:
        return self.stacks_dir() / f"{name}.json"

    def load_stack(self, name: str) -> dict[str, Any]:
        state_file = self.stack_state_file(name)
        if not state_file.is_file():
            raise CliError(f"no stack named '{name}' found")
        return dict(json.loads(state_file.read_text()))

    def save_stack(self, name: str, state: dict[str, Any]) -> None:
        state_file = self.stack_state_file(name)
        state_file.parent.mkdir(parents=True, exist_ok=True)
        state_file.write_text(json.dumps(state, indent=2))

    # --- the stack file: config and secrets provider ------------------------------------------

    def stack_file(self, name: str) -> Path:
        return self.project_file().parent / f"Pulumi.{name}.yaml"

    def load_stack_file(self, name: str) -> dict[str, Any]:
        path = self.stack_file(name)
        loaded = yaml.safe_load(path.read_text()) if path.is_file() else None
        return dict(loaded or {})

    def save_stack_file(self, name: str, content: dict[str, Any]) -> None:
        self.stack_file(name).write_text(yaml.safe_dump(content, sort_keys=False))

    def secrets_provider(self, name: str) -> str:
        content = self.load_stack_file(name)
        provider = content.get("secretsprovider")
        if provider and provider != "passphrase":
            return str(provider)
        if content.get("encryptionsalt") or provider == "passphrase":
            return "passphrase"
        url = self.backend()
        return "service" if url.startswith(("https://", "http://")) else "passphrase"

    def passphrase(self) -> str:
        if "PULUMI_CONFIG_PASSPHRASE" in os.environ:
            return os.environ["PULUMI_CONFIG_PASSPHRASE"]
        phrase_file = os.environ.get("PULUMI_CONFIG_PASSPHRASE_FILE")
        if phrase_file:
            try:
                return Path(phrase_file).read_text().strip()
            except OSError as error:
                raise CliError(f"unable to read PULUMI_CONFIG_PASSPHRASE_FILE: {error}") from error
        if not sys.stdin.isatty():
            raise CliError(
                "passphrase must be set with PULUMI_CONFIG_PASSPHRASE or "
                "PULUMI_CONFIG_PASSPHRASE_FILE environment variables"
            )
        return getpass.getpass("Enter your passphrase to unlock config/secrets\n")

    def unlock(self, name: str) -> None:
        """Open the stack's secrets, creating the passphrase salt on first use."""
        if self.secrets_provider(name) != "passphrase":
            return
        phrase = self.passphrase()
        digest = "v1:standin:" + hashlib.sha256(phrase.encode()).hexdigest()
        content = self.load_stack_file(name)
        salt = content.get("encryptionsalt")
        if salt is None:
            content["encryptionsalt"] = digest
            self.save_stack_file(name, content)
        elif salt != digest:
            raise CliError("incorrect passphrase")
        self.record["unlocked"] = True


def _read_value() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("value: ")
    return sys.stdin.read().rstrip("\n")


def run(call: Call) -> int:
    """Execute the call; return the exit code."""
    words = call.positional
    command = words[0] if words else ""
    if command == "version":
        print(f"v{call.config['version']}")
        return 0
    if command == "login":
        url = "file://~" if call.flag("--local") else (words[1] if len(words) > 1 else None)
        if url is None:
            # No URL: Pulumi Cloud, with the token from the environment or typed at the terminal.
            if not (os.environ.get("PULUMI_ACCESS_TOKEN") or sys.stdin.isatty()):
                raise CliError(
                    "PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions"
                )
            url = "https://api.pulumi.com"
        if url.startswith("file://"):
            root = Path(os.path.expanduser(url[len("file://") :]))
            if not root.is_dir():
                raise CliError(f"problem logging in: unable to open bucket {url}")
        credentials = call.credentials_file()
        credentials.parent.mkdir(parents=True, exist_ok=True)
        stored = json.loads(credentials.read_text()) if credentials.is_file() else {}
        stored["current"] = url
        stored.setdefault("accounts", {})[url] = {"username": "standin"}
        credentials.write_text(json.dumps(stored))
        call.record["backend"] = url
        print(f"Logged in to {url}")
        return 0
    if command == "whoami":
        print(f"User: standin\nBackend URL: {call.backend()}")
        return 0
    if command == "stack":
        return _stack(call, words[1:])
    if command == "config":
        return _config(call, words[1:])
    if command in ("up", "preview", "refresh", "destroy"):
        return _operation(call, command)
    raise CliError(f"unknown command {' '.join(words)!r} (the stand-in CLI does not model it)")


def _stack(call: Call, words: list[str]) -> int:  # noqa: C901 - one branch per subcommand
    sub = words[0] if words else ""
    if sub in ("select", "init"):
        name = words[1] if len(words) > 1 else call.flag("--stack", "-s")
        if not isinstance(name, str):
            raise CliError(f"`pulumi stack {sub}` needs a stack name")
        call.record["stack"] = name
        exists = call.stack_state_file(name).is_file()
        if sub == "init" and exists:
            raise CliError(f"stack '{name}' already exists")
        if not exists:
            if sub == "select" and not call.flag("--create", "-c"):
                raise CliError(f"no stack named '{name}' found")
            call.unlock(name)
            call.save_stack(name, {"outputs": {}, "secret_outputs": [], "resources": []})
            print(f"Created stack '{name}'")
        call.workspace_file().parent.mkdir(parents=True, exist_ok=True)
        call.workspace_file().write_text(json.dumps({"stack": name}))
        return 0
    if sub == "output":
        name = call.stack_name()
        state = call.load_stack(name)
        call.unlock(name)
        show = bool(call.flag("--show-secrets"))
        outputs = {
            key: (value if show or key not in state["secret_outputs"] else "[secret]")
            for key, value in state["outputs"].items()
        }
        if len(words) > 1:
            if words[1] not in outputs:
                raise CliError(f"current stack does not have output property '{words[1]}'")
            print(outputs[words[1]])
        elif call.flag("--json"):
            print(json.dumps(outputs, indent=2))
        else:
            for key, value in outputs.items():
                print(f"    {key}  {value}")
        return 0
    if sub == "export":
        name = call.stack_name()
        state = call.load_stack(name)
        print(json.dumps({"version": 3, "deployment": {"resources": state["resources"]}}))
        return 0
    if sub == "change-secrets-provider":
        name = call.stack_name()
        call.unlock(name)
        content = call.load_stack_file(name)
        content.pop("encryptionsalt", None)
        content["secretsprovider"] = words[1] if len(words) > 1 else "passphrase"
        if content["secretsprovider"] == "passphrase":
            del content["secretsprovider"]
            call.save_stack_file(name, content)
            call.unlock(name)
        else:
            call.save_stack_file(name, content)
        return 0
    raise CliError(f"unknown command 'stack {sub}' (the stand-in CLI does not model it)")


def _config(call: Call, words: list[str]) -> int:
    sub = words[0] if words else ""
    name = call.stack_name()
    call.load_stack(name)
    content = call.load_stack_file(name)
    values = content.setdefault("config", {}) or {}
    if sub == "get" and len(words) == 2:
        if words[1] not in values:
            raise CliError(f"configuration key '{words[1]}' not found for stack '{name}'")
        value = values[words[1]]
        if isinstance(value, dict) and "secure" in value:
            call.unlock(name)
            value = value["secure"].removeprefix("standin-secure:")
        print(value if isinstance(value, str) else json.dumps(value))
        return 0
    if sub == "set" and len(words) in (2, 3):
        value = words[2] if len(words) == 3 else _read_value()
        if call.flag("--secret"):
            call.unlock(name)
            values[words[1]] = {"secure": "standin-secure:" + value}
        else:
            values[words[1]] = value
        content["config"] = values
        call.save_stack_file(name, content)
        return 0
    raise CliError(f"unknown command 'config {' '.join(words)}' (the stand-in does not model it)")


def _operation(call: Call, command: str) -> int:
    name = call.stack_name()
    project = call.project()["name"]
    state = call.load_stack(name)
    call.unlock(name)
    pack = call.flag("--policy-pack")
    if isinstance(pack, str) and not (call.cwd / pack / "PulumiPolicy.yaml").is_file():
        raise CliError(f"no PulumiPolicy.yaml in policy pack {pack}")
    replace = call.flag("--replace")
    known = {resource["urn"] for resource in state["resources"]}
    if isinstance(replace, str) and replace not in known:
        raise CliError(f"'{replace}' is not a resource of stack {name}")
    if command == "up":
        prefix = f"urn:pulumi:{name}::{project}::"
        state["resources"] = [
            {
                "urn": f"{prefix}pulumi:pulumi:Stack::{project}-{name}",
                "type": "pulumi:pulumi:Stack",
            },
            {
                "urn": f"{prefix}pachyderm-okta:okta:OidcApp${OKTA_APP_TYPE}::okta-app",
                "type": OKTA_APP_TYPE,
            },
            {
                "urn": f"{prefix}pachyderm-okta:pachyderm:Auth${ROOT_TOKEN_TYPE}::auth-root-token",
                "type": ROOT_TOKEN_TYPE,
            },
        ]
        state["outputs"] = {
            "pachctlConnect": f"pachctl connect grpc://{name}.example:30080",
            "rootToken": f"root-token-of-{name}",
        }
        state["secret_outputs"] = ["rootToken"]
    if command == "destroy":
        state.update(outputs={}, secret_outputs=[], resources=[])
    call.save_stack(name, state)
    print(f"{command} of stack {name}: done")
    return 0


def main() -> NoReturn:
    """Entry point: ``pulumi_cli.py CONFIG_JSON <args>``."""
    config = json.loads(Path(sys.argv[1]).read_text())
    call: Call | None = None
    code = 255
    try:
        call = Call(config, sys.argv[2:])
        code = run(call)
    except CliError as failure:
        print(f"error: {failure}", file=sys.stderr)
        if call is not None:
            call.record["error"] = str(failure)
    finally:
        record: dict[str, Any] = (
            call.record if call is not None else {"tool": "pulumi", "argv": sys.argv[2:]}
        )
        record.setdefault("cli", config["cli"])
        record["exit"] = code
        with open(config["log"], "a", encoding="utf-8") as log:
            log.write(json.dumps(record) + "\n")
    sys.exit(code)


if __name__ == "__main__":
    main()
