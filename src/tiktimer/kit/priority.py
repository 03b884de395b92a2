"""`PriorityGate`: a semaphore whose waiters go in order of priority, then of arrival.

Used in front of the password-hash threads: during a guessing storm the hash queue is long,
and the owner's login should not wait behind hundreds of guesses. Priority 0 goes first;
a lane only gets a turn when no caller of a lower number waits, which is the point: under
attack, the suspect attempts wait.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class PriorityGate:
    def __init__(self, capacity: int, priorities: int = 2) -> None:
        self._free = capacity
        self._lanes: list[deque[asyncio.Future[None]]] = [deque() for _ in range(priorities)]

    @asynccontextmanager
    async def turn(self, priority: int) -> AsyncIterator[None]:
        """Hold one of the gate's places for the block; 0 is the most urgent priority."""
        await self._acquire(priority)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, priority: int) -> None:
        if self._free > 0 and not any(self._lanes):
            self._free -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        lane = self._lanes[min(max(priority, 0), len(self._lanes) - 1)]
        lane.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # the place came just as the caller gave up: pass it on
            elif waiter in lane:
                lane.remove(waiter)
            raise

    def _release(self) -> None:
        for lane in self._lanes:
            while lane:
                waiter = lane.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    return
        self._free += 1
