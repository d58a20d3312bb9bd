"""``make check STACK=<name>``: ``Pulumi.<name>.yaml`` validated as ``pulumi up`` validates it.

Offline: no Pulumi CLI, no cloud call. The stack file is read and merged with ``Pulumi.yaml``'s
defaults as the engine reads and merges them (:mod:`components.settings.stack_file`). ``pulumi up``
checks in two steps, and so does this:

1. the engine's own checks, before the program runs (pulumi/pulumi ``pkg/workspace/config.go``):
   a declared project key with no default must be set, a declared type must match; ``pulumi up``
   stops at the first with the engine's text, and this prints them all in that text;
2. the program's settings code, whose messages are the ones ``pulumi up`` prints, all at once.

What files cannot show is said so:

- a secret counts as set when the stack file holds it encrypted, or when ``make up`` would store it
  from the environment as ``scripts/up`` decides: ``OKTA_API_TOKEN`` becomes ``okta:apiToken`` only
  for a stack with no Okta credential (a note says which applies);
- ESC environments (the stack file's ``environment:``) work only on the Pulumi Cloud backend: on
  any other, ``pulumi up`` fails, and this says so when it knows the backend (``--backend``, which
  ``make up`` passes, else ``PULUMI_BACKEND_URL`` or ``Pulumi.yaml``'s ``backend.url``). The
  engine merges the environment's values under the stack file's, mappings key by key
  (``mergeConfig``: the stack's value wins at each leaf), so with an environment only a problem
  at a value the stack file sets, on that value alone, is certain; the rest are "not checked";
- a key encrypted in the stack file that the settings read as plain text is "not checked".

It also prints the access table (:mod:`components.access`): who the stack gives which roles on
the cluster, each project and each repo, pachd's own grants included, whenever ``auth`` is valid.

``--kube-context`` (``make up``) also checks that the kube context the stack names exists
(:mod:`scripts.kube_context`). Exit status 1 on any problem.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from components.access import Grant, access_table, render
from components.settings import PROJECT, SECRET_KEYS, AuthSettings, ConfigProblem, StackConfigError
from components.settings.engine_config import engine_problems
from components.settings.loader import raw_settings, settings_problems
from components.settings.rules import cross_setting_problems
from components.settings.stack_file import (
    ENCRYPTED_PLACEHOLDER,
    StackFile,
    StackFileError,
    read_stack_file,
)
from scripts.kube_context import KUBECONFIG_KEY, kube_context_problems

ROOT = Path(__file__).resolve().parent.parent
# The Okta credentials scripts/up looks for before it stores OKTA_API_TOKEN.
OKTA_CREDENTIALS = ("okta:apiToken", "okta:accessToken", "okta:privateKey")


@dataclass(frozen=True)
class Report:
    """Problems (each fails the check), keys that could not be checked, and notes."""

    problems: list[ConfigProblem]
    not_checked: list[ConfigProblem]
    notes: list[str]
    access: list[Grant] | None = None
    """The access table, when ``pachyderm-okta:auth`` is valid on its own."""
    engine: list[str] = field(default_factory=list)
    """What the engine stops ``pulumi up`` with before the program runs (its own text)."""
    warnings: list[str] = field(default_factory=list)
    """What the engine warns about while reading the stack file (its own text)."""


def _is_under(key: str, parent: str) -> bool:
    return key == parent or key.startswith((f"{parent}.", f"{parent}["))


def _okta_token_from_environment(
    stack_file: StackFile, environ: Mapping[str, str], entries: dict[str, tuple[str, bool]]
) -> list[str]:
    """Count OKTA_API_TOKEN as okta:apiToken where ``make up`` would store it; say so."""
    if not environ.get("OKTA_API_TOKEN"):
        return []
    name = stack_file.path.name
    held = [key for key in OKTA_CREDENTIALS if key in stack_file.stack_keys]
    if held:
        return [
            f"OKTA_API_TOKEN is set but not used: {name} already has {held[0]}, and `make up` "
            "stores OKTA_API_TOKEN only for a stack with no Okta credential"
        ]
    entries["okta:apiToken"] = (ENCRYPTED_PLACEHOLDER, True)
    return [
        f"okta:apiToken is not in {name}: checked as set, because `make up` stores "
        "OKTA_API_TOKEN as the encrypted okta:apiToken for a stack with no Okta credential "
        "(okta:apiToken, okta:accessToken or okta:privateKey)"
    ]


# Backends other than Pulumi Cloud: the DIY backend's bucket schemes (pulumi/pulumi
# pkg/backend/diy/backend.go, IsDIYBackendURL: gocloud's file, mem, s3, gs, azblob).
_DIY_SCHEMES = ("file", "mem", "s3", "gs", "azblob")


def _backend_from_files(project_dir: Path, environ: Mapping[str, str]) -> str | None:
    """The backend files and the environment name, by the CLI's precedence; None: ask the CLI."""
    if environ.get("PULUMI_BACKEND_URL"):
        return environ["PULUMI_BACKEND_URL"]
    text = (project_dir / "Pulumi.yaml").read_text()
    match = re.search(r"^backend:\s*\n(?:[ \t]+.*\n)*?[ \t]+url:\s*(\S+)", text, re.MULTILINE)
    return match.group(1).strip("'\"") if match else None


def is_cloud_backend(url: str) -> bool:
    """True for Pulumi Cloud (or a self-hosted one); False for a DIY backend."""
    return url.partition("://")[0].lower() not in _DIY_SCHEMES if "://" in url else True


def _environment_problem(name: str, environments: str, backend: str | None) -> str | None:
    """What ``pulumi up`` says of an environment on ``backend``; None on Pulumi Cloud.

    pkg/cmd/pulumi/config/config_env.go, errBackendNoEnvironments, named by the DIY backend's
    ``Name()``, the machine's host name (pkg/backend/diy/backend.go); wrapped by ``pulumi up``.
    """
    if not environments or backend is None or is_cloud_backend(backend):
        return None
    hostname = os.uname().nodename or "diy"
    return (
        f"{name} imports {environments}, and the backend is {backend}: ESC environments need the "
        'Pulumi Cloud backend; pulumi up stops with "getting stack configuration: opening '
        f"environment: backend {hostname} does not support environments; Pulumi ESC environments "
        "require the Pulumi Cloud backend, use `pulumi login` without arguments to log into the "
        'Pulumi Cloud backend". Remove environment: from the stack file, or log in to Pulumi '
        "Cloud"
    )


_PATH_PART = re.compile(r'\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')


def _set_by_stack(stack_values: Mapping[str, object], key: str) -> bool:
    """True when ``key`` (``ns:name.path[0]``) names a value the stack file sets that is no mapping.

    With an environment, the engine merges mappings key by key and keeps the stack's value at each
    leaf (pkg/workspace/config.go, mergeConfig; object.Merge): only such a value is final.
    """
    namespace, _, rest = key.partition(":")
    name = re.split(r"[.\[]", rest, maxsplit=1)[0]
    value = stack_values.get(f"{namespace}:{name}", _ABSENT)
    for match in _PATH_PART.finditer(rest[len(name) :]):
        field_name, index, quoted = match.groups()
        if isinstance(value, dict) and (field_name or quoted):
            value = value.get(field_name or json.loads(quoted), _ABSENT)
        elif isinstance(value, list) and index is not None and int(index) < len(value):
            value = value[int(index)]
        else:
            return False
    return value is not _ABSENT and not isinstance(value, dict)


_ABSENT = object()


def check(
    project_dir: Path,
    stack: str,
    environ: Mapping[str, str],
    *,
    kube_context: bool = False,
    home: Path | None = None,
    backend: str | None = None,
) -> Report:
    """Everything files and this machine can tell about ``stack``, without the Pulumi CLI."""
    stack_file = read_stack_file(project_dir, stack)
    entries = dict(stack_file.entries)
    notes = _okta_token_from_environment(stack_file, environ, entries)
    environments = ", ".join(stack_file.environments)
    backend = backend or _backend_from_files(project_dir, environ)
    engine = engine_problems(
        stack,
        stack_file.project_name,
        stack_file.declarations,
        stack_file.engine_values,
        may_come_from_environment=bool(environments),
    )
    found = settings_problems(entries)
    # Cross-setting rules read several keys; with an environment, any of them may come from it.
    raw = raw_settings(entries)[0]
    cross = {(problem.key, problem.message) for problem in cross_setting_problems(raw)}
    # Keys encrypted in the stack file that the settings read as text: their value is unknown.
    unreadable = stack_file.encrypted_keys - SECRET_KEYS
    problems, not_checked = [], []
    environment_problem = _environment_problem(stack_file.path.name, environments, backend)
    if environment_problem:
        problems.append(ConfigProblem("environment", environment_problem))
    elif environments and backend is None:
        notes.append(
            f"{stack_file.path.name} imports {environments}: ESC environments need the Pulumi "
            'Cloud backend (on a file, s3, gs or azblob backend pulumi up stops with "backend '
            '... does not support environments"); make up checks the backend it uses'
        )
    for problem in found:
        if any(_is_under(problem.key, key) for key in unreadable):
            not_checked.append(
                ConfigProblem(problem.key, "not checked: encrypted in the stack file")
            )
        elif environments and (
            (problem.key, problem.message) in cross
            or not _set_by_stack(stack_file.stack_values, problem.key)
        ):
            because = (
                f"may come from environment {environments}"
                if problem.message.startswith("is required")
                else f"{problem.message}, unless environment {environments} supplies a value"
            )
            not_checked.append(ConfigProblem(problem.key, f"not checked: {because}"))
        else:
            problems.append(problem)
    if kube_context:
        if KUBECONFIG_KEY in stack_file.encrypted_keys:
            not_checked.append(
                ConfigProblem(KUBECONFIG_KEY, "not checked: encrypted in the stack file")
            )
        elif environments and KUBECONFIG_KEY not in stack_file.stack_keys:
            not_checked.append(
                ConfigProblem(
                    KUBECONFIG_KEY, f"not checked: may come from environment {environments}"
                )
            )
        elif not any(problem.key.startswith("kubernetes:") for problem in problems):
            problems.extend(kube_context_problems(entries, environ, home or Path.home()))
    return Report(
        sorted(problems, key=lambda problem: problem.key),
        not_checked,
        notes,
        _access(entries),
        engine,
        list(stack_file.warnings),
    )


def _access(entries: Mapping[str, tuple[str, bool]]) -> list[Grant] | None:
    auth = raw_settings(entries)[0][PROJECT].get("auth", {})
    try:
        return access_table(AuthSettings.model_validate(auth, context={"dry_run": True}))
    except ValidationError:
        return None  # its problems are listed by key


def main(argv: list[str], stdout: TextIO, stderr: TextIO) -> int:
    """Entry point: ``python -m scripts.check_stack STACK [--kube-context]``."""
    parser = argparse.ArgumentParser(prog="make check", description=__doc__)
    parser.add_argument("stack")
    parser.add_argument("--kube-context", action="store_true")
    parser.add_argument("--backend", help="the backend make up uses (default: as files tell)")
    args = parser.parse_args(argv)
    name = f"Pulumi.{args.stack}.yaml"
    try:
        report = check(
            ROOT, args.stack, os.environ, kube_context=args.kube_context, backend=args.backend
        )
    except StackFileError as error:
        print(f"error: {error}", file=stderr)
        return 1
    if report.access is not None:
        print(
            f"{name}: access the stack declares (bindings made by hand live only in pachd):",
            file=stdout,
        )
        print(render(report.access), file=stdout)
    for warning in report.warnings:
        print(f"warning: {warning}", file=stderr)
    for note in report.notes:
        print(f"note: {note}", file=stderr)
    if report.not_checked:
        print(f"{name}: not checked offline:", file=stderr)
        for problem in report.not_checked:
            print(f"  {problem}", file=stderr)
    if report.engine:
        lines = "".join(f"\n  validating stack config: {text}" for text in report.engine)
        print(
            "error: pulumi up stops at the first of these, before the program runs (the engine "
            f"checks Pulumi.yaml's declarations first):{lines}",
            file=stderr,
        )
    if report.problems:
        print(f"error: {StackConfigError(report.problems)}", file=stderr)
    if report.problems or report.engine:
        return 1
    print(f"{name}: no problems found", file=stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], sys.stdout, sys.stderr))
