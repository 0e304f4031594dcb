"""Layers and cycles: each package imports only the packages below it, and no module imports itself back.

Imports inside functions count (a deferred import is still a dependency, and hiding a cycle in a function is how
cycles creep in); `if TYPE_CHECKING:` imports never run and do not count.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("bench", "devhost", "emulator", "fuzz", "handlers", "receiver", "shared", "tests")
TOP_LEVEL_MODULES = ("function_app",)
# The repository packages each package may import besides itself (tests may import anything). The emulator plays ACS
# and knows nothing of the app; the app's packages know nothing of the local stand-ins that run it.
ALLOWED_IMPORTS = {
    "shared": set(),
    "handlers": {"shared"},
    "function_app": {"handlers", "shared"},
    "emulator": set(),
    "receiver": {"shared"},
    "devhost": {"emulator", "receiver", "shared"},
    "bench": {"devhost", "emulator", "shared"},
    "fuzz": {"devhost"},
}


def module_files() -> dict[str, Path]:
    """Every module of the repository by dotted name (a package by its __init__.py)."""
    files = {name: REPO / f"{name}.py" for name in TOP_LEVEL_MODULES}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = path.relative_to(REPO).with_suffix("").parts
            files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return files


def _is_type_checking_block(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(node: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """The import statements anywhere under `node`, leaving out the bodies of `if TYPE_CHECKING:`."""
    found: list[ast.Import | ast.ImportFrom] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            found.append(child)
        elif _is_type_checking_block(child):
            assert isinstance(child, ast.If)
            found.extend(imp for branch in child.orelse for imp in _runtime_imports(ast.Module([branch], [])))
        else:
            found.extend(_runtime_imports(child))
    return found


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The repository modules `name` imports: `from a import b` names a.b when that is a module, else a."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for statement in _runtime_imports(ast.parse(path.read_text(), str(path))):
        if isinstance(statement, ast.Import):
            targets.update(alias.name for alias in statement.names)
            continue
        base = package.split(".")[: len(package.split(".")) - statement.level + 1] if statement.level else []
        source = ".".join([*base, *([statement.module] if statement.module else [])])
        for alias in statement.names:
            submodule = f"{source}.{alias.name}"
            targets.add(submodule if submodule in known else source)
    return targets & known - {name}


@functools.cache
def import_graph() -> dict[str, set[str]]:
    """Each repository module and the repository modules it imports (read once per session)."""
    files = module_files()
    known = set(files)
    return {name: imported_modules(name, path, known) for name, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = lowlink[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            successor = next(successors, None)
            if successor is None:
                work.pop()
                if work:
                    parent = work[-1][0]
                    lowlink[parent] = min(lowlink[parent], lowlink[node])
                if lowlink[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
            elif successor not in index:
                index[successor] = lowlink[successor] = len(index)
                stack.append(successor)
                on_stack.add(successor)
                work.append((successor, iter(sorted(graph[successor]))))
            elif successor in on_stack:
                lowlink[node] = min(lowlink[node], index[successor])
    return components


def _package(module: str) -> str:
    return module.split(".", 1)[0]


@pytest.mark.parametrize("package", list(ALLOWED_IMPORTS))
def test_each_package_imports_only_the_layers_below_it(package: str) -> None:
    graph = import_graph()
    allowed = ALLOWED_IMPORTS[package] | {package}
    stray = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if _package(module) == package
        for target in targets
        if _package(target) not in allowed
    )
    assert not stray, f"{package} may import only {sorted(allowed)}:\n" + "\n".join(stray)


def test_every_package_has_its_layer() -> None:
    assert {_package(module) for module in import_graph()} - {"tests"} == set(ALLOWED_IMPORTS)


def test_no_module_imports_itself_back() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles (move what both sides need to a lower module):\n" + "\n".join(
        " <-> ".join(component) for component in found
    )


def test_a_cycle_through_an_import_inside_a_function_is_found(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text("from pkg import control\n")
    control = tmp_path / "control.py"
    control.write_text("def backend():\n    from pkg.app import KEY\n    return KEY\n")
    known = {"pkg.app", "pkg.control"}
    graph = {
        "pkg.app": imported_modules("pkg.app", app, known),
        "pkg.control": imported_modules("pkg.control", control, known),
    }
    assert cycles(graph) == [["pkg.app", "pkg.control"]]


def test_type_checking_imports_do_not_count(tmp_path: Path) -> None:
    models = tmp_path / "models.py"
    models.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .delivery import Sender\n")
    assert imported_modules("pkg.models", models, {"pkg.models", "pkg.delivery"}) == set()


def test_from_a_package_import_a_submodule_names_the_submodule(tmp_path: Path) -> None:
    init = tmp_path / "__init__.py"
    init.write_text("from . import media\nfrom .media import play\nfrom ..other import thing\n")
    known = {"pkg.sub", "pkg.sub.media", "pkg.sub.media.play", "pkg.other"}
    assert imported_modules("pkg.sub", init, known) == {"pkg.sub.media", "pkg.sub.media.play", "pkg.other"}
