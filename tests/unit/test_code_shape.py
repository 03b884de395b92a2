"""The size limits the codebase keeps (ARCHITECTURE.md): small files, short functions.

Migrations are generated schema history and exempt.
"""

from __future__ import annotations

import ast
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "src" / "tiktimer"
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 50


def _modules() -> list[Path]:
    return sorted(p for p in SOURCE.rglob("*.py") if "migrations" not in p.parts)


def _long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            length = (node.end_lineno or node.lineno) - first + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{node.name} ({length} lines)")
    return found


def test_the_source_tree_is_found() -> None:
    assert len(_modules()) > 100


def test_no_file_is_too_long() -> None:
    too_long = {}
    for path in _modules():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_FILE_LINES:
            too_long[str(path.relative_to(SOURCE))] = lines
    assert too_long == {}


def test_no_function_is_too_long() -> None:
    too_long = {
        str(p.relative_to(SOURCE)): found for p in _modules() if (found := _long_functions(p))
    }
    assert too_long == {}
