"""The real-CLI tier: the scripts' Pulumi calls and ``make check``'s merge, against the real CLI.

The Pulumi CLI 3.274.0, built from its Go module by ``scripts/build_pulumi.py`` (``make test``
builds it; :mod:`testkit.real_cli`), runs here what it can run on this machine: login to a file
backend, whoami, stack select/init, config set/get, ``config --json``, stack output and export,
and the engine's checks of ``pulumi preview`` before any program runs. ``up``, ``preview``,
``refresh`` and ``destroy`` of a valid stack need the resource plugins, so ``make up`` reaches the
stand-in for them.

- Differential, ``make check``'s merge: for each stack file of :data:`CORPUS`, the keys, texts and
  secret flags :func:`read_stack_file` gives equal what ``pulumi config --json`` prints (the
  engine's merge of the stack file with Pulumi.yaml's defaults: pkg/cmd/pulumi/config/config.go,
  listConfig, ApplyProjectConfig), and its warnings equal the CLI's.
- Differential, the engine's own checks: ``make check``'s text equals the error ``pulumi preview``
  stops with before the program runs.
- Differential, the stand-in: each call the scripts make, on the stand-in and on the real CLI
  (stdout, stderr, exit code).
- The first ``make up`` on a pseudo-terminal with the real CLI for every step before ``pulumi up``.

The real CLI finds its home in ``PULUMI_HOME``, else in the account's home directory
(sdk/go/common/util/pulumihome/pulumihome.go, ``user.Current()``), not ``$HOME``: every call here
sets ``PULUMI_HOME`` inside the test's folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from components.settings.engine_config import engine_problems
from components.settings.stack_file import ENCRYPTED_PLACEHOLDER, StackFileError, read_stack_file
from scripts import check_stack
from testkit.real_cli import (
    PULUMI_VERSION,
    QUIET,
    SKIP_VARIABLE,
    RealCliMissingError,
    real_toolbox,
    require_real_cli,
    run_cli,
)
from testkit.stacks import ROOT, filled_stack_text
from testkit.standins import Toolbox, clone, shell, shell_in_terminal
from testkit.standins.tools import write_pulumi

PASSPHRASE = "a passphrase of the tests"


@dataclass
class Workspace:
    """A project folder with Pulumi.yaml, a logged-in PULUMI_HOME and a file backend."""

    cli: Path
    project: Path
    home: Path
    state: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            "PULUMI_HOME": str(self.home / ".pulumi"),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        }

    def run(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return run_cli(
            self.cli, list(args), cwd=self.project, home=self.home, env=self.env, stdin=stdin
        )

    def ok(self, *args: str, stdin: str = "") -> str:
        result = self.run(*args, stdin=stdin)
        assert result.returncode == 0, result.stderr
        return result.stdout


@pytest.fixture(scope="module")
def cli() -> Path:
    if os.environ.get(SKIP_VARIABLE):
        pytest.skip(f"{SKIP_VARIABLE} is set: the real-CLI tier is not wanted in this run")
    try:
        return require_real_cli()
    except RealCliMissingError as missing:
        pytest.fail(str(missing))


@pytest.fixture(scope="module")
def workspace(cli: Path, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("real-cli")
    space = Workspace(cli, root / "project", root / "home", root / "state")
    for folder in (space.project, space.home, space.state):
        folder.mkdir()
    shutil.copy2(ROOT / "Pulumi.yaml", space.project / "Pulumi.yaml")
    space.ok("login", "--non-interactive", f"file://{space.state}")
    return space


# --- make check's merge equals the engine's ------------------------------------------------------

# Stack files (the text under `config:`), each a case of issue 28, item 3.
CORPUS: dict[str, str] = {
    "bare keys": """
  publicUrl: http://192.168.49.2:30080
  okta:
    appLabel: Bare
  okta:orgName: dev-123456
""",
    "one key with no value": """
  pachdCaCert:
  okta:orgName: dev-123456
""",
    "empty values in and out of objects": """
  pachyderm-okta:rootToken: ~
  okta:baseUrl: null
  pachyderm-okta:pachyderm:
    values:
      etcd:
      other: ~
""",
    "objects": """
  pachyderm-okta:okta:
    appLabel: "Pachyderm <dev> & co"
    groups: [b-admins, a-admins]
    createGroups: true
    refreshTokenRotation: ROTATE
  pachyderm-okta:auth:
    roleBindings:
      allClusterUsers: [projectViewer]
    idTokenExpiry: 24h
    pachdReadyTimeoutSeconds: 600
    ratio: 0.5
    big: 1e21
    tiny: 1.5e-7
    unicode: "é ✓"
""",
    "secrets": """
  okta:apiToken:
    secure: v1:c3RhbmRpbg==:v1:Y2lwaGVydGV4dA==
  pachyderm-okta:rootToken:
    value:
      secure: v1:c3RhbmRpbg==:v1:Y2lwaGVydGV4dA==
  pachyderm-okta:auth:
    clusterAdmins: [group:admins]
    secretThing:
      secure: v1:c3RhbmRpbg==:v1:Y2lwaGVydGV4dA==
""",
    "the legacy ns:config:key form": """
  pachyderm-okta:config:publicUrl: http://legacy.example:30080
  okta:config:orgName: dev-654321
  kubernetes:context: minikube
""",
    "YAML 1.2 scalars": """
  test:octal12: 0o1604
  test:octal11: 0777
  test:notOctal: 08
  test:hex: 0x1F
  test:binary: 0b101
  test:underscores: 1_000
  test:plus: +5
  test:negative: -12
  test:exponent: 1e3
  test:leadingDot: .5
  test:wholeFloat: 1.0
  test:float: 3.25
  test:yes: yes
  test:on: on
  test:True: True
  test:false: FALSE
  test:quoted: "0o17"
  test:tagged: !!str 0o17
  test:date: 2001-12-14
  test:timestamp: 2001-12-14T21:59:43.10Z
  test:uint64: 18446744073709551615
  test:beyond: 123456789012345678901234
  test:zeroes: "007"
  test:list: [0o17, 1.0, yes, ~, 2001-12-14]
""",
    "keys of every namespace with project defaults overridden": """
  pachyderm-okta:pachdAccess: portForward
  pachyderm-okta:ignoreNamespaces: [aws]
  pulumi:disable-default-providers: [okta]
  okta:scopes: [okta.apps.manage]
""",
}


def _engine_view(
    workspace: Workspace, stack: str
) -> tuple[dict[str, tuple[str | None, bool]], str]:
    result = workspace.run("config", "--json", "--stack", stack)
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    view = {key: (entry.get("value"), entry["secret"]) for key, entry in listed.items()}
    return view, result.stderr


def _write_stack(workspace: Workspace, stack: str, config: str) -> None:
    """The stack file, after `stack init` (which rewrites it) with the salt the init chose."""
    path = workspace.project / f"Pulumi.{stack}.yaml"
    if not path.exists():
        workspace.ok("stack", "init", stack)
    salt = [line for line in path.read_text().splitlines() if line.startswith("encryptionsalt:")]
    path.write_text("\n".join(salt) + "\nconfig:" + config)


def _shipped(name: str) -> str:
    """The config of a shipped stack file, as its text under ``config:``, examples filled in."""
    text = filled_stack_text((ROOT / f"Pulumi.{name}.yaml").read_text())
    return text.split("\nconfig:", 1)[1]


CORPUS["the shipped dev stack"] = _shipped("dev")
CORPUS["the shipped prod stack"] = _shipped("prod")


@pytest.mark.parametrize("case", CORPUS, ids=str)
def test_make_checks_merge_equals_what_the_real_cli_reports(
    workspace: Workspace, case: str
) -> None:
    stack = "corpus"
    _write_stack(workspace, stack, CORPUS[case])

    engine, stderr = _engine_view(workspace, stack)
    read = read_stack_file(workspace.project, stack)

    # The CLI elides a secret's value in --json (listConfig): only its presence is compared.
    ours = {key: (None if secret else text, secret) for key, (text, secret) in read.entries.items()}
    assert ours == engine
    assert all(ENCRYPTED_PLACEHOLDER in text for text, secret in read.entries.values() if secret)
    # Several keys are named in Go's map order, which varies from run to run: sorted here.
    ours_warned = [_sorted_keys(f"warning: {warning}") for warning in read.warnings]
    assert ours_warned == [_sorted_keys(warning) for warning in _warnings(stderr)]


def _warnings(stderr: str) -> list[str]:
    """The CLI's warnings: each from ``warning:`` up to the next diagnostic."""
    return [
        "warning: " + block.rstrip("\n")
        for block in re.split(r"^warning: ", stderr, flags=re.MULTILINE)[1:]
    ]


def _sorted_keys(warning: str) -> str:
    """``warning`` with the keys it names in sorted order (the separators kept in place)."""
    keys = iter(sorted(re.findall(r'"([^"]+:[^"]+)"', warning)))
    return re.sub(r'"[^"]+:[^"]+"', lambda _: f'"{next(keys)}"', warning)


def test_the_engine_names_every_key_with_no_value_in_one_warning(workspace: Workspace) -> None:
    """Several keys: listed in Go's map order, which varies; the set of keys is the same."""
    _write_stack(workspace, "corpus", "\n  pachdCaCert:\n  okta:baseUrl:\n  test:x: ~\n")

    _, stderr = _engine_view(workspace, "corpus")
    read = read_stack_file(workspace.project, "corpus")

    def named(text: str) -> set[str]:
        return set(re.findall(r'"([^"]+:[^"]+)"', text))

    [theirs] = _warnings(stderr)
    [ours] = read.warnings
    assert (
        named(ours)
        == named(theirs)
        == {
            "pachyderm-okta:pachdCaCert",
            "okta:baseUrl",
            "test:x",
        }
    )
    assert re.sub(r'"[^"]+"', "K", ours) == re.sub(
        r'"[^"]+"', "K", theirs.removeprefix("warning: ")
    )


# Stack files the engine cannot read, each with the error `pulumi config` stops with.
UNREADABLE: dict[str, tuple[str, str]] = {
    "a key of no namespace form": (
        "\n  a:b:c: x\n",
        "could not parse a:b:c as a configuration key (configuration keys should be of the "
        "form `<namespace>:<name>`)",
    ),
    "an infinite number": ("\n  test:a: .inf\n", "json: unsupported value: +Inf"),
    "not a number, in a list": (
        "\n  test:a: [.nan]\n",
        "json: error calling MarshalJSON for type config.object: json: unsupported value: NaN",
    ),
}


@pytest.mark.parametrize("case", UNREADABLE, ids=str)
def test_a_stack_file_the_engine_cannot_read_is_refused_in_its_words(
    workspace: Workspace, case: str
) -> None:
    config, reason = UNREADABLE[case]
    _write_stack(workspace, "corpus", config)

    result = workspace.run("config", "--json", "--stack", "corpus")
    with pytest.raises(StackFileError) as refused:
        read_stack_file(workspace.project, "corpus")

    expected = f"invalid YAML file: could not unmarshal map: {reason}"
    assert (result.returncode, result.stderr) == (1, f"error: {expected}\n")
    assert str(refused.value) == f"Pulumi.corpus.yaml: {expected}"


# --- the engine's own checks, before the program runs --------------------------------------------

# Stack files `pulumi preview` refuses before it runs the program, and what the engine says.
ENGINE_REFUSALS: dict[str, tuple[str, str]] = {
    "a required project key is missing": (
        "\n  okta:orgName: dev-123456\n",
        "Stack 'engine' is missing configuration value 'publicUrl'",
    ),
    "an object key holds a string": (
        "\n  publicUrl: http://x\n  okta: Pachyderm\n",
        "Stack 'engine' with configuration key 'okta' must be of type 'object'",
    ),
    "an object key with no value": (
        "\n  publicUrl: http://x\n  auth:\n",
        "Stack 'engine' with configuration key 'auth' must be of type 'object'",
    ),
    "a list of strings holds a number": (
        "\n  publicUrl: http://x\n  ignoreNamespaces: [aws, 3]\n",
        "Stack 'engine' with configuration key 'ignoreNamespaces' must be of type 'array<string>'",
    ),
    "a string key holds an object": (
        "\n  publicUrl:\n    url: http://x\n",
        "Stack 'engine' with configuration key 'publicUrl' must be of type 'string'",
    ),
}


def _engine_error(workspace: Workspace, stack: str) -> str:
    result = workspace.run("preview", "--stack", stack, "--non-interactive")
    assert result.returncode != 0
    [error] = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    return error


@pytest.mark.parametrize("case", ENGINE_REFUSALS, ids=str)
def test_make_check_says_what_the_engine_stops_with(workspace: Workspace, case: str) -> None:
    config, expected = ENGINE_REFUSALS[case]
    _write_stack(workspace, "engine", config)
    read = read_stack_file(workspace.project, "engine")

    ours = engine_problems(
        "engine", read.project_name, read.declarations, read.engine_values, False
    )

    assert ours == [expected]
    assert _engine_error(workspace, "engine") == f"error: validating stack config: {expected}"


def test_a_nested_secret_in_a_string_key_is_refused_as_the_engine_refuses_it(
    workspace: Workspace,
) -> None:
    """`rootToken: {value: {secure: ...}}`: set by the CLI itself, refused by `up` (issue 28)."""
    _write_stack(workspace, "nested", "\n  publicUrl: http://x\n")
    workspace.ok("config", "set", "--stack", "nested", "--secret", "--path", "rootToken.value", "t")
    read = read_stack_file(workspace.project, "nested")

    ours = engine_problems(
        "nested", read.project_name, read.declarations, read.engine_values, False
    )

    expected = "Stack 'nested' with configuration key 'rootToken' must be of type 'string'"
    assert ours == [expected]
    assert _engine_error(workspace, "nested") == f"error: validating stack config: {expected}"


# The two forms of a stack file's `environment:` (sdk/go/common/workspace/project.go, Environment).
ENVIRONMENTS = {
    "a list of names": "environment:\n  - team/dev\n",
    "an inline definition": (
        "environment:\n  imports:\n    - team/dev\n  values:\n    pulumiConfig:\n"
        "      okta:orgName: dev-123456\n"
    ),
}


@pytest.mark.parametrize("form", ENVIRONMENTS, ids=str)
def test_an_environment_on_the_file_backend_fails_as_make_check_says(
    workspace: Workspace, form: str
) -> None:
    _write_stack(workspace, "env", "\n  publicUrl: http://x\n")
    path = workspace.project / "Pulumi.env.yaml"
    path.write_text(ENVIRONMENTS[form] + path.read_text())
    backend = f"file://{workspace.state}"

    report = check_stack.check(workspace.project, "env", {}, backend=backend)

    [problem] = [problem for problem in report.problems if problem.key == "environment"]
    quoted = re.search(r'pulumi up stops with "([^"]+)"', problem.message)
    assert quoted is not None
    assert _engine_error(workspace, "env") == f"error: {quoted.group(1)}"


# --- the stand-in against the real CLI, call by call ---------------------------------------------


@dataclass
class Answer:
    """What one CLI call printed and exited with."""

    stdout: str
    stderr: str
    code: int


# The calls scripts/lib.sh, scripts/up and the day-2 targets make, in the order a first `make up`
# and its day-2 targets make them; {state} is the file backend.
SCRIPT_CALLS: list[tuple[list[str], str]] = [
    (["version"], ""),
    (["whoami", "-v", "--non-interactive"], ""),
    (["login", "--non-interactive", "file://{state}"], ""),
    (["whoami", "-v", "--non-interactive"], ""),
    (["stack", "select", "--create", "dev"], ""),
    (["config", "get", "--stack", "dev", "okta:apiToken"], ""),
    (["config", "get", "--stack", "dev", "okta:privateKey"], ""),
    (["config", "set", "--stack", "dev", "--secret", "okta:apiToken"], "standin-okta-api-token"),
    (["config", "get", "--stack", "dev", "okta:apiToken"], ""),
    (["stack", "output", "--stack", "dev"], ""),
    (["stack", "output", "rootToken", "--show-secrets", "--stack", "dev"], ""),
    (["config", "set", "--secret", "pachyderm-okta:rootToken", "--stack", "dev"], "new-token"),
    (["stack", "select", "--create", "dev"], ""),
]


def _answers(cli: list[str], root: Path) -> list[Answer]:
    project, home, state = root / "project", root / "home", root / "state"
    for folder in (project, home, state):
        folder.mkdir(parents=True)
    shutil.copy2(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
    env = {"PULUMI_HOME": str(home / ".pulumi"), "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE}
    answers = []
    for args, stdin in SCRIPT_CALLS:
        words = [word.format(state=state) for word in args]
        result = subprocess.run(
            [*cli, *words],
            cwd=project,
            env={"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", **QUIET, **env},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        answers.append(
            Answer(
                result.stdout.replace(str(state), "{state}"),
                result.stderr.replace(str(state), "{state}"),
                result.returncode,
            )
        )
    return answers


def test_the_standin_answers_the_scripts_calls_as_the_real_cli(cli: Path, tmp_path: Path) -> None:
    standin = tmp_path / "standin" / "bin" / "pulumi"
    write_pulumi(
        standin,
        {"log": str(tmp_path / "calls.jsonl"), "universe": str(tmp_path / "universe")},
        PULUMI_VERSION,
    )

    real = _answers([str(cli)], tmp_path / "real")
    stood_in = _answers([str(standin)], tmp_path / "stood-in")

    for (args, _), theirs, ours in zip(SCRIPT_CALLS, real, stood_in, strict=True):
        assert (" ".join(args), ours) == (" ".join(args), theirs)


# --- make up and the day-2 targets with the real CLI ---------------------------------------------


@pytest.fixture
def tools(cli: Path, tmp_path: Path) -> Toolbox:
    del cli  # the fixture fails the tier without a build
    return real_toolbox(tmp_path / "tools")


def _profile(tmp_path: Path, tools: Toolbox) -> dict[str, str]:
    (tmp_path / "passphrase").write_text("a passphrase of the user's\n")
    return {
        "PULUMI_CONFIG_PASSPHRASE_FILE": str(tmp_path / "passphrase"),
        # The real CLI's home is the account's, not $HOME (see the module's docstring).
        "PULUMI_HOME": str(tools.home / ".pulumi"),
    }


def test_the_first_make_up_at_a_terminal_runs_the_real_cli_up_to_pulumi_up(
    tmp_path: Path, tools: Toolbox
) -> None:
    """Issue 28's acceptance: no menu, no prompt, the real CLI for every step before `up`."""
    project = clone(tmp_path / "clone")
    profile = _profile(tmp_path, tools)
    local = f"file://{project}/.pulumi-state"

    code, shown = shell_in_terminal(
        tools, project, "OKTA_API_TOKEN=standin-okta-api-token make up", profile
    )

    assert code == 0, shown
    assert "You don't have any stacks yet" not in shown
    calls = tools.calls("pulumi")
    assert [(call["argv"], call.get("real", False), call["exit"]) for call in calls] == [
        (["version"], True, 0),
        # scripts/up's first checks ask the CLI on PATH, then ensure_backend asks again.
        (["whoami", "-v", "--non-interactive"], True, 3),
        (["whoami", "-v", "--non-interactive"], True, 3),
        (["login", "--non-interactive", local], True, 0),
        (["stack", "select", "--create", "dev"], True, 0),
        (["config", "get", "--stack", "dev", "okta:apiToken"], True, 1),
        (["config", "get", "--stack", "dev", "okta:privateKey"], True, 1),
        (["config", "get", "--stack", "dev", "okta:accessToken"], True, 1),
        (["config", "set", "--stack", "dev", "--secret", "okta:apiToken"], True, 0),
        (["up", "--stack", "dev"], False, 0),
    ]
    assert "up of stack dev: done (stand-in; the real CLI made the stack)" in shown
    # The token went in encrypted, by the real CLI, with the user's passphrase.
    stack_file = yaml.safe_load((project / "Pulumi.dev.yaml").read_text())
    assert stack_file["config"]["okta:apiToken"]["secure"].startswith("v1:")
    assert "encryptionsalt" in stack_file
    real_home = tools.home / ".pulumi" / "credentials.json"
    assert json.loads(real_home.read_text())["current"] == local


def test_day_two_targets_run_on_the_real_cli(tmp_path: Path, tools: Toolbox) -> None:
    project = clone(tmp_path / "clone")
    profile = _profile(tmp_path, tools)
    first = shell(tools, project, "OKTA_API_TOKEN=standin-okta-api-token make up", env=profile)
    assert first.returncode == 0, first.stderr
    tools.clear()

    outputs = shell(tools, project, "make outputs", env=profile)
    root_token = shell(tools, project, "make root-token", env=profile)
    rotate = shell(tools, project, "make rotate-root-token", env=profile)
    replace = shell(tools, project, "make rotate-okta-secret", env=profile)

    assert outputs.returncode == 0, outputs.stderr
    assert outputs.stdout.splitlines()[-2:] == [
        "Current stack outputs (0):",
        "    No output values currently in this stack",
    ]
    # No `up` has written outputs (the stand-in's `up` writes nothing): the CLI's own refusal.
    assert root_token.returncode != 0
    assert "error: current stack does not have output property 'rootToken'" in root_token.stderr
    assert rotate.returncode == 0, rotate.stderr
    stack_file = yaml.safe_load((project / "Pulumi.dev.yaml").read_text())
    assert stack_file["config"]["pachyderm-okta:rootToken"]["secure"].startswith("v1:")
    # The real `stack export` of a stack no `up` has filled: scripts/replace finds no Okta app.
    assert replace.returncode != 0
    assert (
        "error: the stack has no resource of type okta:app/oAuth:OAuth; expected exactly one"
    ) in replace.stderr
    # Each target asks the CLI for the backend (scripts/pulumi), then runs its command.
    assert [(call["argv"][:2], call.get("real", False)) for call in tools.calls("pulumi")] == [
        *[(["version"], True), (["whoami", "-v"], True), (["stack", "output"], True)] * 2,
        (["version"], True),
        (["whoami", "-v"], True),
        (["config", "set"], True),
        (["version"], True),
        (["whoami", "-v"], True),
        (["up", "--stack"], False),
        (["version"], True),
        (["whoami", "-v"], True),
        (["stack", "export"], True),
    ]


def test_config_set_secret_at_a_terminal_asks_as_the_readme_says(
    tmp_path: Path, tools: Toolbox
) -> None:
    """README: `pulumi config set --secret okta:apiToken --stack dev` asks for the value."""
    project = clone(tmp_path / "clone")
    profile = _profile(tmp_path, tools)
    assert shell(tools, project, "OKTA_API_TOKEN=t make up", env=profile).returncode == 0

    code, shown = shell_in_terminal(
        tools,
        project,
        "pulumi config set --secret okta:accessToken --stack dev",
        profile,
        typed=("value: ", "typed-at-the-terminal"),
        timeout=60,
    )

    assert code == 0, shown
    assert "value: " in shown
    assert "typed-at-the-terminal" not in shown  # masked
    got = shell(tools, project, "pulumi config get okta:accessToken --stack dev", env=profile)
    assert got.stdout == "typed-at-the-terminal\n"
