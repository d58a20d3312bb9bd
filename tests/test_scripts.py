"""``make up`` on a fresh machine, CI's entry point, and the URN lookup of the rotation targets.

Regressions guarded: ``make up`` demanding a Pulumi CLI the user must install by hand, installing
an unpinned one, or writing outside the clone while installing it (into ``$HOME``, a shell
profile); using a too-old CLI from ``PATH``; installing the whole dev toolchain to deploy;
creating a stack before finding out that the user has no passphrase for it; running on a Python
older than the project supports; ``.ci/run`` not running the README's test command or hiding
its failure; and a rotation target replacing the wrong resource.

Everything runs offline in fresh shells against the stand-ins of :mod:`testkit.standins`: the
stand-in ``curl`` hands out a stand-in of Pulumi's ``install.sh``, which records its flags and
environment and installs a stand-in CLI.
"""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pytest
import yaml

from components.settings.stack_file import ENCRYPTED_PLACEHOLDER, read_stack_file
from scripts import resource_urn
from scripts.kube_context import kube_context_problems
from testkit.stacks import ROOT, stack_config
from testkit.standins import (
    PINNED_VERSION,
    SYSTEM_PATH,
    Toolbox,
    clone,
    kubeconfig,
    shell,
    shell_in_terminal,
    toolbox,
)
from testkit.standins.tools import write_executable, write_pulumi

INSTALLER_URL = "https://get.pulumi.com/install.sh"
# What every failed CLI install says to do instead (scripts/lib.sh, install_by_hand).
BY_HAND = (
    f"       Install the Pulumi CLI {PINNED_VERSION} or newer yourself, then run make again:\n"
    f"         Linux or macOS: curl -fsSL https://get.pulumi.com | sh -s -- --version "
    f"{PINNED_VERSION}\n"
    "         macOS with Homebrew: brew install pulumi/tap/pulumi\n"
    "       and put it on your PATH, or name it: make up PULUMI=/path/to/pulumi (every make "
    "target\n"
)
FIRST_UP = "OKTA_API_TOKEN=standin-okta-api-token make up"
# How scripts/lib.sh asks the CLI which backend it is logged in to (cli_backend).
WHOAMI = ["whoami", "-v", "--non-interactive"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return clone(tmp_path / "clone")


@pytest.fixture
def profile(tmp_path: Path) -> dict[str, str]:
    """What the quickstart has the user export: the passphrase file."""
    (tmp_path / "passphrase").write_text("a passphrase of the user's\n")
    return {"PULUMI_CONFIG_PASSPHRASE_FILE": str(tmp_path / "passphrase")}


def home_files(tools: Toolbox) -> dict[str, str]:
    """Every file under the user's home, with its content."""
    return {
        str(path.relative_to(tools.home)): path.read_text()
        for path in sorted(tools.home.rglob("*"))
        if path.is_file()
    }


def pulumi_clis(tools: Toolbox) -> set[str]:
    return {call["cli"] for call in tools.calls("pulumi")}


# --- the Pulumi CLI ------------------------------------------------------------------------------


def test_without_a_cli_make_up_installs_the_pinned_one_inside_the_clone(
    tmp_path: Path, project: Path, profile: dict[str, str]
) -> None:
    tools = toolbox(tmp_path / "tools", pulumi_version=None)
    root = project / ".pulumi-cli"

    result = shell(tools, project, FIRST_UP, env=profile)

    assert result.returncode == 0, result.stderr
    assert [call["argv"] for call in tools.calls("curl")] == [
        ["-fsSL", "--retry", "3", "-o", f"{root}/.install/install.sh", INSTALLER_URL]
    ]
    [install] = tools.calls("install.sh")
    assert install["argv"] == [
        "--no-edit-path",
        "--install-root",
        str(root),
        "--version",
        PINNED_VERSION,
    ]
    # The installer ran confined to the clone: its $HOME write landed there and was cleaned up.
    assert (install["env"]["HOME"], install["env"]["TMPDIR"], install["cwd"]) == (
        f"{root}/.install/home",
        f"{root}/.install/tmp",
        f"{root}/.install/tmp",
    )
    assert not (root / ".install").exists()
    assert "installer-was-here" not in "".join(home_files(tools))
    # Every Pulumi command ran on the installed CLI, and the user is told how to run it too.
    assert pulumi_clis(tools) == {f"{root}/bin/pulumi"}
    assert f'export PATH="{root}/bin:$PATH"' in result.stderr

    tools.clear()
    again = shell(tools, project, "make up", env=profile)
    assert again.returncode == 0, again.stderr
    assert tools.calls("curl") == []
    assert pulumi_clis(tools) == {f"{root}/bin/pulumi"}


def test_the_installed_cli_runs_the_readme_commands_once_on_path(
    tmp_path: Path, project: Path, profile: dict[str, str]
) -> None:
    tools = toolbox(tmp_path / "tools", pulumi_version=None)
    assert shell(tools, project, FIRST_UP, env=profile).returncode == 0
    tools.clear()
    with_cli = f"{project}/.pulumi-cli/bin:{tools.bin}:{SYSTEM_PATH}"

    result = shell(tools, project, "pulumi stack output pachctlConnect", profile, path=with_cli)

    assert result.stdout == "pachctl connect grpc://dev.example:30080\n"
    [call] = tools.calls("pulumi")
    assert (call["backend"], call["stack"]) == (f"file://{project}/.pulumi-state", "dev")


def test_an_older_cli_on_path_is_not_used(
    tmp_path: Path, project: Path, profile: dict[str, str]
) -> None:
    tools = toolbox(tmp_path / "tools", pulumi_version="3.200.0")

    result = shell(tools, project, FIRST_UP, env=profile)

    assert result.returncode == 0, result.stderr
    assert f"({tools.bin}/pulumi, 3.200.0) is older than {PINNED_VERSION}" in result.stderr
    assert [call["argv"][-1] for call in tools.calls("install.sh")] == [PINNED_VERSION]
    assert pulumi_clis(tools) - {str(tools.bin / "pulumi")} == {f"{project}/.pulumi-cli/bin/pulumi"}
    # The old CLI was only asked its version.
    assert [
        call["argv"] for call in tools.calls("pulumi") if call["cli"] == str(tools.bin / "pulumi")
    ] == [["version"]]


@pytest.mark.parametrize("version", [PINNED_VERSION, "3.300.1", "4.0.0"])
def test_a_cli_on_path_at_least_as_new_as_the_pin_is_used(
    tmp_path: Path, project: Path, profile: dict[str, str], version: str
) -> None:
    tools = toolbox(tmp_path / "tools", pulumi_version=version)

    result = shell(tools, project, FIRST_UP, env=profile)

    assert result.returncode == 0, result.stderr
    assert tools.calls("curl") == []
    assert pulumi_clis(tools) == {str(tools.bin / "pulumi")}
    assert not (project / ".pulumi-cli").exists()


def test_an_installer_that_installs_another_version_fails_make_up(
    tmp_path: Path, project: Path, profile: dict[str, str]
) -> None:
    tools = toolbox(tmp_path / "tools", pulumi_version=None, installs_version="3.1.0")

    result = shell(tools, project, FIRST_UP, env=profile)

    assert result.returncode != 0
    assert (
        f"error: the installer left 3.1.0 Pulumi CLI in {project}/.pulumi-cli/bin, "
        f"not {PINNED_VERSION}"
    ) in result.stderr
    assert [call["argv"] for call in tools.calls("pulumi")] == [["version"]]


def test_a_failed_download_fails_make_up_before_anything_else(
    tmp_path: Path, project: Path, profile: dict[str, str]
) -> None:
    tools = toolbox(tmp_path / "tools", pulumi_version=None, curl_fails=True)

    result = shell(tools, project, FIRST_UP, env=profile)

    assert result.returncode != 0
    assert (
        f"error: could not download {INSTALLER_URL} (see curl's message above).\n" + (BY_HAND)
        in result.stderr
    )
    assert tools.calls("pulumi") == []
    assert tools.calls("install.sh") == []


@pytest.mark.parametrize("target", ["preview", "outputs", "root-token", "refresh", "destroy"])
def test_a_failed_download_tells_every_deploying_target_what_to_do(
    tmp_path: Path, project: Path, profile: dict[str, str], target: str
) -> None:
    tools = toolbox(tmp_path / "tools", pulumi_version=None, curl_fails=True)

    result = shell(tools, project, f"make {target}", env=profile)

    assert result.returncode != 0
    assert f"error: could not download {INSTALLER_URL}" in result.stderr
    assert BY_HAND in result.stderr


def test_a_cli_named_by_pulumi_is_used_and_nothing_is_downloaded(
    tmp_path: Path, project: Path, profile: dict[str, str]
) -> None:
    tools = toolbox(tmp_path / "tools", pulumi_version=None)
    own = tmp_path / "opt" / "pulumi"
    write_pulumi(own, {"log": str(tools.log), "universe": str(tools.universe)}, PINNED_VERSION)

    result = shell(tools, project, f"{FIRST_UP} PULUMI={own}", env=profile)

    assert result.returncode == 0, result.stderr
    assert tools.calls("curl") == []
    assert pulumi_clis(tools) == {str(own)}
    tools.clear()
    assert shell(tools, project, f"make outputs PULUMI={own}", env=profile).returncode == 0
    assert pulumi_clis(tools) == {str(own)}


def test_a_cli_named_by_pulumi_older_than_the_pin_is_refused(
    tmp_path: Path, project: Path, profile: dict[str, str]
) -> None:
    tools = toolbox(tmp_path / "tools", pulumi_version=None)
    own = tmp_path / "opt" / "pulumi"
    write_pulumi(own, {"log": str(tools.log), "universe": str(tools.universe)}, "3.100.0")

    result = shell(tools, project, f"make outputs PULUMI={own}", env=profile)

    assert result.returncode != 0
    assert (
        f"error: PULUMI={own} is version 3.100.0;\n"
        f"       this project needs the Pulumi CLI {PINNED_VERSION} or newer.\n"
    ) in result.stderr
    assert tools.calls("curl") == []


def test_rotate_root_token_sets_a_fresh_secret_token_through_stdin_then_runs_up(
    tmp_path: Path, project: Path, profile: dict[str, str]
) -> None:
    tools = toolbox(tmp_path / "tools", pulumi_version=PINNED_VERSION)
    assert shell(tools, project, FIRST_UP, env=profile).returncode == 0
    tokens = []
    for _ in range(2):
        tools.clear()
        result = shell(tools, project, "make rotate-root-token ARGS=--yes", env=profile)
        assert result.returncode == 0, result.stderr
        calls = [call["argv"] for call in tools.calls("pulumi") if call["argv"] != ["version"]]
        # Each scripts/pulumi asks the CLI for the backend, then runs its command.
        assert calls[0::2] == [WHOAMI, WHOAMI]
        assert calls[1] == [
            "config",
            "set",
            "--secret",
            "pachyderm-okta:rootToken",
            "--stack",
            "dev",
        ]
        assert calls[3] == ["up", "--stack", "dev", "--yes"]
        assert len(calls) == 4
        stored = yaml.safe_load((project / "Pulumi.dev.yaml").read_text())["config"]
        token = stored["pachyderm-okta:rootToken"]["secure"].removeprefix("standin-secure:")
        # As long as the token Pulumi mints (40 letters and digits), and never on a command line.
        assert re.fullmatch(r"[A-Za-z0-9]{40}", token)
        assert token not in json.dumps(tools.calls())
        tokens.append(token)
    assert tokens[0] != tokens[1]


def test_a_backend_set_in_pulumi_yaml_is_used_as_the_cli_would(
    tmp_path: Path, project: Path, profile: dict[str, str]
) -> None:
    """A fork that pins its backend in Pulumi.yaml: that backend, and no login on top."""
    tools = toolbox(tmp_path / "tools", pulumi_version=PINNED_VERSION)
    state = tmp_path / "team-state"
    state.mkdir()
    with (project / "Pulumi.yaml").open("a") as project_file:
        project_file.write(f"backend:\n  url: file://{state}\n")

    result = shell(tools, project, FIRST_UP, env=profile)

    assert result.returncode == 0, result.stderr
    calls = [call for call in tools.calls("pulumi") if call["argv"] != ["version"]]
    assert {call["backend"] for call in calls} == {f"file://{state}"}
    assert [call["argv"][0] for call in calls if call["argv"][0] == "login"] == []
    assert not (tools.home / ".pulumi" / "credentials.json").exists()


# --- the backend: the first login, and the logins the CLI keeps ----------------------------------
# The CLI's own answers (testkit/standins/pulumi_cli.py, from pulumi/pulumi): an interactive login
# to a backend with no stacks shows an onboarding menu (pkg/cmd/pulumi/auth/onboarding.go); with
# PULUMI_CREDENTIAL_STORE, credentials.json is an encrypted envelope with no `current`
# (sdk/go/common/workspace/creds.go); `pulumi whoami -v` names the backend, or exits 3 when
# nobody is logged in (pkg/cmd/pulumi/whoami/whoami.go).


def test_the_first_make_up_at_a_terminal_logs_in_without_the_onboarding_menu(
    tmp_path: Path, project: Path, profile: dict[str, str]
) -> None:
    """The Quickstart as a new user runs it: a terminal, no backend chosen, a fresh state."""
    tools = toolbox(tmp_path / "tools", pulumi_version=PINNED_VERSION)
    local = f"file://{project}/.pulumi-state"

    code, shown = shell_in_terminal(tools, project, FIRST_UP, profile)

    assert code == 0, shown
    assert "You don't have any stacks yet" not in shown
    logins = [call for call in tools.calls("pulumi") if call["argv"][0] == "login"]
    assert [call["argv"] for call in logins] == [["login", "--non-interactive", local]]
    [login] = logins
    assert (login["stdin_tty"], login.get("onboarding_menu"), login["exit"]) == (False, None, 0)
    # make up ran at a terminal, and went on to `pulumi up` on the local backend.
    up = tools.calls("pulumi")[-1]
    assert (up["argv"], up["stdin_tty"], up["backend"]) == (["up", "--stack", "dev"], True, local)


def test_the_onboarding_menu_stops_an_interactive_login_of_the_standin(
    tmp_path: Path, project: Path
) -> None:
    """What the first make up avoids: `pulumi login <url>` at a terminal, on an empty backend."""
    tools = toolbox(tmp_path / "tools", pulumi_version=PINNED_VERSION)
    (project / ".pulumi-state").mkdir()

    code, shown = shell_in_terminal(
        tools, project, f"pulumi login file://{project}/.pulumi-state", {}
    )

    assert code != 0
    assert "You don't have any stacks yet. What would you like to do?" in shown
    [login] = tools.calls("pulumi")
    assert login["onboarding_menu"] is True


# A login the user made before `make up`: the command, what it needs exported, the backend.
CREDENTIAL_STORES: dict[str, tuple[str, dict[str, str], str]] = {
    "a file backend": (
        "pulumi login file://{state}",
        {},
        "file://{state}",
    ),
    "Pulumi Cloud": (
        "pulumi login",
        {"PULUMI_ACCESS_TOKEN": "standin-pulumi-access-token"},
        "https://api.pulumi.com",
    ),
}


def user_login(chosen: str, state: Path) -> tuple[str, dict[str, str], str]:
    """``CREDENTIAL_STORES[chosen]``, with ``state`` the directory of the file backend."""
    command, env, backend = CREDENTIAL_STORES[chosen]
    return command.format(state=state), env, backend.format(state=state)


@pytest.mark.parametrize("store", ["auto", "os"])
@pytest.mark.parametrize("chosen", CREDENTIAL_STORES, ids=str)
def test_a_login_in_an_encrypted_credential_store_is_the_backend_make_up_uses(
    tmp_path: Path, project: Path, profile: dict[str, str], store: str, chosen: str
) -> None:
    tools = toolbox(tmp_path / "tools", pulumi_version=PINNED_VERSION)
    state = tmp_path / "team-state"
    state.mkdir()
    command, login_env, backend = user_login(chosen, state)
    login = shell(tools, project, command, env={"PULUMI_CREDENTIAL_STORE": store, **login_env})
    assert login.returncode == 0, login.stderr
    credentials = tools.home / ".pulumi" / "credentials.json"
    envelope = credentials.read_text()
    assert "$pulumiSecureStore" in json.loads(envelope)
    assert "current" not in json.loads(envelope)
    tools.clear()

    # Later shells need not export PULUMI_CREDENTIAL_STORE: the file stays encrypted.
    result = shell(tools, project, FIRST_UP, env=profile)

    assert result.returncode == 0, result.stderr
    calls = [call for call in tools.calls("pulumi") if call["argv"] != ["version"]]
    assert [call["argv"] for call in calls if call["argv"][0] == "login"] == []
    assert not (project / ".pulumi-state").exists()
    assert {call["backend"] for call in calls} == {backend}
    # The CLI said which backend (step 1, for the passphrase check; step 3), then the stack's up.
    assert [call["argv"] for call in calls[:3]] == [
        WHOAMI,
        WHOAMI,
        ["stack", "select", "--create", "dev"],
    ]
    assert calls[-1]["argv"] == ["up", "--stack", "dev"]
    assert credentials.read_text() == envelope


def test_a_stored_login_the_cli_no_longer_accepts_stops_make_up_instead_of_moving_it(
    tmp_path: Path, project: Path, profile: dict[str, str]
) -> None:
    """`pulumi whoami` says "not logged in" for an expired login too: that is no choice of none."""
    tools = toolbox(tmp_path / "tools", pulumi_version=PINNED_VERSION)
    # A token that Pulumi Cloud (the stand-in's) revoked after this login.
    token = {"PULUMI_ACCESS_TOKEN": "revoked-after-the-login"}
    assert shell(tools, project, "pulumi login", env=token).returncode == 0
    tools.clear()

    result = shell(tools, project, FIRST_UP, env=profile)

    assert result.returncode != 0
    credentials = tools.home / ".pulumi" / "credentials.json"
    assert (
        "error: the Pulumi CLI says nobody is logged in, yet it keeps stored credentials in "
        f"{credentials} (a login that expired?):\n"
        "       error: this command requires logging in; try running `pulumi login` first\n"
        "       Log in again to your backend (`pulumi login` for Pulumi Cloud, "
        "`pulumi login <url>` for\n"
        "       another), or choose this project's own: pulumi login --non-interactive "
        f"file://{project}/.pulumi-state\n"
    ) in result.stderr
    assert "make up stopped before installing or downloading anything" in result.stderr
    assert [call["argv"] for call in tools.calls("pulumi")] == [["version"], WHOAMI]
    assert not (project / ".pulumi-state").exists()


@pytest.mark.parametrize(
    ("chosen", "needs_passphrase"), [("a file backend", True), ("Pulumi Cloud", False)]
)
def test_without_a_usable_cli_a_stored_login_is_read_once_the_cli_is_installed(
    tmp_path: Path, project: Path, chosen: str, needs_passphrase: bool
) -> None:
    """An older CLI made the login: make up asks the CLI it installs, then checks the passphrase."""
    tools = toolbox(tmp_path / "tools", pulumi_version="3.200.0")
    state = tmp_path / "team-state"
    state.mkdir()
    command, login_env, backend = user_login(chosen, state)
    assert shell(tools, project, command, env=login_env).returncode == 0
    tools.clear()

    result = shell(tools, project, FIRST_UP)  # no passphrase exported

    installed = f"{project}/.pulumi-cli/bin/pulumi"
    asked = [call for call in tools.calls("pulumi") if call["argv"] == WHOAMI]
    assert [(call["cli"], call["backend"]) for call in asked] == [(installed, backend)]
    assert [call["argv"] for call in tools.calls("pulumi") if call["argv"][0] == "login"] == []
    if needs_passphrase:
        assert result.returncode != 0
        assert (
            "error: stack dev keeps its secrets (Okta token, root token) encrypted with a "
            f"passphrase on\n       {backend}: set PULUMI_CONFIG_PASSPHRASE_FILE"
        ) in result.stderr
        assert "make up stopped before creating the stack" in result.stderr
        assert tools.calls("pulumi")[-1]["argv"] == WHOAMI
    else:
        assert result.returncode == 0, result.stderr
        assert tools.calls("pulumi")[-1]["argv"] == ["up", "--stack", "dev"]
    assert not (project / ".pulumi-state").exists()


# --- the runtime, the passphrase, Python ---------------------------------------------------------


def test_make_up_installs_the_runtime_only(
    tmp_path: Path, project: Path, profile: dict[str, str]
) -> None:
    tools = toolbox(tmp_path / "tools", pulumi_version=PINNED_VERSION)

    assert shell(tools, project, FIRST_UP, env=profile).returncode == 0
    assert [call["argv"] for call in tools.calls("python3")] == [["-m", "venv", "venv"]]
    assert [call["argv"] for call in tools.calls("pip")] == [
        ["install", "--quiet", "-r", "requirements.txt"]
    ]

    tools.clear()
    assert shell(tools, project, "make preview", env=profile).returncode == 0
    assert [call["argv"] for call in tools.calls("pip")] == [
        ["install", "--quiet", "-r", "policy/requirements.txt"]
    ]


def test_make_up_without_a_passphrase_stops_before_any_download(
    tmp_path: Path, project: Path
) -> None:
    tools = toolbox(tmp_path / "tools", pulumi_version=None)

    result = shell(tools, project, FIRST_UP)

    assert result.returncode != 0
    state = f"file://{project}/.pulumi-state"
    assert (
        "error: stack dev keeps its secrets (Okta token, root token) encrypted with a passphrase"
        " on\n"
        f"       {state}: set PULUMI_CONFIG_PASSPHRASE_FILE (a file holding it) or\n"
        "       PULUMI_CONFIG_PASSPHRASE, in this shell and in every shell you run pulumi from.\n"
    ) in result.stderr
    assert "make up stopped before installing or downloading anything" in result.stderr
    # Nothing downloaded, installed or created: no CLI, no virtualenv, no stack.
    assert [call["tool"] for call in tools.calls()] == []
    assert not (project / "venv").exists()
    assert not (project / ".pulumi-cli").exists()
    assert not (project / ".pulumi-state").exists()


def test_every_shell_problem_is_reported_at_once(tmp_path: Path, project: Path) -> None:
    tools = toolbox(tmp_path / "tools", pulumi_version=None, pretend_python=(3, 10, 12))
    missing = tmp_path / "no-such-passphrase"

    result = shell(tools, project, "make up", env={"PULUMI_CONFIG_PASSPHRASE_FILE": str(missing)})

    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        "error: python3 is Python 3.10.12; this project needs Python 3.11 or newer "
        "(make up PYTHON=python3.11)",
        f"error: PULUMI_CONFIG_PASSPHRASE_FILE names {missing}, which is not a readable file:",
        "error: stack dev has no Okta credential: export OKTA_API_TOKEN, which make up stores as "
        "the",
        "error: make up stopped before installing or downloading anything. Pulumi.dev.yaml is "
        "checked",
    ]
    assert "read -rs OKTA_API_TOKEN && export OKTA_API_TOKEN" in result.stderr
    assert [call["tool"] for call in tools.calls()] == []


def test_a_stack_with_a_kms_secrets_provider_needs_no_passphrase(
    tmp_path: Path, project: Path
) -> None:
    tools = toolbox(tmp_path / "tools", pulumi_version=PINNED_VERSION)
    stack_file = project / "Pulumi.dev.yaml"
    stack_file.write_text("secretsprovider: awskms://alias/pachyderm\n" + stack_file.read_text())

    result = shell(tools, project, FIRST_UP)

    assert result.returncode == 0, result.stderr
    assert [call["argv"][0] for call in tools.calls("pulumi")][-1] == "up"


def test_python_older_than_3_11_is_refused_before_anything_is_installed(
    tmp_path: Path, project: Path, profile: dict[str, str]
) -> None:
    tools = toolbox(tmp_path / "tools", pulumi_version=PINNED_VERSION, pretend_python=(3, 10, 12))

    result = shell(tools, project, FIRST_UP, env=profile)

    assert result.returncode != 0
    assert (
        "error: python3 is Python 3.10.12; this project needs Python 3.11 or newer "
        "(make up PYTHON=python3.11)"
    ) in result.stderr
    assert not (project / "venv").exists()
    # The CLI on PATH was only asked its version and its backend (for the passphrase check).
    assert [call["argv"] for call in tools.calls("pulumi")] == [["version"], WHOAMI]


# --- CI ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make_exit", [0, 3])
def test_ci_runs_the_readme_test_command_and_fails_when_it_fails(
    tmp_path: Path, project: Path, make_exit: int
) -> None:
    tools = toolbox(tmp_path / "tools", pulumi_version=None)
    log = tmp_path / "make.log"
    write_executable(
        tools.bin / "make",
        f'#!/bin/sh\necho "$PWD $*" >> {log}\nexit {make_exit}\n',
    )

    result = shell(tools, tmp_path, f"bash {project}/.ci/run", env={"CI": "true"})

    assert result.returncode == make_exit
    assert log.read_text() == f"{project} test\n"


# --- the rotation targets' URN lookup ------------------------------------------------------------

OKTA_APP = "okta:app/oAuth:OAuth"
PASSWORD = "random:index/randomPassword:RandomPassword"
PREFIX = "urn:pulumi:dev::pachyderm-okta::"
AUTH = f"{PREFIX}pachyderm-okta:pachyderm:Auth${PASSWORD}"
EXPORT = {
    "deployment": {
        "resources": [
            {
                "urn": f"{PREFIX}pulumi:pulumi:Stack::pachyderm-okta-dev",
                "type": "pulumi:pulumi:Stack",
            },
            {"urn": f"{PREFIX}pachyderm-okta:okta:OidcApp${OKTA_APP}::okta-app", "type": OKTA_APP},
            {
                "urn": f"{AUTH}::auth-root-token",
                "type": PASSWORD,
            },
            {
                "urn": f"{AUTH}::auth-pachd-client-secret",
                "type": PASSWORD,
            },
        ]
    }
}


def run_urn(args: list[str], exported: object) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = resource_urn.main(args, io.StringIO(json.dumps(exported)), stdout, stderr)
    return code, stdout.getvalue(), stderr.getvalue()


@pytest.mark.parametrize(
    ("args", "urn"),
    [
        ([OKTA_APP], f"{PREFIX}pachyderm-okta:okta:OidcApp${OKTA_APP}::okta-app"),
        (
            [PASSWORD, "auth-root-token"],
            f"{AUTH}::auth-root-token",
        ),
    ],
)
def test_the_urn_of_exactly_one_matching_resource_is_printed(args: list[str], urn: str) -> None:
    assert run_urn(args, EXPORT) == (0, urn + "\n", "")


def test_an_ambiguous_or_missing_resource_is_an_error_naming_what_was_found() -> None:
    code, stdout, stderr = run_urn([PASSWORD], EXPORT)
    assert (code, stdout) == (1, "")
    assert stderr.startswith(f"error: the stack has 2 resources ({PREFIX}")
    assert stderr.endswith(f"of type {PASSWORD}; expected exactly one\n")

    assert run_urn([PASSWORD, "auth-root-token"], {"deployment": {"resources": []}}) == (
        1,
        "",
        f"error: the stack has no resource of type {PASSWORD} named auth-root-token; "
        "expected exactly one\n",
    )


def test_input_that_is_not_an_export_is_an_error() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = resource_urn.main([OKTA_APP], io.StringIO("not json"), stdout, stderr)
    assert code == 1
    assert stderr.getvalue().startswith("error: stdin is not the JSON of `pulumi stack export`: ")


# --- make alone, make check ----------------------------------------------------------------------


def makefile_targets() -> list[str]:
    """Every target the Makefile declares phony: the ones a user runs."""
    text = (ROOT / "Makefile").read_text()
    return [name for line in re.findall(r"^\.PHONY:(.*)$", text, re.M) for name in line.split()]


@pytest.mark.parametrize("command", ["make", "make help"])
def test_make_alone_lists_every_target_on_one_line_and_creates_nothing(
    tmp_path: Path, command: str
) -> None:
    project = clone(tmp_path / "clone")
    tools = toolbox(tmp_path / "tools", pulumi_version=None)
    before = sorted(project.rglob("*"))

    result = shell(tools, project, command)

    assert result.returncode == 0, result.stderr
    listed = [line.split()[0] for line in result.stdout.splitlines()[1:]]
    assert sorted(listed) == sorted(makefile_targets())
    assert "  check                validate Pulumi.<STACK>.yaml offline" in result.stdout
    assert tools.calls() == []
    assert sorted(project.rglob("*")) == before


TYPO_STACK = """\
config:
  okta:orgName: dev-123456
  okta:baseUrl: okta.com
  okta:apiToken:
    secure: v1:c3RhbmRpbg==:v1:Y2lwaGVydGV4dA==
  pachyderm-okta:publicUrl: http://192.168.49.2:30080
  pachyderm-okta:okta:
    appLable: Pachyderm (staging)
"""


def test_make_check_names_a_misspelled_key_without_fetching_the_cli(tmp_path: Path) -> None:
    project = clone(tmp_path / "clone")
    (project / "Pulumi.staging.yaml").write_text(TYPO_STACK)
    tools = toolbox(tmp_path / "tools", pulumi_version=None)

    result = shell(tools, project, "make check STACK=staging")

    assert result.returncode != 0
    assert (
        "error: The stack configuration has 1 problem (nothing was created):\n"
        "  pachyderm-okta:okta.appLable: is not a setting this program knows; did you mean "
        "pachyderm-okta:okta.appLabel?\n"
    ) in result.stderr
    # Only the runtime was installed: no Pulumi CLI was looked for, downloaded or run.
    assert [call["tool"] for call in tools.calls()] == ["python3", "pip"]


def test_make_check_passes_a_complete_stack(tmp_path: Path) -> None:
    project = clone(tmp_path / "clone")
    (project / "Pulumi.staging.yaml").write_text(TYPO_STACK.replace("appLable", "appLabel"))
    tools = toolbox(tmp_path / "tools", pulumi_version=None)

    result = shell(tools, project, "make check STACK=staging")

    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("Pulumi.staging.yaml: no problems found\n")
    assert result.stderr == ""


def test_make_check_counts_the_token_make_up_would_store_and_says_so(tmp_path: Path) -> None:
    project = clone(tmp_path / "clone")
    tools = toolbox(tmp_path / "tools", pulumi_version=None)

    without = shell(tools, project, "make check")
    with_token = shell(tools, project, "make check", env={"OKTA_API_TOKEN": "standin-token"})

    assert without.returncode != 0
    assert "  okta:apiToken: is required: set an SSWS token with" in without.stderr
    assert with_token.returncode == 0, with_token.stderr
    assert (
        "note: okta:apiToken is not in Pulumi.dev.yaml: checked as set, because `make up` stores "
        "OKTA_API_TOKEN as the encrypted okta:apiToken for a stack with no Okta credential"
    ) in with_token.stderr
    assert "standin-token" not in with_token.stdout + with_token.stderr


def test_make_check_refuses_the_shipped_dev_stack_for_its_example_values(tmp_path: Path) -> None:
    project = clone(tmp_path / "clone", examples_filled=False)
    tools = toolbox(tmp_path / "tools", pulumi_version=None)

    result = shell(tools, project, "make check", env={"OKTA_API_TOKEN": "standin-token"})

    assert result.returncode != 0
    example = "of the shipped stack file: replace the example value with yours"
    assert [line for line in result.stderr.splitlines() if line.startswith("  ")] == [
        f"  okta:orgName: still holds the example value <your-okta-org> {example}",
        "  pachyderm-okta:auth.clusterAdmins[0]: still holds the example value "
        f"<your-okta-admin-group> {example}",
        "  pachyderm-okta:okta.groups[0]: still holds the example value <your-okta-admin-group> "
        f"{example}",
    ]


ESC_STACK = """\
environment:
  - team/pachyderm-dev
config:
  okta:baseUrl: okta.com
  pachyderm-okta:okta:
    appLabel: Pachyderm (team)
"""


def test_keys_an_esc_environment_may_hold_are_not_checked_rather_than_missing(
    tmp_path: Path,
) -> None:
    project = clone(tmp_path / "clone")
    (project / "Pulumi.team.yaml").write_text(ESC_STACK)
    tools = toolbox(tmp_path / "tools", pulumi_version=None)

    result = shell(tools, project, "make check STACK=team")

    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "note: Pulumi.team.yaml imports team/pachyderm-dev: ESC environments need the Pulumi "
        'Cloud backend (on a file, s3, gs or azblob backend pulumi up stops with "backend ... '
        'does not support environments"); make up checks the backend it uses',
        "Pulumi.team.yaml: not checked offline:",
        "  okta:apiToken: not checked: may come from environment team/pachyderm-dev",
        "  okta:orgName: not checked: may come from environment team/pachyderm-dev",
        "  pachyderm-okta:publicUrl: not checked: may come from environment team/pachyderm-dev",
    ]
    # A typo is still a typo: the environment cannot make a misspelled key valid.
    (project / "Pulumi.team.yaml").write_text(ESC_STACK.replace("appLabel", "appLable"))
    assert shell(tools, project, "make check STACK=team").returncode != 0


def test_an_esc_environment_on_a_self_managed_backend_is_refused_with_the_engines_words(
    tmp_path: Path,
) -> None:
    """pkg/cmd/pulumi/config/config_env.go, errBackendNoEnvironments: only Pulumi Cloud has them."""
    project = clone(tmp_path / "clone")
    (project / "Pulumi.team.yaml").write_text(ESC_STACK)
    tools = toolbox(tmp_path / "tools", pulumi_version=None)
    state = f"file://{tmp_path}/state"

    on_file = shell(tools, project, "make check STACK=team", env={"PULUMI_BACKEND_URL": state})
    on_cloud = shell(
        tools,
        project,
        "make check STACK=team",
        env={"PULUMI_BACKEND_URL": "https://api.pulumi.com"},
    )

    assert on_file.returncode != 0
    assert (
        f"  environment: Pulumi.team.yaml imports team/pachyderm-dev, and the backend is {state}: "
        'ESC environments need the Pulumi Cloud backend; pulumi up stops with "getting stack '
        f"configuration: opening environment: backend {os.uname().nodename} does not support "
        "environments;"
    ) in on_file.stderr
    assert on_cloud.returncode == 0, on_cloud.stderr
    assert "ESC environments need" not in on_cloud.stderr


def test_make_up_refuses_an_esc_environment_on_its_own_file_backend(
    tmp_path: Path, project: Path, profile: dict[str, str]
) -> None:
    """No backend chosen: make up would use its file backend, where environments do not exist."""
    tools = toolbox(tmp_path / "tools", pulumi_version=PINNED_VERSION)
    stack_file = project / "Pulumi.dev.yaml"
    stack_file.write_text("environment:\n  - team/dev\n" + stack_file.read_text())

    result = shell(tools, project, FIRST_UP, env=profile)

    assert result.returncode != 0
    assert (
        "  environment: Pulumi.dev.yaml imports team/dev, and the backend is "
        f"file://{project}/.pulumi-state: ESC environments need the Pulumi Cloud backend"
    ) in result.stderr
    pulumi_calls = [call["argv"][0] for call in tools.calls("pulumi")]
    assert "login" not in pulumi_calls
    assert "up" not in pulumi_calls


def test_make_check_prints_the_engines_refusal_first_in_its_words(tmp_path: Path) -> None:
    """`rootToken: {value: {secure: ...}}` passed make check and failed `up` (issue 28)."""
    project = clone(tmp_path / "clone")
    stack_file = project / "Pulumi.dev.yaml"
    stack_file.write_text(
        stack_file.read_text()
        + "  pachyderm-okta:rootToken:\n    value:\n      secure: v1:c3RhbmRpbg==\n"
    )
    tools = toolbox(tmp_path / "tools", pulumi_version=None)

    result = shell(tools, project, "make check", env={"OKTA_API_TOKEN": "standin-token"})

    assert result.returncode != 0
    assert (
        "error: pulumi up stops at the first of these, before the program runs (the engine "
        "checks Pulumi.yaml's declarations first):\n"
        "  validating stack config: Stack 'dev' with configuration key 'rootToken' must be of "
        "type 'string'\n"
    ) in result.stderr


def test_make_check_lists_every_engine_refusal_where_pulumi_up_shows_the_first(
    tmp_path: Path,
) -> None:
    project = clone(tmp_path / "clone")
    stack_file = project / "Pulumi.dev.yaml"
    text = stack_file.read_text().replace("pachyderm-okta:publicUrl:", "# publicUrl:")
    stack_file.write_text(text + "  pachyderm-okta:ignoreNamespaces: aws\n  rootToken: [a]\n")
    tools = toolbox(tmp_path / "tools", pulumi_version=None)

    result = shell(tools, project, "make check", env={"OKTA_API_TOKEN": "standin-token"})

    assert result.returncode != 0
    assert (
        "error: pulumi up stops at the first of these, before the program runs (the engine "
        "checks Pulumi.yaml's declarations first):\n"
        "  validating stack config: Stack 'dev' is missing configuration value 'publicUrl'\n"
        "  validating stack config: Stack 'dev' with configuration key 'ignoreNamespaces' must "
        "be of type 'array<string>'\n"
        "  validating stack config: Stack 'dev' with configuration key 'rootToken' must be of "
        "type 'string'\n"
    ) in result.stderr


def test_bare_keys_and_keys_with_no_value_read_as_the_engine_reads_them(tmp_path: Path) -> None:
    """A bare key is the project's; a key with no value is "" (not set here), with a warning."""
    project = clone(tmp_path / "clone")
    stack_file = project / "Pulumi.dev.yaml"
    text = stack_file.read_text().replace("pachyderm-okta:publicUrl:", "publicUrl:")
    stack_file.write_text(text + "  pachdCaCert:\n")
    tools = toolbox(tmp_path / "tools", pulumi_version=None)

    result = shell(tools, project, "make check", env={"OKTA_API_TOKEN": "standin-token"})

    assert result.returncode == 0, result.stderr
    assert (
        'warning: No value for configuration key "pachyderm-okta:pachdCaCert". This is currently '
        'treated as an empty string `""`, but will be treated as `null` in a future version of '
        'pulumi.\nSet the value to `""` to avoid this warning.\n'
    ) in result.stderr


def test_a_rule_an_environment_may_satisfy_is_not_checked_rather_than_refused(
    tmp_path: Path,
) -> None:
    """The engine merges the environment under the stack file key by key (mergeConfig)."""
    project = clone(tmp_path / "clone")
    (project / "Pulumi.team.yaml").write_text(
        ESC_STACK
        + "  okta:orgName: dev-123456\n"
        + "  pachyderm-okta:publicUrl: http://192.168.49.2:30080\n"
        + "  okta:clientId: 0oa1example\n"
        + "  okta:privateKey:\n    secure: v1:standin\n"
    )
    tools = toolbox(tmp_path / "tools", pulumi_version=None)

    result = shell(
        tools,
        project,
        "make check STACK=team",
        env={"PULUMI_BACKEND_URL": "https://api.pulumi.com"},
    )

    assert result.returncode == 0, result.stderr
    not_checked = [line for line in result.stderr.splitlines() if line.startswith("  ")]
    # okta:scopes may come from the environment: neither rule that reads it refuses.
    assert [line.split(": ")[0] for line in not_checked] == [
        "  okta:privateKey",
        "  pachyderm-okta:okta.groupsClaim",
    ]
    assert all(
        line.endswith("unless environment team/pachyderm-dev supplies a value")
        for line in not_checked
    )


# --- make up: the stack and the kube context before the CLI ---------------------------------------


def test_make_up_refuses_the_shipped_stack_before_downloading_the_cli(
    tmp_path: Path, profile: dict[str, str]
) -> None:
    project = clone(tmp_path / "clone", examples_filled=False)
    tools = toolbox(tmp_path / "tools", pulumi_version=None)

    result = shell(tools, project, FIRST_UP, env=profile)

    assert result.returncode != 0
    assert "  okta:orgName: still holds the example value <your-okta-org>" in result.stderr
    assert "error: make up stopped before downloading the Pulumi CLI" in result.stderr
    assert [call["tool"] for call in tools.calls()] == ["python3", "pip"]


def test_with_the_runtime_installed_make_up_reports_shell_and_stack_problems_at_once(
    tmp_path: Path, project: Path, profile: dict[str, str]
) -> None:
    tools = toolbox(tmp_path / "tools", pulumi_version=PINNED_VERSION)
    assert shell(tools, project, FIRST_UP, env=profile).returncode == 0
    stack_file = project / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text().replace("appLabel:", "appLable:"))
    tools.clear()

    result = shell(tools, project, "make up")

    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if re.match(r"error: |  \S", line)]
    assert errors == [
        "error: stack dev keeps its secrets (Okta token, root token) encrypted with a passphrase "
        "on",
        "error: The stack configuration has 1 problem (nothing was created):",
        "  pachyderm-okta:okta.appLable: is not a setting this program knows; did you mean "
        "pachyderm-okta:okta.appLabel?",
        "error: make up stopped before downloading anything: fix the above and run it again.",
    ]
    # Nothing ran but the questions to the CLI: its version, and its backend (the stored login).
    assert [(call["tool"], call["argv"]) for call in tools.calls()] == [
        ("pulumi", ["version"]),
        ("pulumi", WHOAMI),
    ]
    assert tools.calls("pulumi")[1]["backend"] == f"file://{project}/.pulumi-state"


def test_make_up_refuses_a_kube_context_the_kubeconfig_lacks(
    tmp_path: Path, project: Path, profile: dict[str, str]
) -> None:
    tools = toolbox(tmp_path / "tools", pulumi_version=None, kube_contexts=("kind-kind",))

    result = shell(tools, project, FIRST_UP, env=profile)

    assert result.returncode != 0
    assert (
        "  kubernetes:context: names the context 'minikube', which "
        f"{tools.home}/.kube/config does not have (its contexts: kind-kind): set it to one of "
        "them (`kubectl config get-contexts`)\n"
    ) in result.stderr
    assert tools.calls("curl") == []
    assert tools.calls("pulumi") == []


KUBECONFIG_CASES = {
    "the context in ~/.kube/config": ({}, {}, ("minikube",), []),
    "no context: the current-context": ({"kubernetes:context": None}, {}, ("minikube",), []),
    "no ~/.kube/config": (
        {},
        {},
        (),
        [
            "kubernetes:kubeconfig: is not set, KUBECONFIG is not set, and there is no "
            "{home}/.kube/config: set kubernetes:kubeconfig to the kubeconfig file of the cluster "
            "to deploy to"
        ],
    ),
    "KUBECONFIG names the file": ({}, {"KUBECONFIG": "{home}/other"}, ("minikube",), []),
    "KUBECONFIG lists two files": (
        {},
        {"KUBECONFIG": "{home}/other:{home}/.kube/config"},
        ("minikube",),
        [
            "kubernetes:kubeconfig: is not set, and KUBECONFIG lists several files "
            "({home}/other:{home}/.kube/config), which the Kubernetes provider reads as one "
            "path: set kubernetes:kubeconfig to the file with the context"
        ],
    ),
    "kubeconfig as ~/ path": ({"kubernetes:kubeconfig": "~/other"}, {}, ("minikube",), []),
    "kubeconfig as contents": (
        {"kubernetes:kubeconfig": "CONTENTS", "kubernetes:context": "inline"},
        {},
        (),
        [],
    ),
    "kubeconfig names no file": (
        {"kubernetes:kubeconfig": "/nowhere/config"},
        {},
        ("minikube",),
        [
            "kubernetes:kubeconfig: is neither an existing file nor kubeconfig contents (no file "
            "/nowhere/config): point it at the kubeconfig file of the cluster to deploy to"
        ],
    ),
}


@pytest.mark.parametrize(
    ("changes", "environ", "contexts", "expected"),
    list(KUBECONFIG_CASES.values()),
    ids=list(KUBECONFIG_CASES),
)
def test_the_kube_context_is_looked_up_where_the_kubernetes_provider_looks(
    tmp_path: Path,
    changes: dict[str, str | None],
    environ: dict[str, str],
    contexts: tuple[str, ...],
    expected: list[str],
) -> None:
    home = tmp_path / "home"
    (home / ".kube").mkdir(parents=True)
    if contexts:
        (home / ".kube" / "config").write_text(kubeconfig(contexts))
    (home / "other").write_text(kubeconfig(("minikube",)))
    entries = {"kubernetes:context": ("minikube", False)}
    for key, value in changes.items():
        if value is None:
            entries.pop(key)
        else:
            text = kubeconfig(("inline",)) if value == "CONTENTS" else value
            entries[key] = (text, False)
    environ = {key: value.format(home=home) for key, value in environ.items()}

    found = kube_context_problems(entries, environ, home)

    assert [str(problem) for problem in found] == [line.format(home=home) for line in expected]


def test_a_stack_file_reads_as_the_engine_passes_it(tmp_path: Path) -> None:
    project = clone(tmp_path / "clone")
    stack_file = project / "Pulumi.dev.yaml"
    stack_file.write_text(
        stack_file.read_text()
        + "  okta:apiToken:\n    secure: v1:c3RhbmRpbg==:v1:Y2lwaGVydGV4dA==\n"
        + "  okta:maxRetries: 3\n  pachyderm-okta:pachdAddress: 'yes'\n"
    )

    read = read_stack_file(project, "dev")

    config, _ = stack_config(
        "dev", secrets={}, okta__maxRetries=3, pachyderm_okta__pachdAddress="yes"
    )

    def parsed(text: str) -> object:  # the engine writes JSON as Go does: compact, keys sorted
        return json.loads(text) if text[:1] in ("{", "[") else text

    assert {
        key: parsed(text) for key, (text, _) in read.entries.items() if key != "okta:apiToken"
    } == {key: parsed(value) for key, value in config.items() if not key.startswith("pulumi:")} | {
        "pulumi:disable-default-providers": ["okta", "kubernetes"]
    }
    assert read.entries["pulumi:disable-default-providers"] == ('["okta","kubernetes"]', False)
    assert read.entries["okta:apiToken"] == (ENCRYPTED_PLACEHOLDER, True)
    assert read.encrypted_keys == {"okta:apiToken"}
    assert read.environments == ()


# --- secrets on command lines --------------------------------------------------------------------

# `--secret <key>` followed by a value, or a token variable set to one in front of a command:
# what ps and shell history would keep.
SECRET_ON_A_COMMAND_LINE = re.compile(
    r"--secret[ \t]+[\w:.{}-]+[ \t]+[<\"'$\w.]|\b[A-Z_]*(?:TOKEN|PASSPHRASE)=(?:<|\.\.\.)"
)


def test_no_message_or_document_puts_a_secret_on_a_command_line() -> None:
    files = [
        *ROOT.glob("*.md"),
        *ROOT.glob("docs/*.md"),
        *ROOT.glob("Pulumi*.yaml"),
        *ROOT.glob("components/**/*.py"),
        *ROOT.glob("scripts/*"),
        *ROOT.glob("policy/**/*.py"),
        *ROOT.glob("policy/*.md"),
    ]
    hits = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in files
        if path.is_file()
        for match in SECRET_ON_A_COMMAND_LINE.finditer(path.read_text(errors="replace"))
    ]
    assert hits == []


def test_rotate_robot_raises_the_robots_rotation_then_runs_up(
    tmp_path: Path, project: Path, profile: dict[str, str]
) -> None:
    tools = toolbox(tmp_path / "tools", pulumi_version=PINNED_VERSION)
    stack_file = project / "Pulumi.dev.yaml"
    document = yaml.safe_load(stack_file.read_text())
    robot = {"ttl": "720h", "secret": {"namespace": "ci", "name": "pachyderm-robot-ci"}}
    document["config"]["pachyderm-okta:auth"]["robots"] = {"ci": robot}
    stack_file.write_text(yaml.safe_dump(document))
    assert shell(tools, project, FIRST_UP, env=profile).returncode == 0

    for expected in ("1", "2"):
        tools.clear()
        result = shell(tools, project, "make rotate-robot NAME=ci ARGS=--yes", env=profile)
        assert result.returncode == 0, result.stderr
        calls = [c["argv"] for c in tools.calls("pulumi") if c["argv"][0] not in ("version",)]
        key = "pachyderm-okta:auth.robots.ci"
        assert [c for c in calls if c != WHOAMI] == [
            ["config", "get", "--path", f"{key}.ttl", "--stack", "dev"],
            ["config", "get", "--path", f"{key}.rotation", "--stack", "dev"],
            ["config", "set", "--path", f"{key}.rotation", expected, "--stack", "dev"],
            ["up", "--stack", "dev", "--yes"],
        ]
        stored = yaml.safe_load(stack_file.read_text())["config"]["pachyderm-okta:auth"]
        assert stored["robots"]["ci"] == robot | {"rotation": expected}
        assert f"rotation of robot 'ci': {int(expected) - 1} -> {expected}" in result.stderr


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (
            "make rotate-robot",
            "error: name the robot: make rotate-robot NAME=<robot> (a key of "
            "pachyderm-okta:auth.robots)",
        ),
        (
            "make rotate-robot NAME=etl",
            "error: stack dev has no robot 'etl' in pachyderm-okta:auth.robots: make rotate-robot "
            "rotates a robot the stack mints",
        ),
    ],
)
def test_rotate_robot_names_a_robot_the_stack_mints(
    tmp_path: Path, project: Path, profile: dict[str, str], command: str, message: str
) -> None:
    tools = toolbox(tmp_path / "tools", pulumi_version=PINNED_VERSION)
    assert shell(tools, project, FIRST_UP, env=profile).returncode == 0
    tools.clear()

    result = shell(tools, project, command, env=profile)

    assert result.returncode != 0
    assert message in result.stderr
    assert not [c for c in tools.calls("pulumi") if c["argv"][0] in ("up", "config")][2:]
