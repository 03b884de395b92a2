"""The sandbox's shared state in a database: one `sandbox_state` row, locked per operation.

PostgreSQL: the row lives in the service's own database (migration 0003) and each
operation holds `SELECT … FOR UPDATE` on it. SQLite: the row lives in a companion file
beside the service's database (`tiktimer.db` -> `tiktimer-sandbox.db`), taken with
`BEGIN IMMEDIATE`. SQLite has one writer per file, and the service holds a write
transaction while it exchanges an OAuth code with TikTok; a sandbox in the same file
would wait for that transaction while the transaction waits for the sandbox. In its own
file the sandbox behaves like the outside service it stands in for. Every process that
shares the service's database therefore shares the sandbox.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tiktimer.db.dialect import Writes, companion_url, insert_for, row_lock
from tiktimer.db.engine import create_engine
from tiktimer.kit.time import utc_now
from tiktimer.models.sandbox import SANDBOX_STATE_ROW, SandboxState
from tiktimer.platforms.tiktok.emulator.store import StateUnavailable

_table = cast(Table, SandboxState.__table__)
_c = _table.c
# One operation at a time holds the row, so a handful of connections is plenty; its own
# small pool also keeps the sandbox from competing with the service for connections.
POOL_SIZE = 3
EMPTY_VERSION = 0


def sandbox_database_url(database_url: str) -> str | None:
    """Where the sandbox state of a service on `database_url` lives (None: memory only)."""
    return companion_url(database_url, "sandbox")


class _Locked:
    """The row, locked for one operation."""

    def __init__(self, connection: AsyncConnection, row: int, version: int) -> None:
        self._connection = connection
        self._row = row
        self.version: int | None = None if version == EMPTY_VERSION else version
        self.done = False

    async def load(self) -> dict[str, Any] | None:
        state = await self._connection.scalar(select(_c.state).where(_c.id == self._row))
        return dict(state) if state else None

    async def commit(self, snapshot: dict[str, Any] | None) -> int | None:
        """Write `snapshot` (None: nothing changed); it commits when the operation ends,
        even if the operation then raises."""
        version = self.version
        if snapshot is not None:
            version = secrets.randbits(62) + 1  # any change moves it: others reload
            await self._connection.execute(
                update(_table)
                .where(_c.id == self._row)
                .values(version=version, state=snapshot, updated_at=utc_now())
            )
        self.done = True
        return version


class DatabaseStateStore:
    """`StateStore` on one row of `sandbox_state` (`row` other than 1 only in tests)."""

    def __init__(self, url: str, *, row: int = SANDBOX_STATE_ROW) -> None:
        self.url = url
        self.row = row
        self._engine: AsyncEngine | None = None
        self._writes: Writes | None = None

    def describe(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    @asynccontextmanager
    async def locked(self) -> AsyncIterator[_Locked]:
        committed_then_raised: BaseException | None = None
        try:
            writes = await self._ready()
            async with writes.transaction() as connection:
                locked = _Locked(connection, self.row, await self._lock_row(connection))
                try:
                    yield locked
                except BaseException as exc:
                    if not locked.done:
                        raise  # rolled back
                    committed_then_raised = exc  # the transaction still commits
        except (OperationalError, DBAPIError, OSError) as exc:
            raise StateUnavailable(
                f"sandbox state at {self.describe()} unreachable: {type(exc).__name__}"
            ) from exc
        if committed_then_raised is not None:
            raise committed_then_raised

    async def aclose(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = self._writes = None

    async def _ready(self) -> Writes:
        if self._writes is None:
            engine = create_engine(
                self.url, pool_size=POOL_SIZE, application_name="tiktimer-sandbox"
            )
            writes = Writes(engine)
            # A companion SQLite file is not migrated: the table is made on first use.
            async with writes.transaction() as connection:
                await connection.run_sync(lambda sync: _table.create(sync, checkfirst=True))
            self._engine, self._writes = engine, writes
        return self._writes

    async def _lock_row(self, connection: AsyncConnection) -> int:
        """The row's version under its lock, creating the (empty) row the first time.

        `FOR UPDATE` on PostgreSQL; SQLite renders none, its `BEGIN IMMEDIATE` holds the file.
        """
        query = row_lock(select(_c.version).where(_c.id == self.row))
        version = await connection.scalar(query)
        if version is not None:
            return int(version)
        await connection.execute(
            insert_for(connection, _table)
            .values(id=self.row, version=EMPTY_VERSION, state={}, updated_at=utc_now())
            .on_conflict_do_nothing(index_elements=[_c.id])
        )
        version = await connection.scalar(query)
        return int(version) if version is not None else EMPTY_VERSION
