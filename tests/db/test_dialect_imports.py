"""The database's differences stay in `tiktimer.db`, and only public SQLAlchemy is used.

`lint-imports` holds the drivers (asyncpg, aiosqlite) to `tiktimer.db`, but it sees an
external package as its root only, so `sqlalchemy.dialects.*` is checked here by reading
the sources. Migrations are Alembic's, written per revision, and stay out of it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import tiktimer

SRC = Path(tiktimer.__file__).parent
OUTSIDE_DB = [
    path
    for path in sorted(SRC.rglob("*.py"))
    if path.relative_to(SRC).parts[0] not in ("db", "migrations")
]
DIALECT_NAME = re.compile(r"""dialect\.name\s*[!=]=|["'](sqlite|postgresql)["']\s*(==|!=|in\b)""")


def _imported(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def test_only_tiktimer_db_imports_sqlalchemy_dialects() -> None:
    offenders = [
        f"{path.relative_to(SRC)}: {name}"
        for path in OUTSIDE_DB
        for name in _imported(path)
        if name.startswith("sqlalchemy.dialects") or name.split(".")[0] in ("asyncpg", "aiosqlite")
    ]
    assert offenders == []


def test_nothing_outside_tiktimer_db_branches_on_the_dialect_name() -> None:
    offenders = [
        f"{path.relative_to(SRC)}:{number}: {line.strip()}"
        for path in OUTSIDE_DB
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if DIALECT_NAME.search(line)
    ]
    assert offenders == []


def test_no_private_sqlalchemy_api() -> None:
    """No `_`-prefixed SQLAlchemy module or name is imported, and `sqlalchemy.util` (whose
    contents are internal) is not used at all."""
    offenders = [
        f"{path.relative_to(SRC)}: {name}"
        for path in sorted(SRC.rglob("*.py"))
        for name in _imported(path)
        if name.startswith("sqlalchemy")
        and (any(part.startswith("_") for part in name.split(".")) or ".util" in name)
    ]
    assert offenders == []
