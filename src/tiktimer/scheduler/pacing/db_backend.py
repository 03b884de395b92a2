"""The window in `rate_limit_hits` rows, in the queue's database.

A granted call inserts a row; a call may go when fewer than `limit` rows are younger than
the window. Grants for one key are serialised by a transaction-scoped advisory lock
(PostgreSQL) or by SQLite's single writer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tiktimer.kit.time import ensure_utc, utc_now
from tiktimer.models import RateLimitHit
from tiktimer.scheduler.pacing.window import RateLimits, SlidingWindowPacer, Slot
from tiktimer.scheduler.queue.database import QueueDatabase
from tiktimer.scheduler.queue.records import TransactionalPacing
from tiktimer.scheduler.queue.tables import cast_table

hits = cast_table(RateLimitHit.__table__)
Grant = tuple[float, dict[str, str] | None]
"""(0.0, the slot ref per key) or (seconds until every key has room, None)."""
# pg_advisory_xact_lock(classid, objid): classid marks the lock as a pacing lock.
_ADVISORY_CLASS = 0x7417


class DbPacer(SlidingWindowPacer):
    def __init__(self, queue: QueueDatabase, limits: RateLimits) -> None:
        super().__init__(limits)
        self.queue = queue
        self._window = timedelta(seconds=limits.window_seconds)

    async def _take(self, key: str, limit: int) -> tuple[float, str | None]:
        if self.queue.dialect == "postgresql":
            async with self.queue.engine.connect() as connection:
                wait, refs = await self._take_pg(connection, {key: limit})
        else:
            async with self.queue.transaction() as connection:
                wait, refs = await self._take_sqlite(connection, {key: limit})
        return wait, refs[key] if refs is not None else None

    async def _take_pg(self, connection: AsyncConnection, limits: Mapping[str, int]) -> Grant:
        """PostgreSQL: two statements straight on the asyncpg driver, in a transaction of its
        own that the advisory locks last for: the locks, then one that counts each window
        and inserts every grant if each has room (a statement of its own, so its snapshot
        sees every grant committed before the locks). Run before anything else on
        `connection`, it is a top-level transaction."""
        driver: Any = (await connection.get_raw_connection()).driver_connection
        keys = sorted(limits)  # one order for every locker: no deadlock between them
        async with driver.transaction():
            await driver.execute(_PG_LOCK, _ADVISORY_CLASS, keys)
            now = utc_now()  # read after the locks: the windows are judged as of the grant
            rows = await driver.fetch(
                _PG_GRANT, keys, [limits[k] for k in keys], now - self._window, now
            )
        return self._granted(rows, now)

    async def _take_pg_in(self, connection: AsyncConnection, limits: Mapping[str, int]) -> Grant:
        """`_take_pg`'s two statements inside the caller's transaction: the locks last until
        it commits, and the grants commit (or roll back) with it."""
        keys = sorted(limits)
        await connection.exec_driver_sql(_PG_LOCK, (_ADVISORY_CLASS, keys))
        now = utc_now()
        limit_list = [limits[k] for k in keys]
        params = (keys, limit_list, now - self._window, now)
        rows = (await connection.exec_driver_sql(_PG_GRANT, params)).all()
        return self._granted(rows, now)

    def _granted(self, rows: Sequence[Any], now: datetime) -> Grant:
        """(0, ref per key) when every key got its slot, else (seconds until all can)."""
        refs = {str(key): str(row_id) for key, row_id, _oldest in rows if row_id is not None}
        if len(refs) == len(rows):
            return 0.0, refs
        frees = [ensure_utc(oldest) + self._window for _k, row_id, oldest in rows if row_id is None]
        return max(max((at - now).total_seconds() for at in frees), 0.001), None

    async def _take_sqlite(self, connection: AsyncConnection, limits: Mapping[str, int]) -> Grant:
        """The grants inside the caller's transaction (SQLite: BEGIN IMMEDIATE serialises)."""
        now = utc_now()
        frees: list[datetime] = []
        for key, limit in limits.items():
            recent = (
                (
                    await connection.execute(
                        select(hits.c.at)
                        .where(hits.c.bucket == key, hits.c.at > now - self._window)
                        .order_by(hits.c.at.desc())
                        .limit(limit)
                    )
                )
                .scalars()
                .all()
            )
            if len(recent) >= limit:
                frees.append(ensure_utc(recent[-1]) + self._window)
        if frees:
            return max(max((at - now).total_seconds() for at in frees), 0.001), None
        refs = {}
        for key in limits:
            statement = insert(hits).values(bucket=key, at=now).returning(hits.c.id)
            refs[key] = str((await connection.execute(statement)).scalar_one())
        return 0.0, refs

    def transactional(self, account_id: int, *buckets: str) -> TransactionalPacing | None:
        limits = {
            f"{bucket}:{account_id}": limit
            for bucket in buckets
            if (limit := self.limits.limit(bucket)) is not None
        }
        if not limits:
            return None
        take = self._take_pg_in if self.queue.dialect == "postgresql" else self._take_sqlite

        async def grant(connection: AsyncConnection) -> tuple[float, dict[str, str] | None]:
            wait, refs = await take(connection, limits)
            if refs is None:
                return wait, None
            return 0.0, {key.split(":", 1)[0]: ref for key, ref in refs.items()}

        return grant

    async def _restamp(self, slot: Slot) -> None:
        if self.queue.dialect == "postgresql":
            async with self.queue.engine.connect() as connection:
                driver: Any = (await connection.get_raw_connection()).driver_connection
                await driver.execute(_PG_RESTAMP, utc_now(), int(slot.ref))
            return
        async with self.queue.transaction() as connection:
            await connection.execute(
                update(hits).where(hits.c.id == int(slot.ref)).values(at=utc_now())
            )

    async def prune(self, now: datetime) -> None:
        async with self.queue.transaction() as connection:
            await connection.execute(delete(hits).where(hits.c.at <= now - self._window))


# Locks every key of one grant, in the order given (callers sort the keys).
_PG_LOCK = "SELECT pg_advisory_xact_lock($1, hashtext(key)) FROM unnest($2::text[]) AS key"
# Per key, the `limit` newest hits in its window; a grant of every key when each has fewer.
# Returns per key: the grant's id (NULL: none) and the oldest of those hits.
_PG_GRANT = """
WITH wanted AS (
    SELECT * FROM unnest($1::text[], $2::int[]) AS w(bucket, lim)
), recent AS (
    SELECT w.bucket, r.at FROM wanted w CROSS JOIN LATERAL (
        SELECT at FROM rate_limit_hits h
        WHERE h.bucket = w.bucket AND h.at > $3 ORDER BY h.at DESC LIMIT w.lim
    ) r
), counted AS (
    SELECT w.bucket, w.lim, count(r.at) AS n, min(r.at) AS oldest
    FROM wanted w LEFT JOIN recent r ON r.bucket = w.bucket GROUP BY w.bucket, w.lim
), granted AS (
    INSERT INTO rate_limit_hits (bucket, at)
    SELECT bucket, $4 FROM wanted WHERE NOT EXISTS (SELECT 1 FROM counted WHERE n >= lim)
    RETURNING id, bucket
)
SELECT c.bucket, g.id, c.oldest FROM counted c LEFT JOIN granted g ON g.bucket = c.bucket
"""
_PG_RESTAMP = "UPDATE rate_limit_hits SET at = $1 WHERE id = $2"
