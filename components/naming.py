"""Stable child-resource names derived from free-form values (group names, logins, principals).

A child's name is part of its URN: it must not change when unrelated settings change, and two
values must never map to the same name. So: a readable slug plus a short hash of the exact value.
"""

from __future__ import annotations

import hashlib
import re


def name_suffix(value: str) -> str:
    """``"group:Data Engineers"`` -> ``"group-data-engineers-1a2b3c"``: readable, unique, stable."""
    slug = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")[:40] or "x"
    digest = hashlib.sha256(value.encode()).hexdigest()[:6]
    return f"{slug}-{digest}"
