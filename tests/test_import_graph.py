"""Imports in ``components/`` flow one way: no cycle, and the Helm values builder stands alone.

Imports are read with ``ast`` (nothing is executed), ``if TYPE_CHECKING:`` imports included: a
cycle that only type checking sees is still two modules that cannot be understood apart. The Helm
values builder takes the settings through a protocol and the settings validate values with the
builder's table of owned values (docs/decisions.md, decision 24), so the builder never imports the
settings.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

from testkit.stacks import ROOT

COMPONENTS = ROOT / "components"


def _modules() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for path in sorted(COMPONENTS.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _imported(module: str, path: Path, known: Mapping[str, Path]) -> set[str]:
    """Modules of ``components`` that ``module`` imports (``from pkg import mod`` counts mod)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name in known and name != module}


def import_graph() -> dict[str, set[str]]:
    """``module -> modules of components it imports``."""
    known = _modules()
    return {module: _imported(module, path, known) for module, path in known.items()}


def find_cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """One import cycle (``[a, b, ..., a]``), or ``None``."""
    done: set[str] = set()

    def visit(module: str, trail: list[str]) -> list[str] | None:
        if module in trail:
            return [*trail[trail.index(module) :], module]
        if module in done:
            return None
        for imported in sorted(graph.get(module, ())):
            cycle = visit(imported, [*trail, module])
            if cycle:
                return cycle
        done.add(module)
        return None

    for module in sorted(graph):
        cycle = visit(module, [])
        if cycle:
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "import components.urls\n"
        "from components import naming\n"
        "from .pachd import Connection\n"
        "if TYPE_CHECKING:\n"
        "    from components.dex import OKTA_CONNECTOR_SCOPES\n"
    )
    known = _modules()
    found = _imported("components.pachyderm_auth.probe", module, known)
    assert found == {
        "components",
        "components.urls",
        "components.naming",
        "components.pachyderm_auth.pachd",
        "components.dex",
    }


def test_components_have_no_import_cycle() -> None:
    assert find_cycle(import_graph()) is None


def test_the_helm_values_builder_does_not_import_the_settings() -> None:
    graph = import_graph()
    for builder in ("components.helm_values", "components.helm_owned_values"):
        assert not any(name.startswith("components.settings") for name in graph[builder])
