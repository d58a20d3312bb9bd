"""A tiny dynamic provider that proves ``testkit.dynamic_host`` across a process boundary.

It lives in an importable module so ``dill`` pickles it *by reference* (``testkit.
toy_provider.ToyProvider``), exactly like the project's real providers; the host therefore has to
run with the project root as ``cwd``.

Every call appends an entry to a JSON journal whose path is the ``counter_file`` prop and bumps
its ``counter``; entries record ``type(x).__name__`` of everything the provider received, so
tests can see int-to-float coercion, dropped ``None`` keys and ``Unknown`` values.

Props understood (all optional except ``counter_file``):

* ``value``: a number; ``check`` fails it when negative. ``name``: changing it forces replacement.
* ``fail_in``: ``"check"``/``"diff"``/``"create"``/``"read"``/``"update"``/``"delete"`` makes that
  method raise ``RuntimeError(fail_message)``.
* ``log``: ``create`` prints ``toy create: <log>`` to stderr.
* ``diff_unknown``: ``diff`` answers ``DiffResult()`` (changes unknown).
* ``read_inputs``: ``read`` also returns ``ReadResult.inputs``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown

PROVIDER_KEY = "__provider"
REPLACE_KEYS = frozenset({"name"})
CONTROL_KEYS = frozenset({PROVIDER_KEY, "counter_file"})
OUTPUT_ONLY_KEYS = frozenset({"counter", "types", "greeting", "previous_value", "refreshed"})

_JOURNAL_LOCK = threading.Lock()


def type_tree(value: Any) -> Any:
    """Replace every leaf of ``value`` with its type name (dicts and lists keep their shape)."""
    if isinstance(value, dict):
        return {key: type_tree(item) for key, item in value.items()}
    if isinstance(value, list):
        return [type_tree(item) for item in value]
    return type(value).__name__


def read_journal(path: str | Path) -> dict[str, Any]:
    """Load the journal (``{"counter": int, "calls": [...], "deleted": [...]}``)."""
    journal_path = Path(path)
    if not journal_path.exists():
        return {"counter": 0, "calls": [], "deleted": []}
    data: dict[str, Any] = json.loads(journal_path.read_text())
    return data


def _record(props: dict[str, Any], entry: dict[str, Any], *, deleted: str | None = None) -> int:
    """Append ``entry`` to the journal named by ``props["counter_file"]``; return the counter."""
    path = props.get("counter_file")
    if not isinstance(path, str):
        return 0
    with _JOURNAL_LOCK:
        journal = read_journal(path)
        journal["counter"] += 1
        journal["calls"].append({**entry, "counter": journal["counter"]})
        if deleted is not None:
            journal["deleted"].append(deleted)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", suffix=".tmp")
        with os.fdopen(fd, "w") as handle:
            json.dump(journal, handle)
        os.replace(tmp, path)
        counter: int = journal["counter"]
        return counter


def _user_props(props: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in props.items() if key != PROVIDER_KEY}


def _maybe_fail(props: dict[str, Any], method: str) -> None:
    if props.get("fail_in") == method:
        raise RuntimeError(str(props.get("fail_message", f"toy {method} failed")))


class ToyProvider(ResourceProvider):
    """Stateless at pickle time; ``configure`` stores the ``greeting`` config in the host."""

    greeting: str | None = None

    def configure(self, req: ConfigureRequest) -> None:
        """Remember ``<project>:greeting`` so ``create`` can prove configure ran."""
        self.greeting = req.config.get("greeting")

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Record the types seen; fail a negative ``value``; add ``checked: True``."""
        _record(news, {"op": "check", "types": type_tree(_user_props(news))})
        _maybe_fail(news, "check")
        failures = []
        value = news.get("value")
        if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
            failures.append(CheckFailure("value", "value must be >= 0"))
        return CheckResult({**news, "checked": True}, failures)

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        """Compare user inputs; ``name`` changes replace; unknown new values count as changes."""
        _record(_news, {"op": "diff", "id": _id, "types": type_tree(_user_props(_news))})
        _maybe_fail(_news, "diff")
        if _news.get("diff_unknown"):
            return DiffResult()
        keys = (set(_olds) | set(_news)) - CONTROL_KEYS - OUTPUT_ONLY_KEYS
        changed = sorted(
            key
            for key in keys
            if isinstance(_news.get(key), Unknown) or _olds.get(key) != _news.get(key)
        )
        replaces = [key for key in changed if key in REPLACE_KEYS]
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=["counter_file"],
            delete_before_replace=True if replaces else None,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Bump the counter and return ``toy-<counter>`` with the inputs echoed plus types."""
        _maybe_fail(props, "create")
        if "log" in props:
            print(f"toy create: {props['log']}", file=sys.stderr)
        user = _user_props(props)
        counter = _record(props, {"op": "create", "types": type_tree(user)})
        outs = {**user, "counter": counter, "types": type_tree(user), "greeting": self.greeting}
        return CreateResult(f"toy-{counter}", outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Return the stored outputs marked ``refreshed``, or an empty id once deleted."""
        _maybe_fail(props, "read")
        counter = _record(props, {"op": "read", "id": id_})
        if id_ in read_journal(str(props.get("counter_file", ""))).get("deleted", []):
            return ReadResult(None, {})
        outs = {**_user_props(props), "counter": counter, "refreshed": True}
        inputs = None
        if props.get("read_inputs"):
            inputs = {
                key: value
                for key, value in _user_props(props).items()
                if key not in OUTPUT_ONLY_KEYS
            }
        return ReadResult(id_, outs, inputs)

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        """Bump the counter and return full outputs (the host would otherwise wipe them)."""
        _maybe_fail(_news, "update")
        user = _user_props(_news)
        counter = _record(_news, {"op": "update", "id": _id, "types": type_tree(user)})
        outs = {
            **user,
            "counter": counter,
            "types": type_tree(user),
            "greeting": self.greeting,
            "previous_value": _olds.get("value"),
        }
        return UpdateResult(outs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Record the id as deleted so a later ``read`` reports the resource gone."""
        _maybe_fail(_props, "delete")
        _record(_props, {"op": "delete", "id": _id}, deleted=_id)
