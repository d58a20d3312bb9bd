"""Stand-in for the Pulumi CLI: records every call and answers as the real CLI would.

Where the real CLI can run, the tests run it: the real-CLI tier (:mod:`testkit.real_cli`, built by
``scripts/build_pulumi.py``) runs login, whoami, stack, config and stack output with the real CLI,
and checks this stand-in's answers to the calls the scripts make against it
(tests/test_real_cli.py). The stand-in remains the only CLI for what the real one cannot do on
this machine - ``up``, ``preview``, ``refresh`` and ``destroy``, which run the program and its
resource plugins - and for the fast tests of the scripts' many paths (tests/test_scripts.py). In
its ``hybrid`` mode (the real-CLI tier) it runs only those four, on a stack the real CLI made,
and writes nothing.

Run as ``python pulumi_cli.py CONFIG_JSON <pulumi arguments>`` by the ``pulumi`` wrapper that
:mod:`testkit.standins` writes. It models what decides *where* a command lands, following the
Pulumi sources (paths in pulumi/pulumi, whose ``pkg/`` is the Go module
``github.com/pulumi/pulumi/pkg/v3`` and ``sdk/`` the ``sdk/v3`` one; read at pkg 3.260.0, 3.274.0
and 3.276.0 and sdk 3.260.0, 3.272.0 and 3.276.0: the Go module proxy serves no pkg 3.272.0):

- the backend: ``PULUMI_BACKEND_URL``, then ``backend.url`` in ``Pulumi.yaml``, then the ``current``
  login in ``credentials.json`` (``PULUMI_CREDENTIALS_PATH`` or ``PULUMI_HOME``, default
  ``~/.pulumi``), then Pulumi Cloud (pkg/workspace/creds.go, GetCurrentCloudURL). Pulumi Cloud needs
  a credential: ``PULUMI_ACCESS_TOKEN``, else the stored account's token, which this stand-in's
  Pulumi Cloud accepts unless it starts with ``revoked-`` (pkg/backend/httpstate/backend.go,
  defaultLoginManager.Current, validateStoredAccount). Without one a non-interactive CLI fails with
  exit code 3, ExitAuthenticationError (pkg/cmd/pulumi/cmd/exit_codes.go;
  pkg/backend/backenderr/backenderr.go, MissingEnvVarForNonInteractiveError). Other errors exit 1,
  ExitCodeError;
- the credentials file: plain JSON, or - with ``PULUMI_CREDENTIAL_STORE=auto`` or ``os``, and from
  then on whatever that variable says unless it is ``plaintext`` ("encryption is sticky") - an
  envelope ``{"$pulumiSecureStore": 1, "backend": ..., "algo": ..., "nonce": ..., "data": ...}``
  with no ``current`` in sight, whose key lives in the OS credential store
  (sdk/go/common/workspace/creds.go, readCredentialsFile, writeCredentialsFile;
  sdk/go/common/workspace/credstore.go, credentialStoreMode;
  sdk/go/common/util/securestore/envelope.go, Seal, IsEnvelope). The stand-in's OS store is a key
  file in its universe directory and its cipher a keyed SHAKE-256 stream, not AES-GCM: only the
  envelope's shape is the CLI's;
- ``pulumi whoami``: the backend as above without logging in (pkg/cmd/pulumi/whoami/whoami.go,
  NonInteractiveCurrentBackend in 3.274 and 3.276; 3.260's whoami still logged in, so on a terminal
  it asked for a token). ``-v`` prints ``Access token source: ...`` (3.274 on), then ``User:``,
  ``Organizations:``, ``Backend URL:`` (a self-managed backend's URL as given, Pulumi Cloud's
  console URL, ``app.`` for ``api.``, empty when there is none:
  pkg/backend/httpstate/client/console.go, CloudConsoleURL) and ``Token type: personal``; ``--json``
  prints ``user``, ``organizations``, ``url``. Nobody logged in: "this command requires logging in;
  try running `pulumi login` first", exit 3 (backenderr.LoginRequiredError);
- ``pulumi login``: stores the account and makes it current, prints ``Logged in to <name> as <user>
  (<url>)``; then, from 3.257 up to (not including) 3.274 - present in 3.260, gone in 3.274,
  releases in between not served - an interactive login to a backend with no stacks shows the
  onboarding menu "You don't have any stacks yet. What would you like to do?"
  (pkg/cmd/pulumi/auth/onboarding.go, offerFirstStep; added by pulumi/pulumi#24133, removed by
  #24742). Interactive is cmdutil.Interactive() (sdk/go/common/util/cmdutil/console.go): no
  ``--non-interactive`` (pkg/cmd/pulumi/pulumi.go), ``TERM`` not ``dumb``, stdin and stdout
  terminals, and no CI system (a few of the variables sdk/go/common/util/ciutil/detect.go knows).
  The stand-in prints the menu, records ``onboarding_menu`` and fails, where the real CLI would wait
  for an answer;
- the stack: ``--stack``, else the stack ``pulumi stack select`` stored for this project under
  ``PULUMI_HOME/workspaces``;
- the secrets provider: the stack file's ``secretsprovider``, then its ``encryptionsalt``, then the
  backend's default (Pulumi Cloud's key for https backends, a passphrase for self-managed ones); the
  passphrase comes from ``PULUMI_CONFIG_PASSPHRASE``, ``PULUMI_CONFIG_PASSPHRASE_FILE``, or a
  terminal, else the CLI fails with its own message (pulumi/pulumi
  pkg/secrets/passphrase/manager.go, readPassphrase);
- config lives in ``Pulumi.<stack>.yaml`` next to ``Pulumi.yaml``; stacks, outputs and resources
  live in the backend (``<dir>/.pulumi/stacks/<project>/`` for ``file://``, a directory of the
  stand-in for every other URL).

Every call appends one JSON line (which CLI, argv, cwd, environment, whether stdin and stdout were
terminals, and the backend, stack and project it reached) to the log named in the config. Unknown
commands or flags fail loudly, so a README command the stand-in does not know cannot pass
unnoticed. Not modelled: confirmation prompts (a user answers them at the terminal), credentials
helpers, agent credentials, plugins, and running the program.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import json
import os
import secrets
import socket
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
    "--path",
    "--non-interactive",
    "--skip-preview",
    "--diff",
    "--local",
    "--verbose",
    "-v",
}
OKTA_APP_TYPE = "okta:app/oAuth:OAuth"
ROOT_TOKEN_TYPE = "random:index/randomPassword:RandomPassword"
PULUMI_CLOUD = "https://api.pulumi.com"
# Exit codes (pkg/cmd/pulumi/cmd/exit_codes.go).
EXIT_ERROR = 1
EXIT_AUTHENTICATION = 3
# pkg/backend/backenderr/backenderr.go: MissingEnvVarForNonInteractiveError, LoginRequiredError.
TOKEN_NEEDED = "PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions"
LOGIN_REQUIRED = "this command requires logging in; try running `pulumi login` first"
# sdk/go/common/util/securestore/envelope.go: the marker of an encrypted credentials file.
ENVELOPE_MARKER = "$pulumiSecureStore"
# pkg/cmd/pulumi/auth/onboarding.go (3.257 up to 3.274): offerFirstStep's menu.
ONBOARDING_FROM, ONBOARDING_UNTIL = (3, 257, 0), (3, 274, 0)
ONBOARDING_MENU = (
    "\nYou don't have any stacks yet. What would you like to do?\n"
    "> Create a new Pulumi project\n"
    "  View the getting started guide\n"
    "  Skip for now"
)
# Some of the variables by which sdk/go/common/util/ciutil/detect.go recognises a CI system.
CI_VARIABLES = (
    "PULUMI_CI_SYSTEM",
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "CIRCLECI",
    "TRAVIS",
    "BUILDKITE",
)


class CliError(Exception):
    """A CLI error: printed as ``error: ...``, exit code 1 (ExitCodeError) unless ``code`` says."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


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
            "stdout_tty": sys.stdout.isatty(),
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

    def interactive(self) -> bool:
        """cmdutil.Interactive(): no --non-interactive, a terminal both ways, not dumb, not CI."""
        ci = not os.environ.get("PULUMI_DISABLE_CI_DETECTION") and any(
            os.environ.get(name) for name in CI_VARIABLES
        )
        return (
            not self.flag("--non-interactive")
            and os.environ.get("TERM", "").lower() != "dumb"
            and sys.stdin.isatty()
            and sys.stdout.isatty()
            and not ci
        )

    # --- the stored logins ----------------------------------------------------------------------

    def key_file(self) -> Path:
        """The stand-in OS credential store's one key (securestore: Linux Secret Service)."""
        return Path(self.config["universe"]) / "os-credential-store" / "pulumi-credentials.key"

    def credential_store_mode(self) -> str:
        value = os.environ.get("PULUMI_CREDENTIAL_STORE", "")
        mode = value.strip().lower()
        if mode not in ("", "auto", "os", "plaintext"):
            raise CliError(
                f'invalid PULUMI_CREDENTIAL_STORE value "{value}" (want auto, os, or plaintext)'
            )
        return mode

    def _cipher(self, nonce: bytes, data: bytes) -> bytes:
        """Seal or open ``data``: XOR with a SHAKE-256 stream of the stored key and the nonce."""
        key = bytes.fromhex(self.key_file().read_text())
        stream = hashlib.shake_256(key + nonce).digest(len(data))
        return bytes(a ^ b for a, b in zip(data, stream, strict=True))

    def read_credentials(self) -> dict[str, Any]:
        """credentials.json as the CLI reads it, decrypting an envelope."""
        self.credential_store_mode()
        path = self.credentials_file()
        raw = path.read_bytes() if path.is_file() else b""
        if not raw:
            return {}
        content = json.loads(raw)
        if ENVELOPE_MARKER not in content:
            return dict(content)
        if not self.key_file().is_file():
            raise CliError(
                f"credentials file '{path}' is encrypted but its key is missing from the OS "
                "credential store (a different credential store provider may now be active, the "
                "key may have been deleted, or this may be a restored or copied home directory). "
                "Switch back to the store that holds the key, or run `pulumi login` to "
                "re-authenticate"
            )
        nonce = base64.b64decode(content["nonce"])
        sealed = base64.b64decode(content["data"])
        return dict(json.loads(self._cipher(nonce, sealed)))

    def write_credentials(self, credentials: dict[str, Any]) -> None:
        """Write as the CLI does: encrypted when asked to, or when the file already is."""
        path = self.credentials_file()
        if not credentials.get("accounts"):
            path.unlink(missing_ok=True)
            return
        mode = self.credential_store_mode()
        existing = path.read_text() if path.is_file() else ""
        sticky = bool(existing) and ENVELOPE_MARKER in json.loads(existing)
        plain = json.dumps(credentials, indent=4).encode()
        if mode in ("auto", "os") or (sticky and mode != "plaintext"):
            if not self.key_file().is_file():
                self.key_file().parent.mkdir(parents=True, exist_ok=True)
                self.key_file().write_text(secrets.token_hex(32))
            nonce = secrets.token_bytes(12)
            sealed = self._cipher(nonce, plain)
            envelope = {
                ENVELOPE_MARKER: 1,
                "backend": "linux-secretservice",
                "algo": "standin-shake256-xor",
                "nonce": base64.b64encode(nonce).decode(),
                "data": base64.b64encode(sealed).decode(),
            }
            plain = json.dumps(envelope, indent=4).encode()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(plain)

    def cloud_token(self, url: str) -> tuple[str, str] | None:
        """The credential Pulumi Cloud at ``url`` accepts, and where it came from; else None."""
        if os.environ.get("PULUMI_ACCESS_TOKEN"):
            return os.environ["PULUMI_ACCESS_TOKEN"], "PULUMI_ACCESS_TOKEN"
        account = self.read_credentials().get("accounts", {}).get(url, {})
        token = account.get("accessToken") or ""
        if token and not token.startswith("revoked-"):
            return token, "stored account"
        return None

    def logged_in(self) -> tuple[str, str] | None:
        """The backend the CLI reaches without logging in, and its token's source; else None."""
        url = os.environ.get("PULUMI_BACKEND_URL")
        if not url:
            url = (self.project().get("backend") or {}).get("url")
        if not url:
            url = self.read_credentials().get("current")
        if url and not url.startswith(("https://", "http://")):
            return str(url), "none"
        cloud = self.cloud_token(url or PULUMI_CLOUD)
        if cloud is None:
            return None
        return str(url or PULUMI_CLOUD), cloud[1]

    def backend(self) -> str:
        reached = self.logged_in()
        if reached is None:
            # A non-interactive login to Pulumi Cloud needs the token (httpstate Login).
            raise CliError(TOKEN_NEEDED, code=EXIT_AUTHENTICATION)
        self.record["backend"] = reached[0]
        return reached[0]

    def has_stacks(self, url: str) -> bool:
        """Whether the backend at ``url`` holds any stack of any project (ListStackNames)."""
        if url.startswith("file://"):
            root = Path(os.path.expanduser(url[len("file://") :])) / ".pulumi" / "stacks"
        else:
            root = Path(self.config["universe"]) / urllib.parse.quote(url, safe="") / "stacks"
        return any(root.glob("*/*.json"))

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
        return _login(call, words)
    if command == "whoami":
        return _whoami(call)
    if command == "stack":
        return _stack(call, words[1:])
    if command == "config":
        return _config(call, words[1:])
    if command in ("up", "preview", "refresh", "destroy"):
        return _operation(call, command)
    raise CliError(f"unknown command {' '.join(words)!r} (the stand-in CLI does not model it)")


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("-")[0].split("."))


def _login(call: Call, words: list[str]) -> int:
    """pkg/cmd/pulumi/auth/login.go: store the account as current, then maybe offer a first step."""
    url = "file://~" if call.flag("--local") else (words[1] if len(words) > 1 else None)
    token = os.environ.get("PULUMI_ACCESS_TOKEN")
    if url is None or url.startswith(("https://", "http://")):
        # Pulumi Cloud: the token from the environment, or typed at the terminal.
        if not token and not call.interactive():
            raise CliError(TOKEN_NEEDED, code=EXIT_AUTHENTICATION)
        url = url or PULUMI_CLOUD
        account: dict[str, Any] = {
            "accessToken": token or "standin-typed-token",
            "username": "standin",
            "organizations": ["standin"],
        }
        name, user, shown = "pulumi.com", "standin", _console_url(url)
    else:
        if url.startswith("file://"):
            root = Path(os.path.expanduser(url[len("file://") :]))
            if not root.is_dir():
                raise CliError(f"problem logging in: unable to open bucket {url}")
        account = {}
        name, user, shown = socket.gethostname() or "diy", getpass.getuser(), url
    credentials = call.read_credentials()
    credentials.setdefault("accounts", {})[url] = account
    credentials["current"] = url
    call.write_credentials(credentials)
    call.record["backend"] = url
    print(f"Logged in to {name} as {user} ({shown})")
    version = _version_tuple(call.config["version"])
    if ONBOARDING_FROM <= version < ONBOARDING_UNTIL and call.interactive():
        if not call.has_stacks(url):
            print(ONBOARDING_MENU, flush=True)
            call.record["onboarding_menu"] = True
            raise CliError(
                "stand-in: `pulumi login` stopped at its onboarding menu (offerFirstStep), where "
                "the real CLI waits for an answer; its default one runs `pulumi new`"
            )
    return 0


def _console_url(url: str) -> str:
    """backend/httpstate/client/console.go, CloudConsoleURL: ``app.`` for ``api.``, else none."""
    parsed = urllib.parse.urlparse(url)
    if not parsed.netloc.startswith("api."):
        return ""
    return f"{parsed.scheme}://app.{parsed.netloc[len('api.') :]}"


def _whoami(call: Call) -> int:
    """pkg/cmd/pulumi/whoami/whoami.go: who, on which backend, without logging in."""
    reached = call.logged_in()
    if reached is None:
        raise CliError(LOGIN_REQUIRED, code=EXIT_AUTHENTICATION)
    url, source = reached
    call.record["backend"] = url
    if url.startswith(("https://", "http://")):
        account = call.read_credentials().get("accounts", {}).get(url, {})
        user, organizations = account.get("username", "standin"), account.get("organizations", [])
        shown = _console_url(url)
    else:
        user, organizations, shown = getpass.getuser(), [], url
    if call.flag("--json"):
        answer: dict[str, Any] = {"user": user, "url": shown}
        if organizations:
            answer["organizations"] = organizations
        print(json.dumps(answer, indent=2))
    elif call.flag("--verbose", "-v"):
        print(f"Access token source: {source}")
        print(f"User: {user}")
        print(f"Organizations: {', '.join(organizations)}")
        print(f"Backend URL: {shown}")
        print("Token type: personal")
    else:
        print(user)
    return 0


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
            print(f"Created stack '{name}'", file=sys.stderr)
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
            # pkg/cmd/pulumi/stack/stack.go, fprintStackOutputs; cmdutil.Table: sorted, aligned.
            print(f"Current stack outputs ({len(outputs)}):")
            if not outputs:
                print("    No output values currently in this stack")
            rows = [("OUTPUT", "VALUE")] * bool(outputs) + sorted(outputs.items())
            width = max((len(key) for key, _ in rows), default=0)
            for key, value in rows:
                print(f"    {key.ljust(width)}  {value}")
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
    if call.flag("--path") and sub in ("get", "set") and len(words) in (2, 3):
        return _config_path(call, name, content, values, words)
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


def _config_path(
    call: Call, name: str, content: dict[str, Any], values: dict[str, Any], words: list[str]
) -> int:
    """``config get|set --path ns:key.a.b [value]``: one value inside a structured key.

    The path's first part is the key, each further dot a nested mapping key; ``set`` stores the
    value as a string and makes the mappings on the way (pulumi/pulumi
    sdk/go/common/resource/config/key.go and value.go, ``ParseKey`` with paths, ``SetAtPath``).
    """
    key, *path = words[1].split(".")
    if words[0] == "get":
        value: Any = values.get(key)
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            raise CliError(f"configuration key '{words[1]}' not found for stack '{name}'")
        print(value if isinstance(value, str) else json.dumps(value))
        return 0
    parent = values.setdefault(key, {})
    for part in path[:-1]:
        parent = parent.setdefault(part, {})
    parent[path[-1]] = words[2] if len(words) == 3 else _read_value()
    content["config"] = values
    call.save_stack_file(name, content)
    return 0


def _operation(call: Call, command: str) -> int:
    name = call.stack_name()
    if call.config.get("hybrid"):
        # The real CLI made the stack (its file backend keeps it where this stand-in would).
        if not call.stack_state_file(name).is_file():
            raise CliError(f"no stack named '{name}' found")
        call.record["stack"] = name
        print(f"{command} of stack {name}: done (stand-in; the real CLI made the stack)")
        return 0
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
    code = EXIT_ERROR
    try:
        call = Call(config, sys.argv[2:])
        code = run(call)
    except CliError as failure:
        print(f"error: {failure}", file=sys.stderr)
        code = failure.code
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
