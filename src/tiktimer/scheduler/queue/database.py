"""The queue's connections: what a step runs in decides its round trips.

SQLite uses driver-level autocommit, so this class owns BEGIN IMMEDIATE / COMMIT (the write
lock taken up front). On PostgreSQL a step that is one statement runs in autocommit, atomic
without BEGIN/COMMIT round trips.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import literal
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tiktimer.scheduler.queue.tables import appended


class QueueDatabase:
    """The engine of the queue and the two ways its statements run."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        # SQLite: driver-level autocommit, so this class owns BEGIN IMMEDIATE / COMMIT.
        # PostgreSQL: for the steps that are one statement, atomic without BEGIN/COMMIT.
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._sqlite_engine = self._autocommit if self.dialect == "sqlite" else None

    @asynccontextmanager
    async def one_statement(self) -> AsyncIterator[AsyncConnection]:
        """For a step that is a single statement on PostgreSQL: no BEGIN/COMMIT round trips
        (elsewhere an ordinary transaction)."""
        if self.dialect != "postgresql":
            async with self.transaction() as connection:
                yield connection
            return
        async with self._autocommit.connect() as connection:
            yield connection

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A short write transaction; never held across a platform call."""
        if self._sqlite_engine is None:
            async with self.engine.begin() as connection:
                yield connection
            return
        async with self._sqlite_engine.connect() as connection:
            await connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                await connection.exec_driver_sql("ROLLBACK")
                raise
            await connection.exec_driver_sql("COMMIT")

    def append(self, column: Any, value: str | None) -> Any:
        return column if value is None else appended(self.dialect, column, literal(value))
