"""Hot-path reads: run a Core statement straight through asyncpg on PostgreSQL.

The statement is still written once with SQLAlchemy Core (one source of truth), compiled
once per dialect, and executed on the pooled connection's asyncpg driver, which skips
SQLAlchemy's per-execution and per-row overhead: on a page of fifty posts that overhead is
most of the request's CPU. Other databases take the ordinary Core path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import JSON, Select
from sqlalchemy.ext.asyncio import AsyncConnection


class FastQuery:
    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self.keys: list[str] = [str(c.key) for c in statement.selected_columns]
        self._json_at = [
            i for i, c in enumerate(statement.selected_columns) if isinstance(c.type, JSON)
        ]
        self._postgres: tuple[str, list[str]] | None = None

    async def fetch(
        self, connection: AsyncConnection, params: Mapping[str, Any]
    ) -> Sequence[Sequence[Any]]:
        """Rows as tuples in the order of `self.keys`."""
        if connection.dialect.name != "postgresql":
            result = await connection.execute(self.statement, dict(params))
            return list(result.all())
        sql, names = self._compiled(connection)
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        records = await driver.fetch(sql, *(params[name] for name in names))
        if not self._json_at:
            return list(records)
        rows = []
        for record in records:
            row = list(record)
            for i in self._json_at:
                if isinstance(row[i], str | bytes):  # the driver's codec may decode already
                    row[i] = orjson.loads(row[i])
            rows.append(row)
        return rows

    def _compiled(self, connection: AsyncConnection) -> tuple[str, list[str]]:
        if self._postgres is None:
            compiled = self.statement.compile(dialect=connection.dialect)
            self._postgres = (str(compiled), list(compiled.positiontup or ()))
        return self._postgres
