"""Engine construction and the startup connection retry the original promised."""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

import orjson
from sqlalchemy import event, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry, NullPool, Pool

from tiktimer.db.dialect import is_sqlite_url, single_writer
from tiktimer.db.fairpool import FairSession
from tiktimer.db.sqlite_turns import TurnTakingSession, WriteTurn
from tiktimer.kit.backoff import Backoff

log = logging.getLogger(__name__)


class DatabaseUnavailable(Exception):
    """The database could not be reached after every retry."""


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    pool_timeout: float = 30.0,
    application_name: str = "tiktimer",
    one_off: bool = False,
) -> AsyncEngine:
    """The process's engine; `one_off=True` for a check or a migration that needs one connection.

    A one-off engine keeps no pool: its connection closes when returned, so there is
    nothing to `dispose()`. Disposing a pooled engine logs "Pool disposed" and "Pool
    recreating" (it builds a fresh pool to replace the old one), which every start-up
    used to do for its throwaway reachability and revision checks.
    """
    json = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}
    # Overflow connections are closed on return: churn under load.
    pool: dict[str, Any] = {
        "poolclass": AsyncAdaptedQueuePool,
        "pool_size": pool_size,
        "max_overflow": 0,
        "pool_timeout": pool_timeout,
    }
    if one_off:
        pool = {"poolclass": NullPool}
    if is_sqlite_url(url):
        if ":memory:" in url:
            pool = {}  # one shared connection: the database lives in it
        engine = create_async_engine(url, connect_args={"timeout": 30}, **pool, **json)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        engine = create_async_engine(
            url,
            pool_pre_ping=False,
            pool_recycle=1800,
            connect_args={
                "server_settings": {"application_name": application_name},
                "timeout": 5,
            },
            **pool,
            **json,
        )
    return engine


def _json_dumps(value: Any) -> str:
    """orjson for JSON columns: much faster than the standard library on every row."""
    return orjson.dumps(value).decode()


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    """WAL lets readers run beside the one writer; busy_timeout makes writers queue, not fail."""
    cursor: Any = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions in the pool's fair line, without autoflush; on SQLite they take turns to write."""
    if not single_writer(engine):
        return async_sessionmaker(
            engine, class_=FairSession, expire_on_commit=False, autoflush=False
        )
    return async_sessionmaker(
        engine,
        class_=TurnTakingSession,
        expire_on_commit=False,
        autoflush=False,
        write_turn=write_turn_for(engine),
    )


_TURNS: weakref.WeakKeyDictionary[Pool, WriteTurn] = weakref.WeakKeyDictionary()


def write_turn_for(engine: AsyncEngine) -> WriteTurn:
    """The one write turn of the engine's database, shared by all its sessionmakers."""
    return _TURNS.setdefault(engine.sync_engine.pool, WriteTurn())


async def wait_for_database(
    engine: AsyncEngine, *, retries: int = 5, base_delay: float = 0.5, max_delay: float = 8.0
) -> None:
    """Try to connect with exponential backoff; raise a clear error after the last try."""
    attempt = 0
    while True:
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            return
        except (OperationalError, DBAPIError, OSError) as exc:
            if attempt >= retries:
                raise DatabaseUnavailable(
                    f"database {engine.url.render_as_string(hide_password=True)} unreachable "
                    f"after {attempt + 1} attempts: {type(exc).__name__}: {_short(exc)}"
                ) from exc
            delay = Backoff(base_delay, 2.0, max_delay).delay(attempt)
            log.warning(
                "db.connect.retry attempt=%d delay=%.1fs error=%s",
                attempt + 1,
                delay,
                type(exc).__name__,
            )
            await asyncio.sleep(delay)
            attempt += 1


def _short(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    return str(original).splitlines()[0][:200] if str(original) else type(original).__name__
