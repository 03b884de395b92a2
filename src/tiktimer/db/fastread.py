"""Hot-path reads: a Core statement built once, with a public fast path on PostgreSQL.

This is the Core hot path, not a way of its own: the statement is SQLAlchemy Core, the
driver path (`prebuilt.runs_compiled_on_driver`, `prebuilt.DriverPlan`) only skips
per-execution bookkeeping.

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

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Dialect,
    Select,
    Text,
    TypeDecorator,
    cast,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from tiktimer.db.prebuilt import DriverPlan, runs_compiled_on_driver


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
        if not runs_compiled_on_driver(dialect):
            return None
        if dialect.name not in self._plans:
            self._plans[dialect.name] = DriverPlan.compile(self.statement, dialect)
        return self._plans[dialect.name]
