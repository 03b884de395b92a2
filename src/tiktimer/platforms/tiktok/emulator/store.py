"""Where the emulator's state lives when it outlives one process: the `StateStore` seam.

Without a store the in-memory model is the whole state (`tiktimer emulator`, the
emulator's own tests). With one, every operation runs inside `StateStore.locked()`: the
store holds its lock for the operation, says which version it holds, loads the snapshot
when asked, and commits the new snapshot (or nothing, if nothing changed).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol


class StateUnavailable(Exception):
    """The shared sandbox state could not be read or written (its database is down)."""


class LockedState(Protocol):
    # The version of the stored snapshot; None when nothing was stored yet.
    version: int | None

    async def load(self) -> dict[str, Any] | None:
        """The stored snapshot (None when nothing was stored yet)."""

    async def commit(self, snapshot: dict[str, Any] | None) -> int | None:
        """Store `snapshot` (None: unchanged), release the lock, return the version now held."""


class StateStore(Protocol):
    def locked(self) -> AbstractAsyncContextManager[LockedState]:
        """The state's lock for one operation; leaving without `commit` rolls back."""

    def describe(self) -> str:
        """Where the state lives, for log lines (no password)."""

    async def aclose(self) -> None: ...
