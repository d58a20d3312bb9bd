"""``make check STACK=<name>``: ``Pulumi.<name>.yaml`` validated as ``pulumi up`` validates it.

Offline: no Pulumi CLI, no cloud call. The stack file is merged with ``Pulumi.yaml``'s defaults
(:mod:`components.settings.stack_file`) and checked by the program's own settings code, so the
messages are the ones ``pulumi up`` prints, all at once. What files cannot show is said so:

- a secret counts as set when the stack file holds it encrypted, or when ``make up`` would store it
  from the environment as ``scripts/up`` decides: ``OKTA_API_TOKEN`` becomes ``okta:apiToken`` only
  for a stack with no Okta credential (a note says which applies);
- a required key of a stack that imports an ESC environment is "not checked", never missing;
- a key encrypted in the stack file that the settings read as plain text is "not checked".

It also prints the access table (:mod:`components.access`): who the stack gives which roles on
the cluster, each project and each repo, pachd's own grants included, whenever ``auth`` is valid.

``--kube-context`` (``make up``) also checks that the kube context the stack names exists
(:mod:`scripts.kube_context`). Exit status 1 on any problem.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from components.access import Grant, access_table, render
from components.settings import PROJECT, SECRET_KEYS, AuthSettings, ConfigProblem, StackConfigError
from components.settings.loader import raw_settings, settings_problems
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


def check(
    project_dir: Path,
    stack: str,
    environ: Mapping[str, str],
    *,
    kube_context: bool = False,
    home: Path | None = None,
) -> Report:
    """Everything files and this machine can tell about ``stack``, without the Pulumi CLI."""
    stack_file = read_stack_file(project_dir, stack)
    entries = dict(stack_file.entries)
    notes = _okta_token_from_environment(stack_file, environ, entries)
    found = settings_problems(entries)
    environments = ", ".join(stack_file.environments)
    # Keys encrypted in the stack file that the settings read as text: their value is unknown.
    unreadable = stack_file.encrypted_keys - SECRET_KEYS
    problems, not_checked = [], []
    for problem in found:
        if environments and problem.message.startswith("is required"):
            not_checked.append(
                ConfigProblem(problem.key, f"not checked: may come from environment {environments}")
            )
        elif any(_is_under(problem.key, key) for key in unreadable):
            not_checked.append(
                ConfigProblem(problem.key, "not checked: encrypted in the stack file")
            )
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
        sorted(problems, key=lambda problem: problem.key), not_checked, notes, _access(entries)
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
    args = parser.parse_args(argv)
    name = f"Pulumi.{args.stack}.yaml"
    try:
        report = check(ROOT, args.stack, os.environ, kube_context=args.kube_context)
    except StackFileError as error:
        print(f"error: {error}", file=stderr)
        return 1
    if report.access is not None:
        print(
            f"{name}: access the stack declares (bindings made by hand live only in pachd):",
            file=stdout,
        )
        print(render(report.access), file=stdout)
    for note in report.notes:
        print(f"note: {note}", file=stderr)
    if report.not_checked:
        print(f"{name}: not checked offline:", file=stderr)
        for problem in report.not_checked:
            print(f"  {problem}", file=stderr)
    if report.problems:
        print(f"error: {StackConfigError(report.problems)}", file=stderr)
        return 1
    print(f"{name}: no problems found", file=stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], sys.stdout, sys.stderr))
