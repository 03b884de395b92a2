"""Where the emulator's state lives: the `StateStore` seam, in memory for now.

Every operation runs inside `transaction()`, which hands out the one `State` under a lock.
A persisted store (shared by every sandbox process, like TikTok's) would load the state's
snapshot there and write it back on leaving; none exists yet.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from .state import State


class StateStore(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[State]:
        """The state for one operation, held exclusively until the block ends."""


class MemoryStore:
    def __init__(self) -> None:
        self._state = State()
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[State]:
        async with self._lock:
            yield self._state
