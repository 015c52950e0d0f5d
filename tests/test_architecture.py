"""The shape of the code, checked: few flat modules in bot/, no private names imported across
modules, and the core answering without any first-party import hidden inside a function.

The import-linter contracts in pyproject.toml (``lint-imports`` in CI) check the layers, the
forbidden SDK imports and cycles; these checks cover what import-linter does not.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "knowledge", "adapters")
FIRST_PARTY = PACKAGES
MAX_FLAT_MODULES = 12


def sources(*tops: str) -> Iterator[Path]:
    for top in tops:
        yield from sorted((ROOT / top).rglob("*.py"))


def imports(tree: ast.AST) -> Iterator[tuple[ast.ImportFrom | ast.Import, bool]]:
    """Every import statement, with whether it sits inside a function."""
    def walk(node: ast.AST, in_function: bool) -> Iterator[tuple[ast.ImportFrom | ast.Import,
                                                                  bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, in_function
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            yield from walk(child, inner)
    yield from walk(tree, False)


def first_party(node: ast.ImportFrom | ast.Import) -> list[str]:
    names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [
        a.name for a in node.names]
    return [n for n in names if n.split(".")[0] in FIRST_PARTY]


def test_bot_has_at_most_twelve_flat_modules() -> None:
    flat = sorted(p.name for p in (ROOT / "bot").glob("*.py"))
    assert len(flat) <= MAX_FLAT_MODULES, flat


@pytest.mark.parametrize("path", list(sources(*PACKAGES, "tests")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_name_is_imported_across_modules(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    private = [f"{node.module}.{alias.name}" for node, _ in imports(tree)
               if isinstance(node, ast.ImportFrom) and first_party(node)
               for alias in node.names if alias.name.startswith("_")]
    assert private == []


@pytest.mark.parametrize("path", list(sources("bot", "knowledge", "adapters")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_first_party_imports_are_at_module_level(path: Path) -> None:
    """Imports inside functions used to hide import cycles. The one exception is
    bot/app/serve.py, which imports an adapter only when its credentials are set (so that the
    other commands never load a chat SDK)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hidden = [name for node, in_function in imports(tree) if in_function
              for name in first_party(node)]
    if path == ROOT / "bot/app/serve.py":
        hidden = [n for n in hidden if not n.startswith("adapters")]
    assert hidden == []


def test_no_import_cycle_among_first_party_modules() -> None:
    """Module by module, function-level imports included (grimp reads every import)."""
    graph = grimp.build_graph(*PACKAGES)
    edges = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[str] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges.get(module, ())):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*path[path.index(target):], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert cycles == []
