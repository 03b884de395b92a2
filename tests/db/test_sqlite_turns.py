"""SQLite sessions take turns to write in arrival order, and only while SQLite itself would lock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Integer, String, delete, insert, select, table, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tests.fixtures.databases import sqlite_url
from tiktimer.db.engine import create_engine, create_sessionmaker
from tiktimer.db.sqlite_turns import TurnTakingSession, WriteTurn, writes

INSERT = text("INSERT INTO log (who) VALUES (:who)")


class _Base(DeclarativeBase):
    pass


class LogLine(_Base):
    __tablename__ = "log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    who: Mapped[str] = mapped_column(String)


Maker = async_sessionmaker[AsyncSession]


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(sqlite_url(tmp_path), pool_size=8)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE log (id INTEGER PRIMARY KEY, who TEXT)"))
    yield engine
    await engine.dispose()


@pytest.fixture
def maker(engine: AsyncEngine) -> Maker:
    return create_sessionmaker(engine)


async def _write(maker: Maker, who: str) -> None:
    async with maker() as session:
        await session.execute(INSERT, {"who": who})
        await session.commit()


async def _log(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return list((await connection.execute(text("SELECT who FROM log ORDER BY id"))).scalars())


async def test_writers_take_turns_in_arrival_order(engine: AsyncEngine, maker: Maker) -> None:
    writers = []
    async with maker() as holder:
        await holder.execute(INSERT, {"who": "holder"})
        for i in range(6):
            writers.append(asyncio.create_task(_write(maker, f"w{i}")))
            await asyncio.sleep(0.03)  # SQLite's own retries would favour late arrivals by now
        await asyncio.sleep(0.2)
        assert not any(w.done() for w in writers)  # all wait while the holder writes
        await holder.commit()
    await asyncio.gather(*writers)
    assert await _log(engine) == ["holder", "w0", "w1", "w2", "w3", "w4", "w5"]


async def test_an_orm_flush_takes_the_turn(engine: AsyncEngine, maker: Maker) -> None:
    async with maker() as holder:
        holder.add(LogLine(who="orm"))
        await holder.flush()
        waiting = asyncio.create_task(_write(maker, "waiting"))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        await holder.commit()
    await asyncio.wait_for(waiting, 2)
    assert await _log(engine) == ["orm", "waiting"]


async def test_a_reading_session_holds_no_turn(engine: AsyncEngine, maker: Maker) -> None:
    async with maker() as reader:
        await reader.execute(select(LogLine))
        await asyncio.wait_for(_write(maker, "writer"), 2)
    assert await _log(engine) == ["writer"]


async def test_reads_do_not_wait_for_the_writer(engine: AsyncEngine, maker: Maker) -> None:
    async with maker() as holder:
        await holder.execute(INSERT, {"who": "holder"})
        assert await asyncio.wait_for(_log(engine), 2) == []  # WAL: the last committed state


async def test_a_failed_transaction_gives_the_turn_back(engine: AsyncEngine, maker: Maker) -> None:
    async def fail() -> None:
        async with maker() as session:
            await session.execute(INSERT, {"who": "rolled back"})
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError):
        await fail()
    await asyncio.wait_for(_write(maker, "next"), 2)
    assert await _log(engine) == ["next"]


async def test_sessionmakers_of_one_engine_share_the_turn(
    engine: AsyncEngine, maker: Maker
) -> None:
    other = create_sessionmaker(engine)
    async with maker() as holder:
        await holder.execute(INSERT, {"who": "holder"})
        waiting = asyncio.create_task(_write(other, "other maker"))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        await holder.commit()
    await asyncio.wait_for(waiting, 2)


async def test_a_writer_waits_no_longer_than_its_patience(engine: AsyncEngine) -> None:
    maker = async_sessionmaker(engine, class_=TurnTakingSession, write_turn=WriteTurn(0.2))
    async with maker() as holder:
        await holder.execute(INSERT, {"who": "holder"})
        with pytest.raises(OperationalError, match="database is locked"):
            await _write(maker, "second")  # same task, other session: would deadlock
        await holder.commit()
    await asyncio.wait_for(_write(maker, "after"), 2)
    assert await _log(engine) == ["holder", "after"]


_log_table = table("log")


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (select(LogLine), False),
        (insert(_log_table), True),
        (update(_log_table), True),
        (delete(_log_table), True),
        (text("SELECT 1"), False),
        (text("  (SELECT 1)"), False),
        (text("PRAGMA foreign_keys"), False),
        (text("BEGIN"), False),
        (text("BEGIN IMMEDIATE"), True),
        (text("insert into log values (1)"), True),
        (text("WITH x AS (SELECT 1) DELETE FROM log"), True),
    ],
)
def test_statements_that_may_write(statement: object, expected: bool) -> None:
    assert writes(statement) is expected
