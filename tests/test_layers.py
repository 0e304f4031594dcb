"""The app's layering, read from its source: shared/ never imports handlers/, and no module imports itself back."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ("shared", "handlers")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    module_name(path): path
    for path in [*(p for package in APP for p in (ROOT / package).rglob("*.py")), ROOT / "function_app.py"]
}


def imported(name: str, path: Path) -> Iterator[str]:
    """Every app module that `name` imports, wherever the import is (lazy ones too), except under TYPE_CHECKING.

    `from package import module` counts as importing the module; a package's own parents are not counted, since
    importing any module imports them.
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            node.body = []  # imports for annotations only: not a dependency at run time
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        for target in targets:
            if target in MODULES and target != name and not name.startswith(target + "."):
                yield target


GRAPH = {name: set(imported(name, path)) for name, path in MODULES.items()}


def cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for successor in GRAPH[node]:
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while (member := stack.pop()) != node:
                component.append(member)
            if component:
                found.append(sorted([node, *component]))

    for node in GRAPH:
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_the_imports():
    assert "shared.engine" in GRAPH["handlers"]
    assert "handlers.ivr.steps" in GRAPH["handlers.ivr.menu"]
    assert "shared.api_runtime" in GRAPH["shared.api"]  # imported inside a function: still a dependency
    assert "shared.acs" not in GRAPH["shared.context"]  # under TYPE_CHECKING: not one


def test_no_import_cycles():
    assert cycles() == []


def test_shared_never_imports_handlers():
    upward = {(name, target) for name, targets in GRAPH.items() if name.startswith("shared") for target in targets}
    assert {(name, target) for name, target in upward if target.startswith("handlers")} == set()
