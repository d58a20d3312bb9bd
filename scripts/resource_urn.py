"""Print the URN of one resource of a stack, read from ``pulumi stack export`` on stdin.

Usage: ``pulumi stack export | python3 scripts/resource_urn.py TYPE [NAME]``, e.g.
``okta:app/oAuth:OAuth`` (the Okta app) or ``random:index/randomPassword:RandomPassword
auth-root-token`` (the minted root token). ``pulumi up --replace`` takes the URN it prints.

Exactly one resource must match, so a replacement can never hit the wrong one; otherwise this
prints why to stderr and exits 1 (and ``--replace ""`` then fails before anything changes).
Standard library only: it runs before the project's virtualenv exists.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO


def matching_urns(exported: dict[str, Any], type_token: str, name: str | None) -> list[str]:
    """URNs of the exported deployment's resources of ``type_token`` (and ``name``, if given)."""
    resources = exported.get("deployment", {}).get("resources") or []
    urns: list[str] = []
    for resource in resources:
        urn = str(resource.get("urn", ""))
        # urn:pulumi:<stack>::<project>::<parent types$>type::<name>; names may contain "::".
        resource_name = urn.split("::", 3)[-1] if urn.count("::") >= 3 else ""
        if resource.get("type") == type_token and name in (None, resource_name):
            urns.append(urn)
    return urns


def main(argv: Sequence[str], stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    """Print the single matching URN; explain on stderr and return 1 otherwise."""
    if len(argv) not in (1, 2):
        stderr.write(__doc__ or "")
        return 2
    type_token, name = argv[0], (argv[1] if len(argv) == 2 else None)
    wanted = type_token if name is None else f"{type_token} named {name}"
    try:
        exported = json.load(stdin)
    except json.JSONDecodeError as error:
        stderr.write(f"error: stdin is not the JSON of `pulumi stack export`: {error}\n")
        return 1
    urns = matching_urns(exported, type_token, name)
    if len(urns) != 1:
        found = "no resource" if not urns else f"{len(urns)} resources ({', '.join(urns)})"
        stderr.write(f"error: the stack has {found} of type {wanted}; expected exactly one\n")
        return 1
    stdout.write(urns[0] + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], sys.stdin, sys.stdout, sys.stderr))
