"""SQLite writers take turns in arrival order, and only while SQLite itself would lock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.fixtures.databases import sqlite_url
from tiktimer.db.engine import create_engine
from tiktimer.db.sqlite_turns import WriteTurns

INSERT = text("INSERT INTO log (who) VALUES (:who)")


async def _create_log(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE log (id INTEGER PRIMARY KEY, who TEXT)"))


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(sqlite_url(tmp_path), pool_size=8)
    await _create_log(engine)
    yield engine
    await engine.dispose()


async def _write(engine: AsyncEngine, who: str) -> None:
    async with engine.begin() as connection:
        await connection.execute(INSERT, {"who": who})


async def _log(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return list((await connection.execute(text("SELECT who FROM log ORDER BY id"))).scalars())


async def test_writers_take_turns_in_arrival_order(engine: AsyncEngine) -> None:
    writers = []
    async with engine.begin() as holder:
        await holder.execute(INSERT, {"who": "holder"})
        for i in range(6):
            writers.append(asyncio.create_task(_write(engine, f"w{i}")))
            await asyncio.sleep(0.03)  # SQLite's own retries favour late arrivals by now
        await asyncio.sleep(0.2)
        assert not any(w.done() for w in writers)  # all wait while the holder writes
    await asyncio.gather(*writers)
    assert await _log(engine) == ["holder", "w0", "w1", "w2", "w3", "w4", "w5"]


async def test_reads_do_not_wait_for_the_writer(engine: AsyncEngine) -> None:
    async with engine.begin() as holder:
        await holder.execute(INSERT, {"who": "holder"})
        assert await asyncio.wait_for(_log(engine), 2) == []  # WAL: the last committed state


async def test_a_failed_transaction_gives_the_turn_back(engine: AsyncEngine) -> None:
    async def fail() -> None:
        async with engine.begin() as connection:
            await connection.execute(INSERT, {"who": "rolled back"})
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError):
        await fail()
    await asyncio.wait_for(_write(engine, "next"), 2)
    assert await _log(engine) == ["next"]


async def test_a_statement_outside_a_transaction_gives_the_turn_back(engine: AsyncEngine) -> None:
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    async with autocommit.connect() as connection:
        await connection.execute(INSERT, {"who": "autocommitted"})
        # Still checked out, but its write is over: another writer goes ahead.
        await asyncio.wait_for(_write(engine, "next"), 2)
    assert await _log(engine) == ["autocommitted", "next"]


async def test_begin_immediate_holds_the_turn_until_commit(engine: AsyncEngine) -> None:
    """The scheduler's claims run their own BEGIN IMMEDIATE ... COMMIT on such connections."""
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    async with autocommit.connect() as connection:
        await connection.exec_driver_sql("BEGIN IMMEDIATE")
        waiting = asyncio.create_task(_write(engine, "waiting"))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        await connection.execute(INSERT, {"who": "claimer"})
        await connection.exec_driver_sql("COMMIT")
        await asyncio.wait_for(waiting, 2)
    assert await _log(engine) == ["claimer", "waiting"]


async def test_a_writer_waits_no_longer_than_its_patience(tmp_path: Path) -> None:
    engine = create_async_engine(sqlite_url(tmp_path))
    WriteTurns(patience=0.2).install(engine)
    try:
        await _create_log(engine)
        async with engine.begin() as holder:
            await holder.execute(INSERT, {"who": "holder"})
            with pytest.raises(OperationalError, match="database is locked"):
                await _write(engine, "second")  # same task, other connection: would deadlock
        await asyncio.wait_for(_write(engine, "after"), 2)
        assert await _log(engine) == ["holder", "after"]
    finally:
        await engine.dispose()
