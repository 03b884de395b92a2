"""Hot-path reads: a Core statement built once, with a public fast path on PostgreSQL.

The statement is written once with SQLAlchemy Core (one source of truth). On SQLite it runs
as any Core statement. On PostgreSQL it is compiled once, and each execution hands the SQL
straight to the pooled connection's asyncpg driver, which skips SQLAlchemy's per-execution
overhead (cache key, execution context, greenlet hops): on a page of fifty posts that
overhead is most of the request's CPU. Type processing is never skipped: every parameter
goes through its type's bind processor (the aware-UTC check of `UTCDateTime` included) and
every column through its result processor, both taken from the dialect with the public
`TypeEngine` API. Statements the plan cannot run as compiled (expanding IN parameters,
numeric columns whose processing depends on the driver's type codes) take the Core path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Dialect,
    Numeric,
    Select,
    Text,
    TypeDecorator,
    cast,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncConnection

Processor = Callable[[Any], Any]


class RawJSON(TypeDecorator[orjson.Fragment]):
    """A JSON column's stored text, handed to orjson as is: no parse, no re-encode."""

    impl = Text
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> orjson.Fragment | None:
        return None if value is None else orjson.Fragment(value)


def raw_json(column: ColumnElement[Any]) -> ColumnElement[orjson.Fragment]:
    """Select a JSON column for a response body only (the value is opaque to Python)."""
    return type_coerce(cast(column, Text), RawJSON()).label(column.key)


@dataclass(frozen=True, slots=True)
class DriverPlan:
    """The compiled SQL, its parameters in order with their bind processors, and the
    result processors by column position."""

    sql: str
    binds: tuple[tuple[str, Any, Processor | None], ...]  # name, default value, processor
    results: tuple[tuple[int, Processor], ...]

    @classmethod
    def compile(cls, statement: Select[Any], dialect: Dialect) -> DriverPlan | None:
        """None when the statement must take the Core path."""
        columns = statement.selected_columns
        if any(isinstance(c.type, Numeric) for c in columns):
            return None
        compiled = statement.compile(dialect=dialect)
        sql = str(compiled)
        if "POSTCOMPILE" in sql:
            return None
        binds = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            binds.append((name, bind.effective_value, processor))
        results = []
        for at, column in enumerate(columns):
            processor = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if processor is not None:
                results.append((at, processor))
        return cls(sql, tuple(binds), tuple(results))

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        values = []
        for name, default, processor in self.binds:
            value = params[name] if name in params else default
            values.append(value if processor is None else processor(value))
        return values

    def rows(self, records: Sequence[Sequence[Any]]) -> Sequence[Sequence[Any]]:
        if not self.results:
            return records
        rows = []
        for record in records:
            row = list(record)
            for at, processor in self.results:
                row[at] = processor(row[at])
            rows.append(row)
        return rows


class FastQuery:
    """A prebuilt read and its column names, in order."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self.keys: list[str] = [str(c.key) for c in statement.selected_columns]
        self._plans: dict[str, DriverPlan | None] = {}  # by dialect name; None: Core path

    async def fetch(
        self, connection: AsyncConnection, params: Mapping[str, Any]
    ) -> Sequence[Sequence[Any]]:
        """Rows as tuples in the order of `self.keys`."""
        plan = self._plan_for(connection.dialect)
        if plan is None:
            result = await connection.execute(self.statement, dict(params))
            rows: Sequence[Sequence[Any]] = result.all()
            return rows
        arguments = plan.arguments(params)
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        return plan.rows(await driver.fetch(plan.sql, *arguments))

    def _plan_for(self, dialect: Dialect) -> DriverPlan | None:
        if dialect.driver != "asyncpg":
            return None
        if dialect.name not in self._plans:
            self._plans[dialect.name] = DriverPlan.compile(self.statement, dialect)
        return self._plans[dialect.name]
