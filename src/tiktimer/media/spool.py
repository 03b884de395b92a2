"""Appending request bytes to a local file without blocking the event loop.

Received chunks are gathered (by reference, not copied) into batches of `BATCH_SIZE`; each
batch is written and hashed in a worker thread while the event loop receives the next. So
memory stays at about two batches whatever the upload size, and a 4 GB upload costs ~4000
thread hops, not the ~60,000 it would take one per network chunk.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from pathlib import Path
from typing import BinaryIO, Literal

import anyio
from anyio import to_thread

BATCH_SIZE = 1024 * 1024


class Spool:
    """A file being appended to from async code; open it lazily, close it with `close`/`abort`.

    `mode` is "xb" for a new temporary file, "ab" to extend an existing one. The `hasher`, if
    given, is updated with exactly the bytes that reach the file, in order.
    """

    def __init__(
        self,
        path: Path,
        *,
        mode: Literal["xb", "ab"] = "xb",
        hasher: hashlib._Hash | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.path = path
        self.hasher = hasher
        self.size = 0  # bytes accepted so far, written or still buffered
        self._mode = mode
        self._batch_size = batch_size
        self._pending: list[bytes | memoryview] = []
        self._pending_size = 0
        self._file: BinaryIO | None = None
        self._inflight: asyncio.Task[None] | None = None

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Accept bytes without writing them yet (for synchronous parser callbacks).

        Immutable `bytes` (and views of them) are kept by reference; anything that could
        change before the batch is written is copied.
        """
        if isinstance(data, bytearray) or (
            isinstance(data, memoryview) and not isinstance(data.obj, bytes)
        ):
            data = bytes(data)
        if data:
            self._pending.append(data)
            self._pending_size += len(data)
            self.size += len(data)

    @property
    def full(self) -> bool:
        return self._pending_size >= self._batch_size

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        self.feed(data)
        if self.full:
            await self.flush()

    async def flush(self) -> None:
        """Hand the buffered bytes to a worker thread; wait only for the batch before them."""
        if not self._pending:
            return
        batch, self._pending, self._pending_size = self._pending, [], 0
        await self._settle()
        self._inflight = asyncio.create_task(to_thread.run_sync(self._write, batch))

    async def close(self) -> None:
        """Write everything accepted and close the file (creating it if nothing was written)."""
        await self.flush()
        await self._settle()
        await to_thread.run_sync(self._close, True)

    async def abort(self) -> None:
        """Drop what is buffered, let a running write finish, close; safe to call twice."""
        self._pending, self._pending_size = [], 0
        with anyio.CancelScope(shield=True):
            with contextlib.suppress(Exception):
                await self._settle()
            await to_thread.run_sync(self._close, False)

    async def _settle(self) -> None:
        task, self._inflight = self._inflight, None
        if task is not None:
            await task

    def _write(self, batch: list[bytes | memoryview]) -> None:
        if self._file is None:
            self._file = self.path.open(self._mode)
        for piece in batch:
            self._file.write(piece)
            if self.hasher is not None:
                self.hasher.update(piece)

    def _close(self, create: bool) -> None:
        if self._file is None and create:
            self._file = self.path.open(self._mode)
        if self._file is not None:
            self._file.close()
            self._file = None
