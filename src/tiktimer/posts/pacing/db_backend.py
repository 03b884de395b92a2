"""The window in `rate_limit_hits` rows, in the queue's database.

A granted call inserts a row; a call may go when fewer than `limit` rows are younger than
the window. Grants for one key are serialised by a transaction-scoped advisory lock
(PostgreSQL) or by SQLite's single writer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ARRAY,
    Float,
    Integer,
    String,
    bindparam,
    column,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from tiktimer.db.base import UTCDateTime
from tiktimer.db.dialect import advisory_xact_lock, combines_writes
from tiktimer.db.prebuilt import FastStatement
from tiktimer.kit.time import ensure_utc, utc_now
from tiktimer.models import RateLimitHit
from tiktimer.posts.pacing.window import RateLimits, SlidingWindowPacer, Slot
from tiktimer.posts.queue.database import QueueDatabase
from tiktimer.posts.queue.records import TransactionalPacing
from tiktimer.posts.queue.tables import cast_table

hits = cast_table(RateLimitHit.__table__)
Grant = tuple[float, dict[str, str] | None]
"""(0.0, the slot ref per key) or (seconds until every key has room, None)."""
# advisory_xact_lock(classid, key): classid marks the lock as a pacing lock.
_ADVISORY_CLASS = 0x7417


class DbPacer(SlidingWindowPacer):
    def __init__(self, queue: QueueDatabase, limits: RateLimits) -> None:
        super().__init__(limits)
        self.queue = queue
        self._window = timedelta(seconds=limits.window_seconds)
        self._in_one = combines_writes(queue.engine)

    async def _take(self, key: str, limit: int) -> tuple[float, str | None]:
        async with self.queue.transaction() as connection:
            wait, refs = await self._grant(connection, {key: limit}, {})
        return wait, refs[key] if refs is not None else None

    async def _grant(
        self, connection: AsyncConnection, limits: Mapping[str, int], ahead: Mapping[str, float]
    ) -> Grant:
        """The grants inside the caller's transaction: the keys' advisory locks (PostgreSQL;
        SQLite's `BEGIN IMMEDIATE` serialises instead) last until it commits, and the grants
        commit (or roll back) with it. A key in `ahead` is stamped that much later."""
        await advisory_xact_lock(connection, _ADVISORY_CLASS, list(limits))
        if self._in_one:
            return await self._grant_in_one(connection, limits, ahead)
        return await self._grant_each(connection, limits, ahead)

    async def _grant_in_one(
        self, connection: AsyncConnection, limits: Mapping[str, int], ahead: Mapping[str, float]
    ) -> Grant:
        """One statement that counts each window and inserts every grant if each has room (a
        statement of its own, after the locks, so its snapshot sees every grant committed
        before them)."""
        keys = sorted(limits)
        now = utc_now()  # read after the locks: the windows are judged as of the grant
        params = {
            "keys": keys,
            "limits": [limits[k] for k in keys],
            "ahead": [float(ahead.get(k, 0.0)) for k in keys],
            "since": now - self._window,
            "now": now,
        }
        rows = await _GRANT_IN_ONE.rows(connection, params)
        return self._granted(rows, now)

    def _granted(self, rows: Sequence[Any], now: datetime) -> Grant:
        """(0, ref per key) when every key got its slot, else (seconds until all can)."""
        refs = {str(key): str(row_id) for key, row_id, _oldest in rows if row_id is not None}
        if len(refs) == len(rows):
            return 0.0, refs
        frees = [ensure_utc(oldest) + self._window for _k, row_id, oldest in rows if row_id is None]
        return max(max((at - now).total_seconds() for at in frees), 0.001), None

    async def _grant_each(
        self, connection: AsyncConnection, limits: Mapping[str, int], ahead: Mapping[str, float]
    ) -> Grant:
        """One read per key, then one insert per grant (SQLite)."""
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
            at = now + timedelta(seconds=ahead.get(key, 0.0))
            statement = insert(hits).values(bucket=key, at=at).returning(hits.c.id)
            refs[key] = str((await connection.execute(statement)).scalar_one())
        return 0.0, refs

    def transactional(
        self, account_id: int, *buckets: str, ahead: Mapping[str, float] | None = None
    ) -> TransactionalPacing | None:
        limits = {
            f"{bucket}:{account_id}": limit
            for bucket in buckets
            if (limit := self.limits.limit(bucket)) is not None
        }
        if not limits:
            return None
        later = {f"{bucket}:{account_id}": seconds for bucket, seconds in (ahead or {}).items()}

        async def grant(connection: AsyncConnection) -> tuple[float, dict[str, str] | None]:
            wait, refs = await self._grant(connection, limits, later)
            if refs is None:
                return wait, None
            return 0.0, {key.split(":", 1)[0]: ref for key, ref in refs.items()}

        return grant

    async def _restamp(self, slot: Slot) -> None:
        async with self.queue.one_statement() as connection:
            await _RESTAMP.run(connection, {"hit_id": int(slot.ref), "stamped_at": utc_now()})

    async def prune(self, now: datetime) -> None:
        async with self.queue.transaction() as connection:
            await connection.execute(delete(hits).where(hits.c.at <= now - self._window))


# Both run once per post or more: prebuilt, on the driver where that is safe (`db/prebuilt`).
_RESTAMP = FastStatement(
    update(hits).where(hits.c.id == bindparam("hit_id")).values(at=bindparam("stamped_at"))
)
# Where `combines_writes` (PostgreSQL): per key, the `limit` newest hits in its window; a
# grant of every key when each has fewer. Returns per key: the grant's id (NULL: none) and
# the oldest of those hits. Parameters go through their types' processing (`UTCDateTime`'s
# aware-UTC check included).
_GRANT_IN_ONE = FastStatement(
    text(
        """
WITH wanted AS (
    SELECT * FROM unnest(
        CAST(:keys AS text[]), CAST(:limits AS int[]), CAST(:ahead AS float8[])
    ) AS w(bucket, lim, ahead)
), recent AS (
    SELECT w.bucket, r.at FROM wanted w CROSS JOIN LATERAL (
        SELECT at FROM rate_limit_hits h
        WHERE h.bucket = w.bucket AND h.at > :since ORDER BY h.at DESC LIMIT w.lim
    ) r
), counted AS (
    SELECT w.bucket, w.lim, count(r.at) AS n, min(r.at) AS oldest
    FROM wanted w LEFT JOIN recent r ON r.bucket = w.bucket GROUP BY w.bucket, w.lim
), granted AS (
    INSERT INTO rate_limit_hits (bucket, at)
    SELECT bucket, :now + make_interval(secs => ahead) FROM wanted
    WHERE NOT EXISTS (SELECT 1 FROM counted WHERE n >= lim)
    RETURNING id, bucket
)
SELECT c.bucket, g.id, c.oldest FROM counted c LEFT JOIN granted g ON g.bucket = c.bucket
"""
    )
    .bindparams(
        bindparam("keys", type_=ARRAY(String)),
        bindparam("limits", type_=ARRAY(Integer)),
        bindparam("ahead", type_=ARRAY(Float)),
        bindparam("since", type_=UTCDateTime()),
        bindparam("now", type_=UTCDateTime()),
    )
    .columns(column("bucket", String), column("id", Integer), column("oldest", UTCDateTime()))
)
