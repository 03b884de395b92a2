"""The queue's connections: what a step runs in decides its round trips.

`Writes` (`db/dialect.py`) owns the difference: on SQLite a transaction is
`BEGIN IMMEDIATE` (the write lock taken up front); on PostgreSQL a step that is one
statement runs in autocommit, atomic without BEGIN/COMMIT round trips.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import literal

from tiktimer.db.dialect import Writes, json_append


class QueueDatabase(Writes):
    """The engine of the queue and the two ways its statements run (`transaction`,
    `one_statement`)."""

    def append(self, column: Any, value: str | None) -> Any:
        return column if value is None else json_append(column, literal(value))
