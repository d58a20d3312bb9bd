"""docs/configuration.md is what scripts/config_reference.py writes, and covers every key.

Regression guarded: a configuration reference written by hand drifts from the settings - a key
added to a model but not to the table, a default changed in one place only, an error example
that the program no longer prints. The reference is generated from the models' own declarations
(and its example error from running the validation), so the committed file must equal a fresh
generation, and every key the settings accept must have its row.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import get_origin

from pydantic import BaseModel

from components.settings import SECRET_KEYS, STRUCTURED_KEYS, StackSettings
from scripts import config_reference
from testkit.stacks import ROOT

REFERENCE = ROOT / "docs" / "configuration.md"


def accepted_keys(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Every key ``model`` accepts, as errors print it (``pachyderm-okta:okta.appLabel``)."""
    for name, info in model.model_fields.items():
        alias = info.alias or name
        key = f"{prefix}{alias}"
        candidates = [info.annotation, *getattr(info.annotation, "__args__", ())]
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if prefix and get_origin(info.annotation) is dict and nested:
            # Named entries of one shape (``auth.projects``): the mapping, and an entry's keys.
            yield key
            yield from accepted_keys(nested[0], f"{key}.<name>.")
        elif not prefix:  # a namespace: its keys are "namespace:key"
            yield from accepted_keys(nested[0], f"{alias}:")
        elif nested:
            yield from accepted_keys(nested[0], f"{key}.")
        else:
            yield key


def test_the_committed_reference_is_what_the_script_writes() -> None:
    assert REFERENCE.read_text() == config_reference.render(), (
        "docs/configuration.md is out of date: run ./venv/bin/python scripts/config_reference.py"
    )


def test_every_key_the_settings_accept_has_a_row_with_a_meaning() -> None:
    rows = {row.key: row for row in config_reference.every_row()}
    accepted = set(accepted_keys(StackSettings))

    assert accepted - set(rows) == set()
    assert {key for key, row in rows.items() if not row.meaning} == set()
    assert accepted | SECRET_KEYS | STRUCTURED_KEYS <= {
        key for key in rows if f"| `{key}` |" in REFERENCE.read_text()
    }
