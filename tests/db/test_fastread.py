"""Prebuilt reads apply every type's processing on each backend, the fast path included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest
from sqlalchemy import JSON, bindparam, select, type_coerce
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fixtures.databases import DatabaseUnderTest
from tiktimer.db.base import UTCDateTime
from tiktimer.db.engine import create_engine
from tiktimer.db.fastread import FastQuery, raw_json
from tiktimer.db.read import autocommit_engine

AT = FastQuery(select(type_coerce(bindparam("at", type_=UTCDateTime()), UTCDateTime()).label("at")))
DOCUMENT = type_coerce(bindparam("doc", type_=JSON()), JSON())
DOCUMENTS = FastQuery(select(DOCUMENT.label("parsed"), raw_json(DOCUMENT.label("raw"))))


@pytest.fixture
async def engine(database: DatabaseUnderTest) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database.url, pool_size=1)
    yield autocommit_engine(engine)
    await engine.dispose()


async def test_a_naive_datetime_is_refused(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        with pytest.raises((ValueError, StatementError), match="naive datetime"):
            await AT.fetch(connection, {"at": datetime(2030, 1, 1, 12)})


async def test_datetimes_come_back_aware_in_utc(engine: AsyncEngine) -> None:
    paris = timezone(timedelta(hours=1))
    async with engine.connect() as connection:
        rows = await AT.fetch(connection, {"at": datetime(2030, 1, 1, 13, tzinfo=paris)})
    assert rows[0][0] == datetime(2030, 1, 1, 12, tzinfo=UTC)
    assert rows[0][0].utcoffset() == timedelta(0)
    assert AT.keys == ["at"]


async def test_json_is_encoded_and_decoded(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        rows = await DOCUMENTS.fetch(connection, {"doc": {"a": [1, 2]}})
    parsed, raw = rows[0]
    assert parsed == {"a": [1, 2]}
    assert isinstance(raw, orjson.Fragment)
    assert orjson.loads(orjson.dumps(raw)) == {"a": [1, 2]}
