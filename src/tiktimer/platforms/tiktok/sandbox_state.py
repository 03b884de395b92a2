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
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

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
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return database_url
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        return None
    path = Path(url.database)
    return url.set(
        database=str(path.with_name(f"{path.stem}-sandbox{path.suffix}"))
    ).render_as_string(hide_password=False)


class _Locked:
    """The row, locked for one operation."""

    def __init__(
        self, connection: AsyncConnection, row: int, version: int, *, sqlite: bool
    ) -> None:
        self._connection = connection
        self._row = row
        self._sqlite = sqlite
        self.version: int | None = None if version == EMPTY_VERSION else version
        self.done = False

    async def load(self) -> dict[str, Any] | None:
        state = await self._connection.scalar(select(_c.state).where(_c.id == self._row))
        return dict(state) if state else None

    async def commit(self, snapshot: dict[str, Any] | None) -> int | None:
        version = self.version
        if snapshot is not None:
            version = secrets.randbits(62) + 1  # any change moves it: others reload
            await self._connection.execute(
                update(_table)
                .where(_c.id == self._row)
                .values(version=version, state=snapshot, updated_at=utc_now())
            )
        await _finish(self._connection, commit=True, sqlite=self._sqlite)
        self.done = True
        return version


class DatabaseStateStore:
    """`StateStore` on one row of `sandbox_state` (`row` other than 1 only in tests)."""

    def __init__(self, url: str, *, row: int = SANDBOX_STATE_ROW) -> None:
        self.url = url
        self.row = row
        self._engine: AsyncEngine | None = None
        self._sqlite = make_url(url).get_backend_name() == "sqlite"

    def describe(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    @asynccontextmanager
    async def locked(self) -> AsyncIterator[_Locked]:
        try:
            engine = await self._ready()
            async with engine.connect() as connection:
                await _begin(connection, sqlite=self._sqlite)
                locked: _Locked | None = None
                try:
                    version = await self._lock_row(connection)
                    locked = _Locked(connection, self.row, version, sqlite=self._sqlite)
                    yield locked
                finally:
                    if locked is None or not locked.done:
                        await _finish(connection, commit=False, sqlite=self._sqlite)
        except (OperationalError, DBAPIError, OSError) as exc:
            raise StateUnavailable(
                f"sandbox state at {self.describe()} unreachable: {type(exc).__name__}"
            ) from exc

    async def aclose(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    async def _ready(self) -> AsyncEngine:
        if self._engine is None:
            engine = create_engine(
                self.url, pool_size=POOL_SIZE, application_name="tiktimer-sandbox"
            )
            if self._sqlite:
                # Driver-level autocommit: this module owns BEGIN IMMEDIATE / COMMIT.
                engine = engine.execution_options(isolation_level="AUTOCOMMIT")
                async with engine.connect() as connection:
                    await connection.run_sync(lambda sync: _table.create(sync, checkfirst=True))
            self._engine = engine
        return self._engine

    async def _lock_row(self, connection: AsyncConnection) -> int:
        """The row's version under its lock, creating the (empty) row the first time."""
        query = select(_c.version).where(_c.id == self.row)
        if not self._sqlite:
            query = query.with_for_update()
        version = await connection.scalar(query)
        if version is not None:
            return int(version)
        insert = sqlite_insert if self._sqlite else pg_insert
        await connection.execute(
            insert(_table)
            .values(id=self.row, version=EMPTY_VERSION, state={}, updated_at=utc_now())
            .on_conflict_do_nothing(index_elements=[_c.id])
        )
        version = await connection.scalar(query)
        return int(version) if version is not None else EMPTY_VERSION


async def _begin(connection: AsyncConnection, *, sqlite: bool) -> None:
    if sqlite:
        await connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        await connection.begin()


async def _finish(connection: AsyncConnection, *, commit: bool, sqlite: bool) -> None:
    if sqlite:
        await connection.exec_driver_sql("COMMIT" if commit else "ROLLBACK")
    elif commit:
        await connection.commit()
    else:
        await connection.rollback()
