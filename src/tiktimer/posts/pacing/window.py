"""The sliding window every pacer shares: slots, prepaid slots, and the per-bucket limits.

A backend only takes a slot (`_take`) and re-stamps one (`_restamp`); reserving, waiting,
and handing a reserved slot to the publisher's own `acquire` are the same for all.
"""

from __future__ import annotations

import asyncio
import logging
import random
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime

from tiktimer.posts.queue.records import TransactionalPacing

log = logging.getLogger("tiktimer.posts.pacing")


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

    def transactional(
        self, account_id: int, *buckets: str, ahead: Mapping[str, float] | None = None
    ) -> TransactionalPacing | None:
        """A grant of every bucket's slot at once (or none) inside a queue transaction, when
        this pacer can do that. A bucket in `ahead` is stamped that many seconds after the
        grant, when its call is planned (counted from the grant on: never less safe), so
        using it then needs no re-stamp."""
        return None

    def slot(self, account_id: int, bucket: str, ref: str, *, ahead: float = 0.0) -> Slot:
        """The `Slot` of a grant made by `transactional`, for `prepaid`."""
        loop_time = asyncio.get_running_loop().time() + ahead
        return Slot(account_id, bucket, f"{bucket}:{account_id}", ref, loop_time)

    async def prune(self, now: datetime) -> None:  # noqa: B027 - optional hook
        """Drop what has left every window (keeps the shared table small)."""

    async def aclose(self) -> None:
        return None
