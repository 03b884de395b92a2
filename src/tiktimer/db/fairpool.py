"""A connection pool that serves waiters in arrival order.

SQLAlchemy's asyncio pool lets a newcomer take a connection that was just returned before
the longest waiter wakes up; a waiter that loses that race goes back to the end of the line.
Under a full pool a few unlucky requests lose it again and again: the median stays short
while the 99th percentile grows by an order of magnitude. Here a returned connection is
handed straight to the oldest waiter, so nobody can overtake.
"""

from __future__ import annotations

import asyncio
from collections import deque
from contextlib import suppress

from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry
from sqlalchemy.util import await_
from sqlalchemy.util.queue import Empty, Full, QueueCommon


class HandoffQueue(QueueCommon[ConnectionPoolEntry]):
    """Idle connections plus a FIFO line of waiters; a put goes to the first live waiter."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        self.maxsize = maxsize
        self.use_lifo = use_lifo
        self._idle: deque[ConnectionPoolEntry] = deque()
        self._waiters: deque[asyncio.Future[ConnectionPoolEntry]] = deque()

    def empty(self) -> bool:
        return not self._idle

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._idle)

    def qsize(self) -> int:
        return len(self._idle)

    def waiting(self) -> int:
        return sum(1 for waiter in self._waiters if not waiter.done())

    def put_nowait(self, item: ConnectionPoolEntry) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(item)
                return
        if self.full():
            raise Full()
        self._idle.append(item)

    def put(
        self, item: ConnectionPoolEntry, block: bool = True, timeout: float | None = None
    ) -> None:
        # The pool only returns connections without blocking; a handoff never waits anyway.
        self.put_nowait(item)

    def get_nowait(self) -> ConnectionPoolEntry:
        if not self._idle:
            raise Empty()
        return self._idle.pop() if self.use_lifo else self._idle.popleft()

    def get(self, block: bool = True, timeout: float | None = None) -> ConnectionPoolEntry:
        # Idle connections exist only while nobody waits (a put serves waiters first),
        # so taking one here overtakes no one.
        if self._idle or not block:
            return self.get_nowait()
        try:
            return await_(self._wait(timeout))
        except TimeoutError:
            raise Empty() from None

    async def _wait(self, patience: float | None) -> ConnectionPoolEntry:
        waiter: asyncio.Future[ConnectionPoolEntry] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(patience):
                return await waiter
        except BaseException:
            # Timed out or cancelled: a connection handed over in the meantime must not be
            # lost with this waiter, so it goes on to the next one in line.
            if waiter.done() and not waiter.cancelled():
                self.put_nowait(waiter.result())
            else:
                waiter.cancel()
                with suppress(ValueError):
                    self._waiters.remove(waiter)
            raise


class FairAsyncPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio pool with first-come, first-served checkouts."""

    _queue_class = HandoffQueue
