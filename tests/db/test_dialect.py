"""`db/dialect.py`: each difference in statements, wake-ups and storage, on both databases.

Locks and transactions are in `test_dialect_locks.py`; `FastQuery`'s driver path
(`runs_compiled_on_driver`) in `test_fastread.py`.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import (
    JSON,
    Integer,
    bindparam,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
    type_coerce,
    values,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import CompileError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.fixtures.databases import DatabaseUnderTest
from tiktimer.db.base import UTCDateTime
from tiktimer.db.dialect import (
    Writes,
    aggregates_rows,
    combines_writes,
    companion_url,
    driver_returns_aware_utc,
    ids_only_grow,
    insert_for,
    json_append,
    listen_until_lost,
    listens,
    naive_utc_storage,
    notify,
    ordered_json_agg,
    seconds_between,
)
from tiktimer.db.engine import create_engine
from tiktimer.kit.time import utc_now
from tiktimer.models import RateLimitHit, WorkerHeartbeat

heartbeats = WorkerHeartbeat.__table__
hits = RateLimitHit.__table__


@pytest.fixture
async def engine(database: DatabaseUnderTest) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database.url, pool_size=4)
    yield engine
    await engine.dispose()


async def test_insert_for_upserts_and_ignores_conflicts(engine: AsyncEngine) -> None:
    """`insert_for` gives each database its ON CONFLICT insert: do-update updates the row,
    do-nothing leaves it."""
    worker = f"dialect-{secrets.token_hex(4)}"
    now = utc_now()
    row = {"worker_id": worker, "hostname": "h", "pid": 1, "concurrency": 2}
    row |= {"started_at": now, "last_seen_at": now}
    writes = Writes(engine)
    try:
        async with writes.transaction() as connection:
            for in_flight in (0, 5):
                statement = insert_for(connection, heartbeats).values(
                    row | {"in_flight": in_flight}
                )
                await connection.execute(
                    statement.on_conflict_do_update(
                        index_elements=[heartbeats.c.worker_id], set_={"in_flight": in_flight}
                    )
                )
            ignored = insert_for(connection, heartbeats).values(row | {"in_flight": 9})
            await connection.execute(ignored.on_conflict_do_nothing(index_elements=["worker_id"]))
            found = select(heartbeats.c.in_flight).where(heartbeats.c.worker_id == worker)
            assert (await connection.execute(found)).scalars().all() == [5]
    finally:
        async with writes.transaction() as connection:
            await connection.execute(delete(heartbeats).where(heartbeats.c.worker_id == worker))


async def test_json_append_adds_one_element_in_sql(engine: AsyncEngine) -> None:
    """jsonb `||` on PostgreSQL, json_insert on SQLite: the same list either way."""
    document = type_coerce(bindparam("doc", type_=JSON()), JSON())
    async with engine.connect() as connection:
        for start in ([], ["a"]):
            statement = select(json_append(document, literal("b")))
            appended = (await connection.execute(statement, {"doc": start})).scalar_one()
            assert appended == [*start, "b"]


async def test_ids_only_grow_where_a_deleted_newest_id_is_never_handed_out_again(
    engine: AsyncEngine,
) -> None:
    """PostgreSQL's sequences never go back; SQLite's rowid is the largest present plus one."""
    bucket = f"dialect-{secrets.token_hex(4)}"
    add = insert(hits).values(bucket=bucket, at=utc_now()).returning(hits.c.id)
    try:
        async with engine.begin() as connection:
            await connection.execute(delete(hits))  # the deleted row is then the newest
            newest = (await connection.execute(add)).scalar_one()
            await connection.execute(delete(hits).where(hits.c.id == newest))
            again = (await connection.execute(add)).scalar_one()
        assert (again > newest) is ids_only_grow(engine)
    finally:
        async with engine.begin() as connection:
            await connection.execute(delete(hits).where(hits.c.bucket == bucket))


async def test_seconds_between_two_stored_timestamps(engine: AsyncEngine) -> None:
    """EXTRACT(EPOCH …) on PostgreSQL, julianday arithmetic on SQLite's naive UTC text."""
    worker = f"dialect-{secrets.token_hex(4)}"
    started = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    seen = started + timedelta(hours=2, seconds=1.5)
    async with engine.begin() as connection:
        await connection.execute(
            insert(heartbeats).values(
                worker_id=worker, hostname="h", pid=1, concurrency=1,
                started_at=started, last_seen_at=seen,
            )
        )  # fmt: skip
    try:
        async with engine.connect() as connection:
            statement = select(
                seconds_between(heartbeats.c.last_seen_at, heartbeats.c.started_at),
                seconds_between(heartbeats.c.started_at, heartbeats.c.last_seen_at),
            ).where(heartbeats.c.worker_id == worker)
            forward, backward = (await connection.execute(statement)).one()
        assert forward == pytest.approx(7201.5, abs=0.01)
        assert backward == pytest.approx(-7201.5, abs=0.01)
    finally:
        async with engine.begin() as connection:
            await connection.execute(delete(heartbeats).where(heartbeats.c.worker_id == worker))


async def test_combines_writes_only_where_data_modifying_ctes_run(engine: AsyncEngine) -> None:
    """PostgreSQL runs a write inside WITH (and returns its rows); SQLite refuses it, so
    the queue runs those steps one statement per write there."""
    bucket = f"dialect-{secrets.token_hex(4)}"
    added = insert(hits).values(bucket=bucket, at=utc_now()).returning(hits.c.id).cte("added")
    statement = select(func.count()).select_from(added)
    writes = Writes(engine)
    try:
        if combines_writes(engine):
            async with writes.transaction() as connection:
                assert (await connection.execute(statement)).scalar_one() == 1
        else:
            with pytest.raises(DBAPIError):
                async with writes.transaction() as connection:
                    await connection.execute(statement)
    finally:
        async with writes.transaction() as connection:
            await connection.execute(delete(hits).where(hits.c.bucket == bucket))


async def test_aggregates_rows_only_where_ordered_json_agg_runs(engine: AsyncEngine) -> None:
    """PostgreSQL hands back many rows as one ordered JSON array; SQLite has no `json_agg`
    (snapshots read the children separately there)."""
    rows = values(literal_column("n", Integer), name="rows").data([(3,), (1,), (2,)])
    statement = select(ordered_json_agg(rows.c.n, rows.c.n.desc())).select_from(rows)
    async with engine.connect() as connection:
        if aggregates_rows(engine):
            assert (await connection.execute(statement)).scalar_one() == [3, 2, 1]
        else:
            with pytest.raises((DBAPIError, CompileError)):  # not even rendered
                await connection.execute(statement)


async def test_notify_wakes_a_listener_on_postgresql_only(engine: AsyncEngine) -> None:
    """PostgreSQL: a NOTIFY sent in a session reaches a LISTEN on another connection when
    the session commits. SQLite: nothing is sent (False) and nothing can listen."""
    channel = f"dialect_{secrets.token_hex(4)}"
    url = engine.url.render_as_string(hide_password=False)
    async with AsyncSession(engine) as session:
        if not listens(engine):
            assert await notify(session, channel) is False
            return
        heard: asyncio.Queue[None] = asyncio.Queue()
        listener = asyncio.create_task(
            listen_until_lost(url, channel, lambda: heard.put_nowait(None))
        )
        try:
            await asyncio.wait_for(heard.get(), 10)  # listening now
            assert await notify(session, channel) is True
            await asyncio.sleep(0.2)
            assert heard.empty()  # not before the commit
            await session.commit()
            await asyncio.wait_for(heard.get(), 10)
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)


def test_companion_url_is_the_same_database_or_a_sibling_file(
    database: DatabaseUnderTest,
) -> None:
    """PostgreSQL: the concern shares the database. SQLite: a file of its own beside it."""
    companion = companion_url(database.url, "sandbox")
    if database.backend == "postgresql":
        assert companion == database.url
        return
    assert companion is not None
    path = Path(str(make_url(database.url).database))
    assert make_url(companion).database == str(path.with_name(f"{path.stem}-sandbox.db"))
    assert companion_url("sqlite+aiosqlite:///:memory:", "sandbox") is None


async def test_utc_columns_store_naive_on_sqlite_and_read_back_aware(
    engine: AsyncEngine,
) -> None:
    """SQLite keeps naive UTC (it has no time zones), PostgreSQL timestamptz; through
    `UTCDateTime` both give back the same aware UTC instant."""
    paris = timezone(timedelta(hours=1))
    at = datetime(2030, 1, 1, 13, 0, tzinfo=paris)
    bucket = f"dialect-{secrets.token_hex(4)}"
    writes = Writes(engine)
    try:
        async with writes.transaction() as connection:
            await connection.execute(insert(hits).values(bucket=bucket, at=at))
            stored = (
                await connection.execute(
                    text("SELECT at FROM rate_limit_hits WHERE bucket = :b"), {"b": bucket}
                )
            ).scalar_one()
            typed = select(hits.c.at).where(hits.c.bucket == bucket)
            read = (await connection.execute(typed)).scalar_one()
        assert read == datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
        assert read.utcoffset() == timedelta(0)
        if naive_utc_storage(engine.dialect):
            assert str(stored).startswith("2030-01-01 12:00:00")  # naive text, in UTC
            assert not driver_returns_aware_utc(engine.dialect)
        else:
            assert isinstance(stored, datetime)
            assert stored.utcoffset() == timedelta(0)
            assert driver_returns_aware_utc(engine.dialect)
        with pytest.raises(ValueError, match="naive datetime"):
            UTCDateTime().process_bind_param(datetime(2030, 1, 1), engine.dialect)
    finally:
        async with writes.transaction() as connection:
            await connection.execute(delete(hits).where(hits.c.bucket == bucket))
