"""An autocommit checkout on SQLite that is cancelled half-way gives its connection back."""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SAWarning
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.util import await_only

from tests.fixtures.databases import sqlite_url
from tiktimer.db.engine import create_engine
from tiktimer.db.read import autocommit_engine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(sqlite_url(tmp_path), pool_size=1, pool_timeout=2)
    yield engine
    await engine.dispose()


def hold_the_switch(reads: AsyncEngine) -> tuple[asyncio.Event, asyncio.Event]:
    """Make the switch to autocommit at checkout (aiosqlite's round trip to its thread, in
    SQLAlchemy's `engine_connect`) wait until released; the first event says it is waiting."""
    waiting, release = asyncio.Event(), asyncio.Event()

    def switch(_connection: Connection) -> None:
        waiting.set()
        await_only(release.wait())

    event.listen(reads.sync_engine, "engine_connect", switch)
    return waiting, release


async def test_a_cancelled_checkout_gives_its_connection_back(engine: AsyncEngine) -> None:
    reads = autocommit_engine(engine)
    waiting, release = hold_the_switch(reads)

    async def read() -> None:
        async with reads.connect() as connection:
            await connection.execute(text("SELECT 1"))

    task = asyncio.create_task(read())
    await waiting.wait()
    task.cancel()  # a stopping dispatcher's heartbeat, a closing webhook sender, a timeout
    await asyncio.sleep(0)
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert engine.sync_engine.pool.checkedout() == 0
    async with asyncio.timeout(5), engine.connect() as connection:  # the pool's one connection
        assert await connection.scalar(text("SELECT 1")) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", SAWarning)
        gc.collect()  # nothing left for the garbage collector to clean up


async def test_a_failed_checkout_still_fails(engine: AsyncEngine, tmp_path: Path) -> None:
    missing = create_engine(sqlite_url(tmp_path / "no" / "such" / "dir"), pool_size=1)
    try:
        with pytest.raises(Exception, match="unable to open database file"):
            async with autocommit_engine(missing).connect():
                pass
    finally:
        await missing.dispose()


async def test_checkouts_are_in_autocommit_and_hand_back_the_default(
    engine: AsyncEngine,
) -> None:
    async def autocommit(connection: AsyncConnection) -> bool:
        raw = await connection.get_raw_connection()
        return raw.dbapi_connection is not None and raw.dbapi_connection.isolation_level is None

    reads = autocommit_engine(engine)
    async with reads.connect() as connection:
        assert await autocommit(connection)
    async with reads.begin() as connection:
        assert await autocommit(connection)
    async with engine.connect() as connection:  # the pool's one connection, switched back
        assert not await autocommit(connection)


async def test_a_checkout_waiting_for_the_pool_ends_at_once_when_cancelled(
    engine: AsyncEngine,
) -> None:
    reads = autocommit_engine(engine)
    async with engine.connect() as holder:  # the pool's one connection
        await holder.execute(text("SELECT 1"))
        waiting = asyncio.create_task(reads.connect().start())
        await asyncio.sleep(0.2)
        started = asyncio.get_running_loop().time()
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert asyncio.get_running_loop().time() - started < 0.5  # not the 2 s pool timeout
    assert engine.sync_engine.pool.checkedout() == 0
