"""The package's layers: every import (type-only and inside functions included) points down.

``docs/architecture.md`` describes the layers. A module may import modules of its own
subpackage and of layers below its own; never a layer above, never another subpackage of
the same rank, and the import graph has no cycle at all (so no import inside a function can
be there to dodge one).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "autoenc"

#: subpackage -> rank; a module may import ranks strictly below its own (or its own subpackage).
LAYERS = {
    "core": 0,
    "nets": 1,
    "data": 1,
    "models": 2,
    "runs": 3,
    "measure": 3,
    "training": 4,
    "render": 4,
    "features": 5,
    "workflows": 6,
    "cli": 7,
}
TOP = 8  # autoenc/__init__.py (the lazy public API) and autoenc/__main__.py


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ["autoenc", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _target(name: str) -> str | None:
    """The autoenc module an imported dotted name lives in (None: not autoenc's)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = parts[: len(parts) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            target = _target(name) if name.split(".")[0] == "autoenc" else None
            if target and target != module:
                found.add(target)
    return found


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _layer(module: str) -> tuple[str, int]:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] not in LAYERS:
        return ("", TOP)
    return parts[1], LAYERS[parts[1]]


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(GRAPH.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return found


def test_every_module_is_in_a_layer():
    subpackages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert subpackages <= set(LAYERS), f"add {sorted(subpackages - set(LAYERS))} to LAYERS and docs/architecture.md"
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in {"__init__.py", "__main__.py"})
    assert not loose, f"modules outside a layer: {loose}"


def test_imports_point_down():
    upward = []
    for module, targets in GRAPH.items():
        name, rank = _layer(module)
        for target in targets:
            target_name, target_rank = _layer(target)
            if name and target_name == name:
                continue
            if target_rank >= rank:
                upward.append(f"{module} -> {target}")
    assert not upward, "imports that do not point down:\n" + "\n".join(sorted(upward))


def test_no_import_cycles():
    cycles = _cycles()
    assert not cycles, "import cycles (type-only and in-function imports count):\n" + "\n".join(
        " <-> ".join(c) for c in cycles)


def test_module_names_are_not_repeated():
    names: dict[str, list[str]] = {}
    for module, path in MODULES.items():
        if path.name != "__init__.py":
            names.setdefault(module.rpartition(".")[2], []).append(module)
    repeated = {leaf: mods for leaf, mods in names.items() if len(mods) > 1}
    assert not repeated, f"module names used twice: {repeated}"


def test_the_checker_sees_imports_of_every_kind(tmp_path):
    # type-only and in-function imports are edges too, relative ones resolved
    source = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from autoenc.core import errors\n"
              "def f():\n    from .. import cli\n")
    path = tmp_path / "mod.py"
    path.write_text(source)
    assert _imports("autoenc.measure.codes", path) == {"autoenc.core.errors", "autoenc.cli"}


@pytest.mark.parametrize("library", ["matplotlib"])
def test_plotting_only_in_render(library: str) -> None:
    users = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text())
        uses = any(isinstance(n, ast.Import) and any(a.name.split(".")[0] == library for a in n.names)
                   or isinstance(n, ast.ImportFrom) and (n.module or "").split(".")[0] == library
                   for n in ast.walk(tree))
        if uses and _layer(module)[0] != "render":
            users.append(module)
    assert users == []
