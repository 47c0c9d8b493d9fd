"""The package's layers point one way (DESIGN.md): no module outside ``cli/`` imports
``cli/``, plotting libraries only in ``analysis/plots``, and no import cycles, counting the
imports inside functions too (a cycle hidden there is still a cycle)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "autoenc"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The autoenc modules ``path`` imports, anywhere in the file (``from x import y`` counts
    ``x.y`` when that is a module, else ``x``)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    tree = ast.parse(path.read_text())
    type_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If) and _is_type_checking(block.test)
                 for stmt in block.body for n in ast.walk(stmt)}
    for node in ast.walk(tree):
        if id(node) in type_only:  # `if TYPE_CHECKING:` imports never run
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found |= {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names}
    return {m for m in found if m in modules and m != name}


def _is_type_checking(test: ast.expr) -> bool:
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING" or \
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def graph() -> dict[str, set[str]]:
    files = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(f) for f in files}
    return {module_name(f): imports_of(f, modules) for f in files}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    edges = {m: {d for d in deps if not _is_parent_package(d, m)} for m, deps in graph().items()}
    assert cycles(edges) == []


def _is_parent_package(dep: str, module: str) -> bool:
    """A package's ``__init__`` re-exporting its modules is not a cycle with them."""
    return module.startswith(dep + ".") or dep.startswith(module + ".")


def test_nothing_below_the_cli_imports_it() -> None:
    offenders = {m: sorted(d for d in deps if d == "autoenc.cli" or d.startswith("autoenc.cli."))
                 for m, deps in graph().items()
                 if not (m in ("autoenc.cli", "autoenc.__main__") or m.startswith("autoenc.cli."))}  # __main__: the command
    assert {m: d for m, d in offenders.items() if d} == {}


@pytest.mark.parametrize("library", ["matplotlib"])
def test_plotting_only_in_analysis_plots(library: str) -> None:
    users = []
    for path in PACKAGE.rglob("*.py"):
        name = module_name(path)
        tree = ast.parse(path.read_text())
        uses = any(isinstance(n, ast.Import) and any(a.name.split(".")[0] == library for a in n.names)
                   or isinstance(n, ast.ImportFrom) and (n.module or "").split(".")[0] == library
                   for n in ast.walk(tree))
        if uses and not name.startswith("autoenc.analysis.plots"):
            users.append(name)
    assert users == []


def test_the_graph_sees_imports_inside_functions() -> None:
    edges = graph()
    assert "autoenc.training.checkpoints" in edges["autoenc.runs"]  # imported inside Run.open
