"""Per-account pacing of TikTok calls, shared by every worker process (reference §7).

TikTok allows, per user access token and sliding minute, 6 inits, 30 status fetches and
20 creator_info queries. The pacer keeps each (account, bucket) under its limit *before*
calling, so twenty posts due in the same minute for one account all go out, paced, instead
of collecting `rate_limit_exceeded` refusals.

`DbPacer` keeps the window in `rate_limit_hits` rows: a granted call inserts a row; a call
may go when fewer than `limit` rows are younger than the window, else it waits until the
`limit`-th newest ages out. Grants for one key are serialised by a transaction-scoped
advisory lock (PostgreSQL) or by SQLite's single writer. `RedisPacer` does the same in one
Lua script on a sorted set, on Redis's own clock, when `TIKTIMER_REDIS_URL` is set.

The scheduler asks before it starts a post (`try_acquire`): when the account's window is
full it hands the post back with a due time instead of holding a worker slot for a minute,
and the slot it got is *prepaid* for the publisher's own `acquire` of the same bucket.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tiktimer.kit.time import ensure_utc, utc_now
from tiktimer.models import RateLimitHit
from tiktimer.scheduler.claims import PostQueue, TransactionalPacing, cast_table

log = logging.getLogger("tiktimer.scheduler.pacing")

hits = cast_table(RateLimitHit.__table__)
Grant = tuple[float, dict[str, str] | None]
"""(0.0, the slot ref per key) or (seconds until every key has room, None)."""
# pg_advisory_xact_lock(classid, objid): classid marks the lock as a pacing lock.
_ADVISORY_CLASS = 0x7417
# A dead Redis must cost a call seconds, not minutes: the database takes over meanwhile.
REDIS_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Slot:
    """A granted call slot: `ref` finds its record again (row id, sorted-set member)."""

    account_id: int
    bucket: str
    key: str
    ref: str
    taken_at: float  # loop time


_prepaid: ContextVar[dict[tuple[int, str], Slot] | None] = ContextVar(
    "tiktimer_prepaid", default=None
)


@dataclass(frozen=True)
class RateLimits:
    window_seconds: float = 61.0  # TikTok's sliding minute plus a second of clock margin
    per_bucket: Mapping[str, int] = field(
        default_factory=lambda: {"init": 6, "status": 30, "creator_info": 20}
    )
    # A reserved slot used within this time keeps its stamp: the window's margin over the
    # platform's covers the difference. Used later, it is re-stamped to the call's time.
    restamp_after: float = 0.0

    def limit(self, bucket: str) -> int | None:
        return self.per_bucket.get(bucket)


class SlidingWindowPacer(ABC):
    """`Pacer` (tiktimer.platforms.contract) over a shared sliding window."""

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits

    @abstractmethod
    async def _take(self, key: str, limit: int) -> tuple[float, str | None]:
        """Take a slot if one is free (0.0, its ref), else (seconds until one frees, None)."""

    @abstractmethod
    async def _restamp(self, slot: Slot) -> None:
        """Move a reserved slot's time to now, when its call actually goes."""

    async def reserve(self, account_id: int, bucket: str) -> tuple[float, Slot | None]:
        """Take a slot now for a call a little later (see `prepaid`), or say how long to wait."""
        limit = self.limits.limit(bucket)
        if limit is None:
            return 0.0, None
        key = f"{bucket}:{account_id}"
        wait, ref = await self._take(key, limit)
        if ref is None:
            return max(wait, 0.001), None
        loop_time = asyncio.get_running_loop().time()
        return 0.0, Slot(account_id, bucket, key, ref, loop_time)

    async def try_acquire(self, account_id: int, bucket: str) -> float:
        """0.0 when a call may go now (the slot is taken), else how long to wait."""
        wait, _ = await self.reserve(account_id, bucket)
        return wait

    async def acquire(self, account_id: int, bucket: str) -> None:
        """Wait until a call in `bucket` may go for this account, and take the slot."""
        if await self._use_prepaid(account_id, bucket):
            return
        while (wait := await self.try_acquire(account_id, bucket)) > 0:
            log.debug("pacing.wait account_id=%d bucket=%s seconds=%.2f", account_id, bucket, wait)
            await asyncio.sleep(wait + random.uniform(0, 0.05))

    async def _use_prepaid(self, account_id: int, bucket: str) -> bool:
        """Use the slot reserved for this call, re-stamped to the moment the call goes.

        A reserved slot counts in the window from its reservation, and after the re-stamp
        from the real call time: the window never loses sight of the call. Reserved too
        long ago to be sure of that, it is left as an extra hit and a new slot is taken.
        """
        prepaid = _prepaid.get()
        slot = prepaid.pop((account_id, bucket), None) if prepaid is not None else None
        if slot is None:
            return False
        age = asyncio.get_running_loop().time() - slot.taken_at
        if age >= self.limits.window_seconds * 0.5:
            return False
        if age <= self.limits.restamp_after:
            return True
        try:
            await self._restamp(slot)
        except Exception as exc:
            log.warning("pacing.restamp_failed bucket=%s error=%s", slot.key, type(exc).__name__)
            return False
        return True

    @contextmanager
    def prepaid(self, *slots: Slot | None) -> Iterator[None]:
        """Within this block, the next `acquire` of each slot's account and bucket uses it."""
        held = dict(_prepaid.get() or {})
        for slot in slots:
            if slot is not None:
                held[(slot.account_id, slot.bucket)] = slot
        token = _prepaid.set(held)
        try:
            yield
        finally:
            _prepaid.reset(token)

    def transactional(self, account_id: int, *buckets: str) -> TransactionalPacing | None:
        """A grant of every bucket's slot at once (or none) inside a queue transaction, when
        this pacer can do that."""
        return None

    def slot(self, account_id: int, bucket: str, ref: str) -> Slot:
        """The `Slot` of a grant made by `transactional`, for `prepaid`."""
        loop_time = asyncio.get_running_loop().time()
        return Slot(account_id, bucket, f"{bucket}:{account_id}", ref, loop_time)

    async def prune(self, now: datetime) -> None:  # noqa: B027 - optional hook
        """Drop what has left every window (keeps the shared table small)."""

    async def aclose(self) -> None:
        return None


class DbPacer(SlidingWindowPacer):
    def __init__(self, queue: PostQueue, limits: RateLimits) -> None:
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

_SLIDING_WINDOW_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
  return '0'
end
local row = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
return tostring(tonumber(row[2]) + window - now)
"""


_RESTAMP_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZADD', KEYS[1], 'XX', now, ARGV[1])
return '0'
"""


class RedisPacer(SlidingWindowPacer):
    """The window in Redis; falls back to the database while Redis is unreachable."""

    def __init__(self, client: Redis, limits: RateLimits, fallback: DbPacer) -> None:
        super().__init__(limits)
        self.client = client
        self.fallback = fallback
        self._warned_at = 0.0
        self._sliding_window = client.register_script(_SLIDING_WINDOW_LUA)
        self._restamp_script = client.register_script(_RESTAMP_LUA)

    async def _take(self, key: str, limit: int) -> tuple[float, str | None]:
        member = secrets.token_hex(8)
        try:
            reply = await self._sliding_window(
                keys=[_redis_key(key)],
                args=[str(self.limits.window_seconds), str(limit), member],
            )
            wait = float(reply)
        except (RedisError, OSError, TimeoutError, ValueError) as exc:
            self._warn(exc)
            wait, ref = await self.fallback._take(key, limit)
            return wait, f"db:{ref}" if ref is not None else None
        return (0.0, member) if wait <= 0 else (wait, None)

    async def _restamp(self, slot: Slot) -> None:
        if slot.ref.startswith("db:"):
            await self.fallback._restamp(replace(slot, ref=slot.ref[3:]))
            return
        await self._restamp_script(keys=[_redis_key(slot.key)], args=[slot.ref])

    def _warn(self, exc: BaseException) -> None:
        now = asyncio.get_running_loop().time()
        if now - self._warned_at > 60:
            self._warned_at = now
            log.warning("pacing.redis_unavailable error=%s: pacing through the database", exc)

    async def prune(self, now: datetime) -> None:
        await self.fallback.prune(now)

    async def aclose(self) -> None:
        await self.client.aclose()


def _redis_key(key: str) -> str:
    return f"tiktimer:pace:{key}"


def redis_client(url: str) -> Redis:
    """A client that fails fast and does not retry: a failed call is paced by the database,
    and the next one reconnects. `url` holds the password: never log it."""
    return Redis.from_url(
        url,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), retries=0),
        decode_responses=True,
    )


def build_pacer(
    queue: PostQueue, limits: RateLimits, redis_url: str | None = None
) -> SlidingWindowPacer:
    database = DbPacer(queue, limits)
    if not redis_url:
        return database
    return RedisPacer(redis_client(redis_url), limits, database)
