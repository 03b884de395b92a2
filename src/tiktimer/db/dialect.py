"""Every difference between PostgreSQL and SQLite that TikTimer relies on, each named once.

Nothing outside `tiktimer.db` asks which database it runs on: it calls one of these.
`lint-imports` keeps the drivers inside `tiktimer.db`, `tests/db/test_dialect_imports.py`
keeps `sqlalchemy.dialects.*` and dialect-name checks there too. Each difference has a
test that runs on both databases (`tests/db/test_dialect.py`, `test_dialect_locks.py`).

    difference               PostgreSQL                          SQLite
    insert_for               postgresql.insert (ON CONFLICT)     sqlite.insert (ON CONFLICT)
    claim_lock               FOR UPDATE SKIP LOCKED OF …         nothing: `Writes` serialises
    row_lock                 FOR UPDATE / FOR SHARE              nothing: one writer at a time
    Writes.transaction       BEGIN by asyncpg, autocommit conn.  BEGIN IMMEDIATE (driver autocommit)
    Writes.one_statement     autocommit: no BEGIN/COMMIT         a `transaction()`
    json_append              jsonb `||` jsonb_build_array        json_insert(…, '$[#]', …)
    combines_writes          data-modifying CTEs, array binds    no: one statement per write
    aggregates_rows,         json_agg(… ORDER BY …), array_agg   no: children read separately
      ordered_json_agg
    advisory_xact_lock       pg_advisory_xact_lock per key       nothing: one writer at a time
    serialize_check          pg_advisory_xact_lock per key       the session's write turn now
    notify / listens /       pg_notify, LISTEN on a dedicated    no cross-process wake-ups
      listen_until_lost      driver connection                   (in-process only)
    companion_url            the same database                   a sibling file
    single_writer            no: row locks                       yes: writers take turns
    autocommit_is_free       yes: a flag on asyncpg's adapter    no: 5 trips to the driver thread
    naive_utc_storage        timestamptz                         naive UTC text
    driver_returns_aware_utc yes (asyncpg): no result processing no: read back aware
    runs_compiled_on_driver  asyncpg `fetch` (FastQuery,         no: the Core path
                             FastStatement)

The engine and session choices (`db/engine.py`: SQLite pragmas, one shared connection for
`:memory:`, turn-taking writers), `UTCDateTime` (`db/base.py`) and the asyncpg path of
`FastQuery` (`db/fastread.py`) ask here too; `FastStatement` (`db/prebuilt.py`) is what
`advisory_xact_lock` runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import (
    ARRAY,
    Float,
    Integer,
    Select,
    String,
    Table,
    bindparam,
    extract,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import FromClause
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import JSON

from tiktimer.db.autocommit import autocommit_engine
from tiktimer.db.prebuilt import FastStatement
from tiktimer.db.prebuilt import runs_compiled_on_driver as runs_compiled_on_driver
from tiktimer.db.sqlite_turns import TurnTakingSession

POSTGRESQL = "postgresql"
SQLITE = "sqlite"

Bind = AsyncEngine | AsyncConnection | AsyncSession | Dialect
"""Anything that knows its database: an engine, a connection, a session or the dialect."""


def dialect_of(bind: Bind) -> Dialect:
    if isinstance(bind, Dialect):
        return bind
    if isinstance(bind, AsyncSession):
        return bind.get_bind().dialect
    return bind.dialect


def is_postgresql(bind: Bind) -> bool:
    return dialect_of(bind).name == POSTGRESQL


def ids_only_grow(bind: Bind) -> bool:
    """Whether a new row's integer primary key is always larger than every id ever handed
    out. PostgreSQL's sequences never go back; SQLite's rowid (our tables have no
    AUTOINCREMENT) is the largest *present* id plus one, so deleting the newest row hands
    its id out again. Counts folded "up to an id" (`metrics.lag`) rely on it."""
    return is_postgresql(bind)


def single_writer(bind: Bind) -> bool:
    """Whether the database lets one transaction write at a time (SQLite, per file): its
    writers then take `Writes.transaction`'s `BEGIN IMMEDIATE`, and sessions take turns in
    arrival order (`db/sqlite_turns.py`). PostgreSQL locks rows, not the database."""
    return dialect_of(bind).name == SQLITE


def autocommit_is_free(bind: Bind) -> bool:
    """Whether a checkout of the autocommit engine costs nothing extra: on asyncpg autocommit
    is a flag on SQLAlchemy's adapter; on aiosqlite setting it and resetting it on return are
    five trips to the driver's thread (`db/probe.py`; `tests/db/test_probe.py`)."""
    return is_postgresql(bind)


def is_sqlite_url(url: str) -> bool:
    """Whether a database URL names SQLite (checked before any engine exists)."""
    return make_url(url).get_backend_name() == SQLITE


# -- statements -------------------------------------------------------------------------


def insert_for(bind: Bind, table: Table | Any) -> Any:
    """An INSERT that takes `.on_conflict_do_nothing` / `.on_conflict_do_update`.

    Both dialects speak `ON CONFLICT`, but SQLAlchemy keeps the construct per dialect.
    """
    return (postgresql if is_postgresql(bind) else sqlite).insert(table)


def claim_lock(statement: Select[Any], of: FromClause) -> Select[Any]:
    """Lock the rows a claim picks and skip those another claimer holds.

    PostgreSQL: `FOR UPDATE OF <of> SKIP LOCKED`, so concurrent claimers take disjoint rows.
    SQLite renders nothing: the picking transaction is `Writes.transaction`, whose
    `BEGIN IMMEDIATE` lets one claimer in at a time.
    """
    return statement.with_for_update(skip_locked=True, of=of)


def row_lock(statement: Select[Any], *, read: bool = False) -> Select[Any]:
    """Lock the rows `statement` reads until the transaction ends.

    PostgreSQL: `FOR UPDATE` (`read`: `FOR SHARE`). SQLite renders nothing: a transaction
    that writes holds the whole database (`single_writer`), so the rows cannot change under
    it once it has written or begun with `Writes.transaction`.
    """
    return statement.with_for_update(read=read)


class json_append(FunctionElement[Any]):
    """`json_append(column, value)`: `column || [value]` for a JSON list column, in SQL (no
    read-modify-write), one portable expression rendered per dialect.

    PostgreSQL: `CAST(CAST(column AS JSONB) || jsonb_build_array(CAST(value AS VARCHAR)) AS
    JSON)`; SQLite: `json_insert(column, '$[#]', value)`."""

    type = JSON()
    name = "json_append"
    inherit_cache = True


@compiles(json_append)
def _json_append_sqlite(element: json_append, compiler: SQLCompiler, **kw: Any) -> str:
    column, value = element.clauses.clauses
    return compiler.process(func.json_insert(column, "$[#]", value), **kw)


@compiles(json_append, POSTGRESQL)
def _json_append_postgresql(element: json_append, compiler: SQLCompiler, **kw: Any) -> str:
    column, value = element.clauses.clauses
    added = func.jsonb_build_array(sql_cast(value, String))
    return compiler.process(
        sql_cast(sql_cast(column, postgresql.JSONB).op("||")(added), JSON), **kw
    )


class seconds_between(FunctionElement[Any]):
    """`seconds_between(later, earlier)`: the seconds from one timestamp column to another
    as a float, in SQL (for aggregates such as the publish-lag histogram of `/metrics`).

    PostgreSQL: `EXTRACT(EPOCH FROM later - earlier)`; SQLite, which keeps naive UTC text:
    `(julianday(later) - julianday(earlier)) * 86400.0`."""

    type = Float()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between)
def _seconds_between_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = element.clauses.clauses
    days = func.julianday(later) - func.julianday(earlier)
    # Inline, not bound: a GROUP BY must repeat the selected expression word for word.
    return compiler.process(days * literal_column("86400.0"), **kw)


@compiles(seconds_between, POSTGRESQL)
def _seconds_between_postgresql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = element.clauses.clauses
    return compiler.process(sql_cast(extract("epoch", later - earlier), Float), **kw)


def combines_writes(bind: Bind) -> bool:
    """Whether several writes can be one statement: data-modifying CTEs
    (`WITH a AS (UPDATE … RETURNING …) INSERT …`), array parameters (`unnest(:keys)`) and
    `LATERAL`. PostgreSQL: yes, and a step saves its round trips. SQLite: no; the same step
    runs as one statement per write inside `Writes.transaction`."""
    return is_postgresql(bind)


def aggregates_rows(bind: Bind) -> bool:
    """Whether a correlated subquery can hand back many rows as one value: an ordered JSON
    array (`ordered_json_agg`) or an array (`func.array_agg`), so a read of a row and its
    children is one statement. PostgreSQL: yes. SQLite: no; read the children separately."""
    return is_postgresql(bind)


def ordered_json_agg(row: Any, order_by: Any) -> Any:
    """`json_agg(row ORDER BY order_by)`, for statements that run where `aggregates_rows`."""
    return func.json_agg(postgresql.aggregate_order_by(row, order_by))


_ADVISORY_LOCK = FastStatement(
    text(
        "SELECT pg_advisory_xact_lock(:class_id, hashtext(key)) "
        "FROM unnest(CAST(:keys AS text[])) AS key"
    ).bindparams(bindparam("class_id", type_=Integer), bindparam("keys", type_=ARRAY(String)))
)


async def advisory_xact_lock(
    connection: AsyncConnection, class_id: int, keys: Sequence[str]
) -> bool:
    """Take PostgreSQL's transaction-scoped advisory lock on each key, held until the
    transaction ends, in sorted order (two lockers cannot deadlock). True when taken.

    SQLite takes nothing and returns False: inside `Writes.transaction` the database's one
    write lock already serialises every writer."""
    if not is_postgresql(connection):
        return False
    await _ADVISORY_LOCK.run(connection, {"class_id": class_id, "keys": sorted(keys)})
    return True


async def serialize_check(session: AsyncSession, class_id: int, key: str) -> None:
    """Before a check-then-insert (no two posts alike): until this transaction ends, another
    transaction checking `key` waits here, then its reads see this one's commit.

    PostgreSQL: the key's advisory lock (only the same key waits). SQLite: the write turn,
    taken before the reads rather than at the first write (every writer waits)."""
    if is_postgresql(session):
        await advisory_xact_lock(await session.connection(), class_id, [key])
    elif isinstance(session, TurnTakingSession):
        await session.hold_write_turn()


# -- transactions -----------------------------------------------------------------------


class Writes:
    """Short write transactions on `engine`, the right way for its database.

    SQLite: the engine's connections run in driver-level autocommit and this class issues
    `BEGIN IMMEDIATE` / `COMMIT` itself, so a transaction takes the write lock up front
    (a deferred BEGIN would upgrade its read lock later and could fail with "database is
    locked" instead of waiting). PostgreSQL on asyncpg: an autocommit connection in a
    transaction the driver begins up front (READ COMMITTED, as `engine.begin()`), so the
    prebuilt hot-path statements can go straight to the driver from the first one.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._autocommit = autocommit_engine(engine)
        self._immediate = single_writer(engine)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A short write transaction; never held across a platform call."""
        if runs_compiled_on_driver(self.engine.dialect):
            async with self._autocommit.connect() as connection:
                driver: Any = (await connection.get_raw_connection()).driver_connection
                # Begun by the driver at once, so prebuilt statements (`FastStatement`) run
                # on it from the first; Core statements run in it too.
                try:
                    async with driver.transaction(isolation="read_committed"):
                        yield connection
                finally:
                    if driver.is_in_transaction():
                        # A rollback cut short (a cancellation): the pool must not get back
                        # a connection inside a transaction, locks held. Closing ends it.
                        await connection.invalidate()
            return
        if not self._immediate:
            async with self.engine.begin() as connection:
                yield connection
            return
        async with self._autocommit.connect() as connection:
            await connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                await connection.exec_driver_sql("ROLLBACK")
                raise
            await connection.exec_driver_sql("COMMIT")

    @asynccontextmanager
    async def one_statement(self) -> AsyncIterator[AsyncConnection]:
        """For a step that is one statement: PostgreSQL runs it in autocommit (atomic by
        itself, no BEGIN/COMMIT round trips); SQLite in a `transaction()`."""
        if self._immediate:
            async with self.transaction() as connection:
                yield connection
            return
        async with self._autocommit.connect() as connection:
            yield connection


# -- wake-ups ---------------------------------------------------------------------------


def listens(bind: Bind) -> bool:
    """Whether other processes can be woken through the database (LISTEN/NOTIFY)."""
    return is_postgresql(bind)


async def notify(session: AsyncSession, channel: str) -> bool:
    """Send a NOTIFY on `channel`, delivered to every listener when the session commits
    (PostgreSQL). SQLite has none: nothing is sent and the answer is False."""
    if not listens(session):
        return False
    await session.execute(select(func.pg_notify(channel, "")))
    return True


async def listen_until_lost(database_url: str, channel: str, notified: Callable[[], None]) -> None:
    """PostgreSQL: LISTEN on `channel` on a dedicated driver connection (SQLAlchemy has no
    LISTEN API); call `notified` once listening and on each notification, and return when
    the connection drops."""
    dsn = make_url(database_url).set(drivername=POSTGRESQL).render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn, timeout=5)
    lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    try:
        connection.add_termination_listener(partial(_resolve, lost))
        await connection.add_listener(channel, lambda *_: notified())
        notified()  # anything announced while nobody listened is due now
        await lost
    finally:
        if not connection.is_closed():
            await connection.close(timeout=2)


def _resolve(future: asyncio.Future[None], *_: object) -> None:
    if not future.done():
        future.set_result(None)


# -- files and types --------------------------------------------------------------------


def companion_url(database_url: str, name: str) -> str | None:
    """Where a separate concern (e.g. the TikTok sandbox's state) keeps its own rows.

    PostgreSQL: the same database. SQLite: a sibling file (`tiktimer.db` ->
    `tiktimer-<name>.db`), because a file has one writer and a concern that must not wait
    for the service's write transactions needs a writer of its own. None for an in-memory
    (or URI-named) SQLite database, which has no place for a sibling.
    """
    url = make_url(database_url)
    if url.get_backend_name() != SQLITE:
        return database_url
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        return None
    path = Path(url.database)
    sibling = path.with_name(f"{path.stem}-{name}{path.suffix}")
    return url.set(database=str(sibling)).render_as_string(hide_password=False)


def naive_utc_storage(dialect: Dialect) -> bool:
    """SQLite has no time zones: UTC columns store naive UTC values (read back aware)."""
    return dialect.name == SQLITE


def driver_returns_aware_utc(dialect: Dialect) -> bool:
    """asyncpg returns `timestamptz` as aware UTC datetimes: no result processing needed."""
    return dialect.name == POSTGRESQL
