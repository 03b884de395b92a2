"""Prebuilt statements (`FastStatement`) process every type and keep to the caller's
transaction on each backend, whether they take the driver path or the Core path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, column, delete, func, insert, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fixtures.databases import DatabaseUnderTest
from tiktimer.db.base import UTCDateTime
from tiktimer.db.dialect import Writes
from tiktimer.db.engine import create_engine
from tiktimer.db.prebuilt import FastStatement
from tiktimer.models import RateLimitHit

hits = RateLimitHit.__table__
ADD = FastStatement(
    insert(hits).values(bucket=bindparam("bucket"), at=bindparam("at")).returning(hits.c.at)
)
ECHO = FastStatement(
    text("SELECT :at AS at")
    .bindparams(bindparam("at", type_=UTCDateTime()))
    .columns(column("at", UTCDateTime()))
)


@pytest.fixture
async def engine(database: DatabaseUnderTest) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database.url, pool_size=2)
    yield engine
    async with engine.begin() as connection:
        await connection.execute(delete(hits).where(hits.c.bucket.like("prebuilt:%")))
    await engine.dispose()


async def _count(engine: AsyncEngine, bucket: str) -> int:
    async with engine.connect() as connection:
        query = select(func.count()).select_from(hits).where(hits.c.bucket == bucket)
        return int((await connection.execute(query)).scalar_one())


async def _echo_naive(engine: AsyncEngine) -> None:
    async with Writes(engine).transaction() as connection:
        await ECHO.rows(connection, {"at": datetime(2030, 1, 1, 12)})


async def test_a_naive_datetime_is_refused(engine: AsyncEngine) -> None:
    with pytest.raises((ValueError, StatementError), match="naive datetime"):
        await _echo_naive(engine)


async def test_datetimes_come_back_aware_in_utc(engine: AsyncEngine) -> None:
    paris = timezone(timedelta(hours=1))
    async with Writes(engine).transaction() as connection:
        rows = await ECHO.rows(connection, {"at": datetime(2030, 1, 1, 13, tzinfo=paris)})
    assert rows[0][0] == datetime(2030, 1, 1, 12, tzinfo=UTC)


async def test_a_write_commits_with_the_transaction(engine: AsyncEngine) -> None:
    at = datetime(2030, 1, 1, tzinfo=UTC)
    async with Writes(engine).transaction() as connection:
        rows = await ADD.rows(connection, {"bucket": "prebuilt:commit", "at": at})
        assert rows[0][0] == at
    assert await _count(engine, "prebuilt:commit") == 1


async def _add_then_fail(engine: AsyncEngine) -> None:
    at = datetime(2030, 1, 1, tzinfo=UTC)
    async with Writes(engine).transaction() as connection:
        await ADD.run(connection, {"bucket": "prebuilt:rollback", "at": at})
        raise RuntimeError("undo")


async def test_a_write_rolls_back_with_the_transaction(engine: AsyncEngine) -> None:
    with pytest.raises(RuntimeError):
        await _add_then_fail(engine)
    assert await _count(engine, "prebuilt:rollback") == 0


async def test_first_statement_of_a_core_transaction_opens_it(engine: AsyncEngine) -> None:
    """In `engine.begin()` SQLAlchemy sends BEGIN with the first statement: a prebuilt first
    statement must not run outside the transaction that a rollback then undoes."""
    at = datetime(2030, 1, 1, tzinfo=UTC)
    async with engine.connect() as connection:
        transaction = await connection.begin()
        await ADD.run(connection, {"bucket": "prebuilt:core", "at": at})
        await ADD.run(connection, {"bucket": "prebuilt:core", "at": at})
        await transaction.rollback()
    assert await _count(engine, "prebuilt:core") == 0
