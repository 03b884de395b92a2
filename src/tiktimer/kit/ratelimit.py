"""Request rate limits on `limits` (alisaifee/limits), failing open when their storage is down.

Why `limits`: a maintained library with an asyncio API (`limits.aio`) over both in-process
memory and Redis through redis-py's `redis.asyncio`, so the embedded single process and a
fleet of API processes count the same way, with the same code.

Why the sliding-window counter: it keeps two counters per key whatever the limit's size (one
Lua call in Redis), where the moving window stores a timestamp per request; unlike a fixed
window it lets no burst of twice the limit through at a window boundary. Its count weighs the
previous window linearly, an approximation that is plenty for abuse limits.

Locks (`lock`, `check_lock`) use a fixed window instead, which starts at the first hit rather
than at a clock boundary: a lock of 15 minutes lasts 15 minutes from the moment it is taken.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter, SlidingWindowCounterRateLimiter
from limits.errors import StorageError

from tiktimer.errors import TooManyRequests

if TYPE_CHECKING:
    from redis.asyncio import ConnectionPool

log = logging.getLogger("tiktimer.ratelimit")

T = TypeVar("T")

# A Redis that does not answer must not hold requests up: one short try, then requests go
# unlimited (without asking Redis) for a few seconds before it is tried again.
REDIS_TIMEOUT_SECONDS = 0.5
REDIS_PAUSE_SECONDS = 5.0


class RateLimiter:
    """Counts requests per key; `hit` raises `TooManyRequests` once a limit is used up."""

    def __init__(self, storage: Storage | None, pool: ConnectionPool | None = None) -> None:
        self._strategy = SlidingWindowCounterRateLimiter(storage) if storage else None
        self._locks = FixedWindowRateLimiter(storage) if storage else None
        self._pool = pool
        self._paused_until = 0.0
        self._healthy = True

    @classmethod
    def off(cls) -> RateLimiter:
        return cls(None)

    @classmethod
    def in_memory(cls) -> RateLimiter:
        """Counts in this process only: right for the embedded single-process setup."""
        return cls(MemoryStorage(wrap_exceptions=True))

    @classmethod
    def on_redis(cls, url: str, key_prefix: str) -> RateLimiter:
        """Counts shared by every process using the same Redis and prefix."""
        from redis.asyncio import ConnectionPool
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        pool = ConnectionPool.from_url(
            url,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), retries=0),
        )
        options: dict[str, Any] = {"connection_pool": pool}
        storage = RedisStorage(
            f"async+{url}",
            implementation="redispy",
            wrap_exceptions=True,
            key_prefix=key_prefix,
            **options,
        )
        return cls(storage, pool)

    @property
    def enabled(self) -> bool:
        return self._strategy is not None

    async def hit(self, items: Sequence[RateLimitItem], *key: str) -> None:
        """Count one request for `key` against each limit; fail open if storage is down."""

        async def hit_all(strategy: SlidingWindowCounterRateLimiter) -> None:
            for item in items:
                if not await strategy.hit(item, *key):
                    raise TooManyRequests(await _retry_after(strategy, item, key))

        await self._guarded(hit_all, None)

    async def hit_fresh(self, items: Sequence[RateLimitItem], *key: str) -> bool:
        """Like `hit`; True when nothing was counted for `key` before (a clean record)."""

        async def first(strategy: SlidingWindowCounterRateLimiter) -> bool:
            fresh = True
            for item in items:
                stats = await strategy.get_window_stats(item, *key)
                fresh = fresh and stats.remaining >= item.amount
            for item in items:
                if not await strategy.hit(item, *key):
                    raise TooManyRequests(await _retry_after(strategy, item, key))
            return fresh

        return await self._guarded(first, True)

    async def count(self, items: Sequence[RateLimitItem], *key: str) -> bool:
        """Count one event; False when a limit is now used up (nothing is raised)."""

        async def count_all(strategy: SlidingWindowCounterRateLimiter) -> bool:
            room = True
            for item in items:
                room = await strategy.hit(item, *key) and room
                room = room and await strategy.test(item, *key)
            return room

        return await self._guarded(count_all, True)

    async def clear(self, items: Sequence[RateLimitItem], *key: str) -> None:
        """Forget what was counted for `key` (a success forgives the failures before it)."""

        async def clear_all(strategy: SlidingWindowCounterRateLimiter) -> None:
            for item in items:
                await strategy.clear(item, *key)

        await self._guarded(clear_all, None)

    async def lock(self, item: RateLimitItem, *key: str) -> bool:
        """Lock `key` for `item`'s period (`item` allows 1); True only for the call that took it."""
        locks = self._locks
        if locks is None:
            return False

        async def take(_: SlidingWindowCounterRateLimiter) -> bool:
            return await locks.hit(item, *key)

        return await self._guarded(take, False)

    async def locked(self, item: RateLimitItem, *key: str) -> bool:
        """Whether a lock taken with `lock` is running on `key` (False when limits are off)."""
        locks = self._locks
        if locks is None:
            return False

        async def held(_: SlidingWindowCounterRateLimiter) -> bool:
            return not await locks.test(item, *key)

        return await self._guarded(held, False)

    async def check_lock(self, item: RateLimitItem, *key: str) -> None:
        """Raise `TooManyRequests` (Retry-After: the rest of the lock) while `key` is locked."""
        locks = self._locks
        if locks is None:
            return

        async def check(_: SlidingWindowCounterRateLimiter) -> None:
            if not await locks.test(item, *key):
                stats = await locks.get_window_stats(item, *key)
                raise TooManyRequests(max(1, math.ceil(stats.reset_time - time.time())))

        await self._guarded(check, None)

    async def _guarded(
        self,
        operation: Callable[[SlidingWindowCounterRateLimiter], Awaitable[T]],
        default: T,
    ) -> T:
        """Run `operation` unless limits are off or paused; storage errors fail open."""
        if self._strategy is None or time.monotonic() < self._paused_until:
            return default
        try:
            result = await operation(self._strategy)
        except (StorageError, OSError) as exc:
            self._pause(exc)
            return default
        if not self._healthy:
            self._healthy = True
            log.info("ratelimit.storage_recovered: limits apply again")
        return result

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()

    def _pause(self, exc: Exception) -> None:
        # Only the error's type: its text may carry the storage address.
        cause = exc.storage_error if isinstance(exc, StorageError) else exc
        self._paused_until = time.monotonic() + REDIS_PAUSE_SECONDS
        if self._healthy:
            self._healthy = False
            log.warning(
                "ratelimit.storage_unavailable error=%s: requests are not limited until it is back",
                type(cause).__name__,
            )


async def _retry_after(
    strategy: SlidingWindowCounterRateLimiter, item: RateLimitItem, key: tuple[str, ...]
) -> int:
    stats = await strategy.get_window_stats(item, *key)
    return max(1, math.ceil(stats.reset_time - time.time()))
