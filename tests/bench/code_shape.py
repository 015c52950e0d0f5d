"""Prints the shape of the code: modules per package, flat modules in bot/, lines per module,
and function lengths (median, 90th percentile, the longest), for this tree or another one.

    python tests/bench/code_shape.py [ROOT]

A function's length is its lines from ``def`` to its last statement, docstring included, as the
median of 7-12 lines in bolt-python, botbuilder and llm was counted (STYLE.md).
"""

from __future__ import annotations

import ast
import statistics
import sys
from pathlib import Path

PACKAGES = ("bot", "knowledge", "adapters")


def functions(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            out.append((length, f"{path}:{node.lineno} {node.name}"))
    return out


def main(root: Path) -> None:
    modules = [p for top in PACKAGES for p in sorted((root / top).rglob("*.py"))
               if "samples" not in p.parts]
    flat = sorted(p.name for p in (root / "bot").glob("*.py"))
    found = [f for p in modules for f in functions(p)]
    lengths = sorted(n for n, _ in found)
    lines = sorted(len(p.read_text(encoding="utf-8").splitlines()) for p in modules)
    print(f"tree: {root}")
    for top in PACKAGES:
        print(f"  {top}/: {sum(1 for p in modules if p.relative_to(root).parts[0] == top)} modules")
    print(f"  flat modules in bot/: {len(flat)} ({', '.join(flat)})")
    print(f"  lines per module: median {statistics.median(lines):.0f}, max {lines[-1]}")
    print(f"  functions: {len(lengths)}; length median {statistics.median(lengths):.0f}, "
          f"p90 {lengths[int(0.9 * (len(lengths) - 1))]}, max {lengths[-1]}")
    for n, where in sorted(found, reverse=True)[:3]:
        print(f"    longest: {n} lines  {where}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]))
