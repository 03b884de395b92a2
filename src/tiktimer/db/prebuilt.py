"""Core statements compiled once, run straight on the driver where that is safe.

This is the Core hot path, prebuilt, not a way of its own: each statement is written once
with SQLAlchemy Core (or `text()` with typed bind parameters). On asyncpg it is compiled
once per dialect, and each execution hands the SQL straight to the pooled connection's
driver, which skips SQLAlchemy's per-execution bookkeeping (cache key, execution context,
greenlet hops, result object). Type processing is never skipped: every parameter goes
through its type's bind processor (the aware-UTC check of `UTCDateTime` included) and
every selected column through its result processor, both taken from the dialect with the
public `TypeEngine` API. Elsewhere (SQLite) and for statements the plan cannot run as
compiled (expanding IN parameters, numeric columns), it runs as any Core statement.

`FastQuery` (`db/fastread.py`) is the read side; `FastStatement` also runs writes inside
the caller's transaction (the pacing grants and re-stamps, once per post each).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect, Executable, Numeric
from sqlalchemy.ext.asyncio import AsyncConnection

Processor = Callable[[Any], Any]


def runs_compiled_on_driver(dialect: Dialect) -> bool:
    """Whether a prebuilt statement may hand its compiled SQL to the driver (asyncpg), with
    every parameter and column still through its type's processing."""
    return dialect.driver == "asyncpg"


@dataclass(frozen=True, slots=True)
class DriverPlan:
    """The compiled SQL, its parameters in order with their bind processors, and the
    result processors by column position."""

    sql: str
    binds: tuple[tuple[str, Any, Processor | None], ...]  # name, default value, processor
    results: tuple[tuple[int, Processor], ...]

    @classmethod
    def compile(cls, statement: Executable, dialect: Dialect) -> DriverPlan | None:
        """None when the statement must take the Core path."""
        columns = list(getattr(statement, "selected_columns", ()))
        if any(isinstance(c.type, Numeric) for c in columns):
            return None
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
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


class FastStatement:
    """A prebuilt statement run inside the caller's connection and transaction.

    It goes to the driver only when the driver itself is where the statement must run: in
    a transaction the driver has begun, or on an autocommit connection. Inside an
    `engine.begin()` whose BEGIN SQLAlchemy has not sent yet (it is sent with the first
    statement), it takes the Core path, so the transaction starts exactly as it would.
    """

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._plans: dict[str, DriverPlan | None] = {}  # by dialect name; None: Core path

    async def rows(
        self, connection: AsyncConnection, params: Mapping[str, Any]
    ) -> Sequence[Sequence[Any]]:
        """The statement's rows (a select, or RETURNING) as tuples in column order."""
        driver, plan = await self._driver(connection)
        if driver is None or plan is None:
            result = await connection.execute(self.statement, dict(params))
            rows: Sequence[Sequence[Any]] = result.all()
            return rows
        return plan.rows(await driver.fetch(plan.sql, *plan.arguments(params)))

    async def run(self, connection: AsyncConnection, params: Mapping[str, Any]) -> None:
        """Run a statement whose rows nobody reads."""
        driver, plan = await self._driver(connection)
        if driver is None or plan is None:
            await connection.execute(self.statement, dict(params))
            return
        await driver.execute(plan.sql, *plan.arguments(params))

    async def _driver(self, connection: AsyncConnection) -> tuple[Any, DriverPlan | None]:
        dialect = connection.dialect
        if not runs_compiled_on_driver(dialect):
            return None, None
        if dialect.name not in self._plans:
            self._plans[dialect.name] = DriverPlan.compile(self.statement, dialect)
        plan = self._plans[dialect.name]
        if plan is None:
            return None, None
        driver: Any = (await connection.get_raw_connection()).driver_connection
        if not (driver.is_in_transaction() or _autocommit(connection)):
            return None, None  # SQLAlchemy's BEGIN is still to be sent: let it send it
        return driver, plan


def _autocommit(connection: AsyncConnection) -> bool:
    sync = connection.sync_connection
    options = sync.get_execution_options() if sync is not None else {}
    return bool(options.get("isolation_level") == "AUTOCOMMIT")
