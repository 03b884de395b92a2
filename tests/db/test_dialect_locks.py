"""`db/dialect.py`, the differences in locking and transactions, each on both databases.

PostgreSQL locks rows (SKIP LOCKED, FOR UPDATE, advisory locks) and runs writers side by
side; SQLite has one writer per file, so `Writes.transaction` (BEGIN IMMEDIATE) makes the
second writer wait and the row locks render nothing.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fixtures.databases import DatabaseUnderTest
from tiktimer.db.dialect import (
    Writes,
    advisory_xact_lock,
    claim_lock,
    row_lock,
    single_writer,
)
from tiktimer.db.engine import create_engine
from tiktimer.kit.time import utc_now
from tiktimer.models import RateLimitHit

hits = RateLimitHit.__table__
# Long enough for a task that is not blocked to finish, short for the suite.
SETTLE = 0.3


@pytest.fixture
async def engine(database: DatabaseUnderTest) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database.url, pool_size=4)
    yield engine
    await engine.dispose()


@pytest.fixture
async def bucket(engine: AsyncEngine) -> AsyncIterator[str]:
    """Two rows of a bucket of this test's own (removed afterwards)."""
    name = f"dialect-{secrets.token_hex(4)}"
    now = utc_now()
    async with Writes(engine).transaction() as connection:
        for n in range(2):
            values = {"bucket": name, "at": now + timedelta(seconds=n)}
            await connection.execute(insert(hits).values(values))
    yield name
    async with Writes(engine).transaction() as connection:
        await connection.execute(delete(hits).where(hits.c.bucket == name))


def _oldest_first(bucket: str) -> object:
    return select(hits.c.id).where(hits.c.bucket == bucket).order_by(hits.c.at).limit(1)


async def test_claim_lock_skips_held_rows_or_the_second_claimer_waits(
    engine: AsyncEngine, bucket: str
) -> None:
    """PostgreSQL: a second claimer skips the row the first holds and takes the next one,
    without waiting. SQLite: the second claimer waits for the first to commit."""
    writes = Writes(engine)
    pick = claim_lock(_oldest_first(bucket), of=hits)  # type: ignore[arg-type]
    first_holds = asyncio.Event()
    release = asyncio.Event()

    async def first() -> int:
        async with writes.transaction() as connection:
            picked = int((await connection.execute(pick)).scalar_one())
            first_holds.set()
            await release.wait()
        return picked

    async def second() -> int:
        async with writes.transaction() as connection:
            return int((await connection.execute(pick)).scalar_one())

    holder = asyncio.create_task(first())
    await first_holds.wait()
    other = asyncio.create_task(second())
    await asyncio.sleep(SETTLE)
    if single_writer(engine):
        assert not other.done()  # queued behind the first writer
        release.set()
        assert await other == await holder  # and then saw the same (unchanged) row
    else:
        assert other.done()  # did not wait for the locked row ...
        assert await other != (await _finish(release, holder))  # ... it took the next one


async def _finish(release: asyncio.Event, task: asyncio.Task[int]) -> int:
    release.set()
    return await task


async def test_row_lock_makes_a_second_locker_wait_or_renders_nothing(
    engine: AsyncEngine, bucket: str
) -> None:
    """PostgreSQL: FOR UPDATE on a row makes another FOR UPDATE of it wait for the commit.
    SQLite: no FOR UPDATE is rendered (the one writer holds the whole file)."""
    statement = row_lock(_oldest_first(bucket))  # type: ignore[arg-type]
    if single_writer(engine):
        assert "FOR" not in str(statement.compile(dialect=sqlite.dialect()))
        async with engine.connect() as connection:  # and it runs as a plain read
            assert (await connection.execute(statement)).scalar_one() is not None
        return
    release = asyncio.Event()
    holds = asyncio.Event()

    async def lock_then_wait() -> None:
        async with engine.begin() as connection:
            await connection.execute(statement)
            holds.set()
            await release.wait()

    holder = asyncio.create_task(lock_then_wait())
    await holds.wait()
    async with engine.begin() as connection:
        waiter = asyncio.create_task(connection.execute(statement))
        await asyncio.sleep(SETTLE)
        assert not waiter.done()
        release.set()
        await holder
        assert (await waiter).scalar_one() is not None


async def test_writes_serialise_on_sqlite_and_overlap_on_postgresql(engine: AsyncEngine) -> None:
    """`Writes.transaction`: SQLite's BEGIN IMMEDIATE lets one writer in at a time, before it
    has written anything; PostgreSQL's transactions run side by side."""
    writes = Writes(engine)
    inside = asyncio.Event()
    release = asyncio.Event()

    async def hold() -> None:
        async with writes.transaction() as connection:
            await connection.execute(select(1))
            inside.set()
            await release.wait()

    async def enter() -> None:
        async with writes.transaction() as connection:
            await connection.execute(select(1))

    holder = asyncio.create_task(hold())
    await inside.wait()
    second = asyncio.create_task(enter())
    await asyncio.sleep(SETTLE)
    assert second.done() is not single_writer(engine)
    release.set()
    await asyncio.gather(holder, second)


async def test_one_statement_is_autocommit_on_postgresql_only(engine: AsyncEngine) -> None:
    """PostgreSQL: a write in `one_statement` is visible to others at once (autocommit, no
    BEGIN/COMMIT). SQLite: it is a transaction, visible when the block ends."""
    writes = Writes(engine)
    name = f"dialect-{secrets.token_hex(4)}"
    count = select(func.count()).select_from(hits).where(hits.c.bucket == name)
    try:
        async with writes.one_statement() as connection:
            await connection.execute(insert(hits).values(bucket=name, at=utc_now()))
            async with engine.connect() as other:
                seen = (await other.execute(count)).scalar_one()
        assert seen == (0 if single_writer(engine) else 1)
        async with engine.connect() as other:
            assert (await other.execute(count)).scalar_one() == 1
    finally:
        async with writes.transaction() as connection:
            await connection.execute(delete(hits).where(hits.c.bucket == name))


async def test_advisory_lock_serialises_one_key_on_postgresql(engine: AsyncEngine) -> None:
    """PostgreSQL: a second locker of the same key waits for the first's commit, another key
    does not. SQLite: nothing is taken (False); the one writer serialises instead."""
    writes = Writes(engine)
    key = f"dialect-{secrets.token_hex(4)}"
    holds = asyncio.Event()
    release = asyncio.Event()

    async def hold() -> bool:
        async with writes.transaction() as connection:
            taken = await advisory_xact_lock(connection, 0x7E57, [key])
            holds.set()
            await release.wait()
        return taken

    async def lock(keys: list[str]) -> bool:
        async with engine.begin() as connection:  # a plain transaction: no writer lock
            return await advisory_xact_lock(connection, 0x7E57, keys)

    holder = asyncio.create_task(hold())
    await holds.wait()
    assert await lock([f"{key}-other"]) is not single_writer(engine)  # another key: at once
    same = asyncio.create_task(lock([key]))
    await asyncio.sleep(SETTLE)
    assert same.done() is single_writer(engine)  # PostgreSQL: waits for the holder
    release.set()
    assert await holder is (not single_writer(engine))
    assert await same is (not single_writer(engine))
