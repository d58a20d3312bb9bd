"""The settings package's shape: small modules, and no import cycle through it.

Guards against the settings and the Helm values builder growing back into one another (the
settings validate Helm values with the builder's table of owned values; the builder takes the
settings through a protocol), and against a settings module growing past what a reader takes in
at once. Imports are read from the source, including those under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from testkit.stacks import ROOT

COMPONENTS = ROOT / "components"
MAX_LINES = 300


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in COMPONENTS.rglob("*.py")}


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The ``components`` modules ``path`` imports (``from components import urls`` is a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = [f"{node.module}.{alias.name}" for alias in node.names]
            names = [node.module, *(name for name in submodules if name in modules)]
        else:
            continue
        found.update(name for name in names if name in modules)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for imported in sorted(graph[module]):
            if state.get(imported) == "open":
                cycles.append([*path[path.index(imported) :], imported])
            elif imported not in state:
                visit(imported, [*path, imported])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return cycles


def test_no_import_cycle_runs_through_the_settings_or_the_helm_values() -> None:
    modules = _modules()
    graph = {name: _imports(path, modules) - {name} for name, path in modules.items()}
    # A package's __init__ importing its own submodules is how it re-exports them, not a cycle.
    for name in graph:
        graph[name] = {imported for imported in graph[name] if not imported.startswith(name + ".")}
    involved = ("components.settings", "components.helm_values", "components.helm_owned_values")
    cycles = [cycle for cycle in _cycles(graph) if any(m.startswith(involved) for m in cycle)]
    assert cycles == []


def test_helm_values_builder_does_not_import_the_settings() -> None:
    modules = _modules()
    for name in ("components.helm_values", "components.helm_owned_values"):
        assert not any(
            imported.startswith("components.settings")
            for imported in _imports(modules[name], modules)
        )


def test_settings_modules_are_small() -> None:
    paths = [*(COMPONENTS / "settings").glob("*.py"), *COMPONENTS.glob("helm_*.py")]
    sizes = {path.name: len(path.read_text().splitlines()) for path in paths}
    assert {name: size for name, size in sizes.items() if size > MAX_LINES} == {}
    assert len(sizes) >= 9
