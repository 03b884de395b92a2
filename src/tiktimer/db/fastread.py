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
from sqlalchemy import JSON, ColumnElement, Dialect, Select, Text, TypeDecorator, cast, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection


class RawJSON(TypeDecorator[orjson.Fragment]):
    """A JSON column's stored text, handed to orjson as is: no parse, no re-encode."""

    impl = Text
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> orjson.Fragment | None:
        return None if value is None else orjson.Fragment(value)


def raw_json(column: ColumnElement[Any]) -> ColumnElement[orjson.Fragment]:
    """Select a JSON column for a response body only (the value is opaque to Python)."""
    return type_coerce(cast(column, Text), RawJSON()).label(column.key)


class FastQuery:
    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self.keys: list[str] = [str(c.key) for c in statement.selected_columns]
        columns = list(statement.selected_columns)
        self._json_at = [i for i, c in enumerate(columns) if isinstance(c.type, JSON)]
        self._raw_json_at = [i for i, c in enumerate(columns) if isinstance(c.type, RawJSON)]
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
        if not self._json_at and not self._raw_json_at:
            return list(records)
        rows = []
        for record in records:
            row = list(record)
            for i in self._json_at:
                if isinstance(row[i], str | bytes):  # the driver's codec may decode already
                    row[i] = orjson.loads(row[i])
            for i in self._raw_json_at:
                if row[i] is not None:
                    row[i] = orjson.Fragment(row[i])
            rows.append(row)
        return rows

    def _compiled(self, connection: AsyncConnection) -> tuple[str, list[str]]:
        if self._postgres is None:
            compiled = self.statement.compile(dialect=connection.dialect)
            self._postgres = (str(compiled), list(compiled.positiontup or ()))
        return self._postgres
