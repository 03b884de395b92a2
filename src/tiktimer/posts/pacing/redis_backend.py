"""The window in a Redis sorted set, on Redis's own clock, when `TIKTIMER_REDIS_URL` is set.

One Lua script per grant; while Redis is unreachable the database paces instead.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import replace
from datetime import datetime

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from tiktimer.posts.pacing.db_backend import DbPacer
from tiktimer.posts.pacing.window import RateLimits, SlidingWindowPacer, Slot
from tiktimer.posts.queue.database import QueueDatabase

log = logging.getLogger("tiktimer.posts.pacing")

# A dead Redis must cost a call seconds, not minutes: the database takes over meanwhile.
REDIS_TIMEOUT_SECONDS = 2.0

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
    queue: QueueDatabase, limits: RateLimits, redis_url: str | None = None
) -> SlidingWindowPacer:
    database = DbPacer(queue, limits)
    if not redis_url:
        return database
    return RedisPacer(redis_client(redis_url), limits, database)
