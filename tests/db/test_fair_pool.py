"""Fair checkouts serve waiters in arrival order and never lose a connection to a cancelled one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fixtures.databases import DatabaseUnderTest
from tiktimer.db.engine import create_engine, create_sessionmaker
from tiktimer.db.fairpool import fair_connect


async def _hold(engine: AsyncEngine, release: asyncio.Event) -> None:
    async with fair_connect(engine) as connection:
        await connection.execute(text("SELECT 1"))
        await release.wait()


@pytest.fixture
async def one_connection_engine(database: DatabaseUnderTest) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database.url, pool_size=1)
    yield engine
    await engine.dispose()


async def _use(engine: AsyncEngine, name: str, order: list[str]) -> None:
    async with fair_connect(engine) as connection:
        order.append(name)
        await connection.execute(text("SELECT 1"))


async def _newcomer_after_waiter(engine: AsyncEngine) -> list[str]:
    order: list[str] = []
    holder = AsyncExitStack()
    await holder.enter_async_context(fair_connect(engine))
    waiter = asyncio.create_task(_use(engine, "waiter", order))
    await asyncio.sleep(0.05)  # the waiter is now queued for the only connection
    await holder.aclose()
    # Ask again before the waiter has run: a newcomer must not take the connection first.
    await _use(engine, "newcomer", order)
    await waiter
    return order


async def test_a_returned_connection_goes_to_the_longest_waiter(
    one_connection_engine: AsyncEngine,
) -> None:
    assert await _newcomer_after_waiter(one_connection_engine) == ["waiter", "newcomer"]


async def test_the_line_outlives_a_dispose(one_connection_engine: AsyncEngine) -> None:
    await one_connection_engine.dispose()  # a new pool behind the same engine
    assert await _newcomer_after_waiter(one_connection_engine) == ["waiter", "newcomer"]


async def test_a_cancelled_waiter_leaves_the_line(one_connection_engine: AsyncEngine) -> None:
    engine = one_connection_engine
    release = asyncio.Event()
    holder = asyncio.create_task(_hold(engine, release))
    await asyncio.sleep(0.05)
    waiter = asyncio.create_task(_use(engine, "gone", []))
    await asyncio.sleep(0.05)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    release.set()
    await holder
    order: list[str] = []
    await asyncio.wait_for(_use(engine, "next", order), 5)
    assert order == ["next"]
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_connection_handed_to_a_cancelled_waiter_passes_on(
    one_connection_engine: AsyncEngine,
) -> None:
    engine = one_connection_engine
    order: list[str] = []
    holder = AsyncExitStack()
    await holder.enter_async_context(fair_connect(engine))
    cancelled = asyncio.create_task(_use(engine, "cancelled", order))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(_use(engine, "second", order))
    await asyncio.sleep(0.05)
    await holder.aclose()  # hands the turn to the first waiter, which has not run yet
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    await asyncio.wait_for(second, 5)
    assert order == ["second"]
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_waiter_times_out_with_the_pool_error(database: DatabaseUnderTest) -> None:
    engine = create_engine(database.url, pool_size=1, pool_timeout=0.1)
    try:
        async with fair_connect(engine):
            with pytest.raises(PoolTimeout):
                await _use(engine, "too late", [])
        order: list[str] = []
        await _use(engine, "after", order)
        assert order == ["after"]
    finally:
        await engine.dispose()


async def _session_reads(engine: AsyncEngine, name: str, order: list[str]) -> None:
    async with create_sessionmaker(engine)() as session:
        await session.execute(text("SELECT 1"))
        order.append(name)
        await session.commit()


async def test_sessions_wait_in_the_same_line(one_connection_engine: AsyncEngine) -> None:
    engine = one_connection_engine
    order: list[str] = []
    holder = AsyncExitStack()
    await holder.enter_async_context(fair_connect(engine))
    session = asyncio.create_task(_session_reads(engine, "session", order))
    await asyncio.sleep(0.05)  # the session's first statement now waits in line
    await holder.aclose()
    await _use(engine, "newcomer", order)
    await session
    assert order == ["session", "newcomer"]


async def test_a_session_is_in_line_only_while_its_transaction_runs(
    one_connection_engine: AsyncEngine,
) -> None:
    engine = one_connection_engine
    order: list[str] = []
    async with create_sessionmaker(engine)() as session:
        await _use(engine, "before the first statement", order)
        await session.execute(text("SELECT 1"))
        await session.commit()
        await asyncio.wait_for(_use(engine, "after the commit", order), 5)
    assert order == ["before the first statement", "after the commit"]
