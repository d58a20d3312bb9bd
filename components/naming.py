"""Stable child-resource names derived from free-form values (group names, logins, principals).

A child's name is part of its URN: it must not change when unrelated settings change, and two
values must never map to the same name. Changing this function renames (replaces) children.
"""

from __future__ import annotations

import hashlib
import re


def name_suffix(value: str) -> str:
    """A stable, name-safe suffix for one group name, login or principal.

    Lower-case, every run of other characters folded to ``-``, plus 8 hex digits of the SHA-256 of
    the exact string: ``Data Eng`` and ``data-eng`` fold to the same text but are different Okta
    groups, and their resources must not collide.
    """
    readable = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
    digest = hashlib.sha256(value.encode()).hexdigest()[:8]
    return f"{readable}-{digest}" if readable else digest
