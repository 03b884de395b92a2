"""The `StateStore` seam: where the emulator's state lives.

Only the in-memory store exists today; every operation runs inside `locked()`, so a
persisted store shared by processes (as TikTok's sandbox has) can load and save the
`State` around each operation later without touching the routes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from .models import State


class StateStore(Protocol):
    def locked(self) -> AbstractAsyncContextManager[State]:
        """The state, held for one operation."""
        ...


class MemoryStore:
    """One process's state behind one lock."""

    def __init__(self) -> None:
        self.state = State()
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def _locked(self) -> AsyncIterator[State]:
        async with self._lock:
            yield self.state

    def locked(self) -> AbstractAsyncContextManager[State]:
        return self._locked()
