"""The pool serves waiters in arrival order and never loses a connection to a cancelled one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fixtures.databases import DatabaseUnderTest
from tiktimer.db.engine import create_engine


@pytest.fixture
async def one_connection_engine(database: DatabaseUnderTest) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database.url, pool_size=1)
    yield engine
    await engine.dispose()


async def _use(engine: AsyncEngine, name: str, order: list[str]) -> None:
    async with engine.connect() as connection:
        order.append(name)
        await connection.execute(text("SELECT 1"))


async def test_a_returned_connection_goes_to_the_longest_waiter(
    one_connection_engine: AsyncEngine,
) -> None:
    engine = one_connection_engine
    order: list[str] = []
    holder = await engine.connect()
    waiter = asyncio.create_task(_use(engine, "waiter", order))
    await asyncio.sleep(0.05)  # the waiter is now queued for the only connection
    await holder.close()
    # Ask again before the waiter has run: a newcomer must not take the connection first.
    await _use(engine, "newcomer", order)
    await waiter
    assert order == ["waiter", "newcomer"]


async def test_a_cancelled_waiter_leaves_the_line(one_connection_engine: AsyncEngine) -> None:
    engine = one_connection_engine
    holder = await engine.connect()
    waiter = asyncio.create_task(_use(engine, "gone", []))
    await asyncio.sleep(0.05)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    await holder.close()
    order: list[str] = []
    await asyncio.wait_for(_use(engine, "next", order), 5)
    assert order == ["next"]
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_connection_handed_to_a_cancelled_waiter_passes_on(
    one_connection_engine: AsyncEngine,
) -> None:
    engine = one_connection_engine
    order: list[str] = []
    holder = await engine.connect()
    cancelled = asyncio.create_task(_use(engine, "cancelled", order))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(_use(engine, "second", order))
    await asyncio.sleep(0.05)
    await holder.close()  # hands the connection to the first waiter, which has not run yet
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    await asyncio.wait_for(second, 5)
    assert order == ["second"]
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_waiter_times_out_with_the_pool_error(database: DatabaseUnderTest) -> None:
    engine = create_engine(database.url, pool_size=1)
    engine.pool._timeout = 0.1  # type: ignore[attr-defined]
    try:
        async with engine.connect():
            with pytest.raises(PoolTimeout):
                await engine.connect()
        order: list[str] = []
        await _use(engine, "after", order)
        assert order == ["after"]
    finally:
        await engine.dispose()
