"""Every command the README shows works as written, in a new shell, on the backend the user chose.

The manual is the README plus the user documents in docs/ (configuration, operations,
troubleshooting, security); every command in any of them is run here.

Regressions guarded: ``make up`` pointing Pulumi at a backend only for its own process, so that the
README's follow-up ``pulumi`` commands in the user's next shell find no stack (or another one); a
user logged in with ``pulumi login`` silently moved to the project-local file backend; a README
command that no test runs; a quickstart that no longer fits on one screen; a README that grows back
into a 570-line reference, or links to a document or heading that is gone; and references to
documents a reader of this repository does not have.

Each scenario starts from a fresh clone and a fresh home directory, runs ``make up`` as the
quickstart writes it, then every other ``pulumi`` and ``make`` command of the README, each in a new
``bash`` with a clean environment (only what the README tells the user to export), against the
stand-in tools of :mod:`testkit.standins`. Every Pulumi call they make must reach the scenario's
backend and the expected stack.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from testkit.stacks import ROOT
from testkit.standins import PINNED_VERSION, Toolbox, clone, shell, toolbox

OKTA_TOKEN = "standin-okta-api-token"
SECRET_VALUE = "standin-secret-value"
STANDIN_CA_PEM = "-----BEGIN CERTIFICATE-----\nstandin\n-----END CERTIFICATE-----\n"
PLACEHOLDERS = {
    "<SSWS token>": OKTA_TOKEN,
    "<key>": "licenseKey",
    "<bucket>": "team-state",
}


@dataclass(frozen=True)
class Step:
    """One README command: what it is, which stack it must reach, what the user types."""

    command: str
    stack: str = "dev"
    stdin: str | None = None
    passes: tuple[str, ...] = ()
    """Flags the command line hands on to its last Pulumi call (``ARGS=...``)."""
    env: dict[str, str] = field(default_factory=dict)
    """What the README has the user export for this command (beyond the profile)."""
    offline: bool = False
    """The command runs no Pulumi CLI (``make check``)."""


# Every pulumi/make command the README shows, in an order a user could run them. A command that
# chooses the backend (`pulumi login ...`) is a scenario's set-up instead (SCENARIOS below).
# The Quickstart exports the token it reads without echo (`read -rs OKTA_API_TOKEN`).
TOKEN = {"OKTA_API_TOKEN": OKTA_TOKEN}
FIRST_UP = Step("make up", env=TOKEN)
STEPS = (
    FIRST_UP,
    Step("make check", offline=True),
    Step("make up"),
    Step("make up ARGS=--yes", passes=("--yes",)),
    Step("make up PYTHON=python3.11"),
    Step("make up PYTHON=python3.12"),
    Step("make outputs"),
    Step("pulumi stack output"),
    Step("pulumi stack output pachctlConnect"),
    Step("make root-token"),
    Step("pulumi stack output rootToken --show-secrets"),
    Step("pulumi whoami -v"),
    Step("make preview"),
    Step("pulumi preview --policy-pack policy"),
    Step("pulumi up"),
    Step("make refresh"),
    Step("pulumi refresh"),
    Step("make rotate-okta-secret"),
    Step(
        'pulumi up --replace "$(pulumi stack export | python3 scripts/resource_urn.py '
        'okta:app/oAuth:OAuth)"'
    ),
    Step("make rotate-root-token"),
    Step(
        'pulumi up --replace "$(pulumi stack export | python3 scripts/resource_urn.py '
        'random:index/randomPassword:RandomPassword auth-root-token)"'
    ),
    Step("pulumi config set --secret okta:apiToken", stdin=SECRET_VALUE),
    Step("pulumi config set --secret rootToken", stdin=SECRET_VALUE),
    Step("pulumi config set --secret <key>", stdin=SECRET_VALUE),
    Step("pulumi config set pachdCaCert", stdin=STANDIN_CA_PEM),
    Step("make destroy"),
    Step("make destroy ARGS=--yes", passes=("--yes",)),
    Step("pulumi destroy"),
    Step("make up STACK=prod", stack="prod", env=TOKEN),
    Step("make outputs STACK=prod", stack="prod"),
    Step("pulumi stack select prod", stack="prod"),
)
LOGIN_COMMANDS = ("pulumi login", "pulumi login <url>", "pulumi login s3://<bucket>")
# Shown, never run by these tests: they run the suite and the benchmark themselves.
NOT_RUN = {
    "make test": "the test suite itself (tests/test_scripts.py checks .ci/run runs it)",
    "make bench": "the benchmarks (docs/benchmarks.md)",
    "make up PULUMI=/path/to/pulumi": "a path of the user's: tests/test_scripts.py names one",
    "make rotate-robot NAME=<name>": "needs a stack with a robot: tests/test_scripts.py runs it",
}


@dataclass(frozen=True)
class Scenario:
    """Where the user keeps state, and how their shells say so."""

    name: str
    backend: Callable[[Path, Path], str]
    """The backend every call must reach, from the clone and a scratch directory."""
    profile: Callable[[Path], dict[str, str]]
    """What the user's shell profile exports (from the scratch directory)."""
    login: str | None = None
    """The README's login command the user ran first, if any."""
    login_env: dict[str, str] = field(default_factory=dict)


def _passphrase(scratch: Path) -> dict[str, str]:
    return {"PULUMI_CONFIG_PASSPHRASE_FILE": str(scratch / "passphrase")}


SCENARIOS = (
    Scenario(
        "project-local default",
        backend=lambda project, scratch: f"file://{project}/.pulumi-state",
        profile=_passphrase,
    ),
    Scenario(
        "pulumi login to Pulumi Cloud",
        backend=lambda project, scratch: "https://api.pulumi.com",
        profile=lambda scratch: {},  # Pulumi Cloud encrypts with its own key: no passphrase
        login="pulumi login",
        login_env={"PULUMI_ACCESS_TOKEN": "standin-pulumi-access-token"},
    ),
    Scenario(
        "pulumi login to a bucket",
        backend=lambda project, scratch: "s3://team-state",
        profile=_passphrase,
        login="pulumi login s3://<bucket>",
    ),
    Scenario(
        "PULUMI_BACKEND_URL over a stored login",
        backend=lambda project, scratch: f"file://{scratch}/elsewhere",
        profile=lambda scratch: {
            "PULUMI_BACKEND_URL": f"file://{scratch}/elsewhere",
            **_passphrase(scratch),
        },
        login="pulumi login",
        login_env={"PULUMI_ACCESS_TOKEN": "standin-pulumi-access-token"},
    ),
)


def readme_commands(text: str) -> list[str]:
    """Every ``pulumi``/``make`` command the README shows, in code blocks or inline code."""
    command = re.compile(r"^(?:[A-Z_]+=(?:<[^>]*>|\S+)\s+)*(?:pulumi|make)\s+\S")
    found: list[str] = []
    in_block = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_block = not in_block
            continue
        candidates = (
            [re.sub(r"\s+#\s.*$", "", line).strip()] if in_block else re.findall(r"`([^`]+)`", line)
        )
        found.extend(candidate for candidate in candidates if command.match(candidate))
    return found


def fill(command: str, url: str = "") -> str:
    """The command with its placeholders filled in, as a user would type it."""
    for placeholder, value in {**PLACEHOLDERS, "<url>": url}.items():
        command = command.replace(placeholder, value)
    return command


def run_step(tools: Toolbox, project: Path, step: Step, env: dict[str, str]) -> None:
    """Run one README command in a fresh shell; it must succeed."""
    result = shell(tools, project, fill(step.command), env={**env, **step.env}, stdin=step.stdin)
    assert result.returncode == 0, f"{step.command}\n{result.stdout}\n{result.stderr}"


def reached(tools: Toolbox) -> tuple[set[str], set[str]]:
    """The backends and the stacks the Pulumi calls so far reached.

    ``version`` reaches none, nor does ``whoami`` when it answers that nobody is logged in (exit 3:
    how ``make up`` finds out that the user chose no backend).
    """
    calls = [
        call
        for call in tools.calls("pulumi")
        if call["argv"] != ["version"] and not (call["argv"][0] == "whoami" and call["exit"] == 3)
    ]
    return (
        {call.get("backend", "<none>") for call in calls},
        {call["stack"] for call in calls if "stack" in call},
    )


# Documents that explain how the program and its tests are built: they quote commands in passing
# (`pulumi up --stack <stack>`, `pulumi version`) as evidence, not as instructions to a user.
DESIGN_DOCUMENTS = frozenset(
    {"architecture.md", "decisions.md", "decisions-provider.md", "testing.md", "benchmarks.md"}
)


def manual() -> list[Path]:
    """The user's manual: the README and every document in docs/ but the design documents."""
    documents = sorted(path for path in (ROOT / "docs").glob("*.md"))
    return [ROOT / "README.md", *(p for p in documents if p.name not in DESIGN_DOCUMENTS)]


def test_the_manual_shows_only_commands_these_tests_run() -> None:
    shown = {command for path in manual() for command in readme_commands(path.read_text())}
    tested = {step.command for step in STEPS} | set(LOGIN_COMMANDS) | set(NOT_RUN)
    assert shown - tested == set(), "commands in the manual that no test runs"
    assert tested - shown == set(), "commands tested but no longer in the manual"


def anchor(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, '-' for spaces."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def broken_links(path: Path) -> list[str]:
    """Relative links of ``path`` whose file or heading does not exist."""
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()):
        if re.match(r"[a-z]+:", target):
            continue
        file_part, _, fragment = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(target)
        elif fragment and linked.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", linked.read_text(), re.M)
            if fragment not in {anchor(heading) for heading in headings}:
                broken.append(target)
    return broken


def test_the_readme_is_a_short_manual_that_links_to_the_rest() -> None:
    readme = (ROOT / "README.md").read_text()
    sections = re.findall(r"^## (.+)$", readme, re.M)

    assert len(readme.splitlines()) <= 250
    assert sections[:5] == [
        "Quickstart",
        "Prerequisites",
        "Configuration",
        "Day-2 commands",
        "Troubleshooting",
    ]
    assert "(docs/configuration.md)" in readme
    linked = set(re.findall(r"\]\((docs/[^)#\s]+)", readme))
    assert {f"docs/{path.name}" for path in manual()[1:]} <= linked
    documents = [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]
    assert {str(path.relative_to(ROOT)): broken_links(path) for path in documents} == {
        str(path.relative_to(ROOT)): [] for path in documents
    }


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.name)
def test_every_readme_command_reaches_the_users_backend_and_stack(
    tmp_path: Path, scenario: Scenario
) -> None:
    tools = toolbox(tmp_path / "tools", pulumi_version=PINNED_VERSION)
    project = clone(tmp_path / "clone")
    scratch = tmp_path / "scratch"
    (scratch / "elsewhere").mkdir(parents=True)
    (scratch / "passphrase").write_text("a passphrase of the user's\n")
    backend = scenario.backend(project, scratch)
    credentials = tools.home / ".pulumi" / "credentials.json"
    if scenario.login is not None:
        login = shell(tools, project, fill(scenario.login), env=scenario.login_env)
        assert login.returncode == 0, login.stderr
    stored_login = credentials.read_text() if credentials.exists() else None
    tools.clear()

    for step in STEPS:
        run_step(tools, project, step, scenario.profile(scratch))
        backends, stacks = reached(tools)
        if step.offline:
            assert tools.calls("pulumi") == [], step.command
        else:
            assert backends == {backend}, step.command
            assert stacks == (set() if "whoami" in step.command else {step.stack}), step.command
        if step.passes:
            last_call = tools.calls("pulumi")[-1]["argv"]
            assert last_call[-len(step.passes) :] == list(step.passes), step.command
        logins = [call["argv"] for call in tools.calls("pulumi") if call["argv"][0] == "login"]
        # Only a user who chose no backend is logged in, once, to the project's own, and never
        # interactively (the CLI's onboarding menu would stop `make up`).
        first_login = step is FIRST_UP and scenario.login is None
        assert logins == ([["login", "--non-interactive", backend]] if first_login else []), (
            step.command
        )
        tools.clear()

    if scenario.login is not None:
        assert credentials.read_text() == stored_login
    else:
        assert json.loads(credentials.read_text())["current"] == backend


def test_make_up_leaves_a_stack_that_the_next_shells_find(tmp_path: Path) -> None:
    """The README's quickstart, then its outputs command: the user gets their pachctl line."""
    tools = toolbox(tmp_path / "tools", pulumi_version=PINNED_VERSION)
    project = clone(tmp_path / "clone")
    (tmp_path / "passphrase").write_text("a passphrase of the user's\n")
    profile = {"PULUMI_CONFIG_PASSPHRASE_FILE": str(tmp_path / "passphrase")}
    run_step(tools, project, FIRST_UP, profile)

    outputs = shell(tools, project, "pulumi stack output pachctlConnect", env=profile)

    assert outputs.stdout == "pachctl connect grpc://dev.example:30080\n"
    stack_file = (project / "Pulumi.dev.yaml").read_text()
    assert f"secure: standin-secure:{OKTA_TOKEN}" in stack_file  # stored as a secret
    assert "encryptionsalt:" in stack_file  # the passphrase provider's salt, to commit


def test_the_quickstart_fits_on_one_screen() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Quickstart\n", 1)[1].split("\n## ", 1)[0]
    assert len(section.strip().splitlines()) <= 25


# The team's private notes, which this repository does not contain: nothing may cite them.
# Spelled in pieces so that this file does not match itself.
OUTSIDE_DOCUMENTS = re.compile(
    "|".join(
        (
            "pulumi" + "-notes",
            "pachyderm" + r"-auth\.md",
            "DESIGN" + r"\.md",
            "DESIGN" + " decision",
            "(?i:style" + r" rule)",
        )
    )
)
SKIPPED_DIRECTORIES = {".git", "venv", ".venv", "__pycache__"}


def test_no_file_refers_to_documents_outside_the_repository() -> None:
    hits = []
    for path in sorted(ROOT.rglob("*")):
        relative = path.relative_to(ROOT)
        skipped = any(
            part in SKIPPED_DIRECTORIES or part.endswith("_cache") for part in relative.parts
        )
        if skipped or path.suffix not in (".py", ".md") or not path.is_file():
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if OUTSIDE_DOCUMENTS.search(line):
                hits.append(f"{relative}:{number}: {line.strip()}")
    assert hits == []
