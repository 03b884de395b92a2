"""Resumable-upload bytes in `<upload dir>/sessions/<id>.part`, on a disk the machines share.

The database row says how many bytes count; the file may hold more, written by a request
whose machine died before recording them. Each writer therefore cuts the file back to the
recorded offset before appending, which is safe because only the claim's holder writes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from anyio import to_thread

from tiktimer.media.spool import Spool
from tiktimer.media.upload_bytes import ChunkWriter, KnownUpload, State
from tiktimer.storage import ObjectNotFound

_HASH_READ_SIZE = 1024 * 1024


class LocalUploadBytes:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, upload_id: str) -> Path:
        return self.directory / f"{upload_id}.part"

    async def create(self, upload_id: str) -> State:
        await to_thread.run_sync(lambda: self.path(upload_id).touch(exist_ok=False))
        return {}

    async def writer(
        self, upload_id: str, state: State, offset: int, hasher: hashlib._Hash | None
    ) -> ChunkWriter:
        path = self.path(upload_id)
        await to_thread.run_sync(_cut_to, path, offset)
        return _LocalWriter(Spool(path, mode="ab", hasher=hasher))

    async def assemble(self, upload_id: str, state: State) -> State:
        return state

    @asynccontextmanager
    async def received(
        self, upload_id: str, state: State, size: int, hasher: hashlib._Hash | None
    ) -> AsyncIterator[tuple[Path, str]]:
        path = self.path(upload_id)
        await to_thread.run_sync(_cut_to, path, size)
        digest = hasher.hexdigest() if hasher else await to_thread.run_sync(_sha256, path)
        yield path, digest

    async def settle(self, upload_id: str, old: State, new: State) -> None:
        return None

    async def discard(self, upload_id: str, state: State) -> None:
        await to_thread.run_sync(lambda: self.path(upload_id).unlink(missing_ok=True))

    async def sweep(self, cutoff: datetime, known: KnownUpload) -> int:
        """Files of uploads without a row (a crash between file and row, or the old format)."""
        removed = 0
        for path in await to_thread.run_sync(self._stale, cutoff):
            upload_id = path.name.split(".", 1)[0]
            if path.suffix == ".part" and await known(upload_id):
                continue
            await to_thread.run_sync(_unlink, path)
            removed += 1
        return removed

    def _stale(self, cutoff: datetime) -> list[Path]:
        stale = []
        for path in sorted(self.directory.iterdir()):
            with contextlib.suppress(FileNotFoundError):
                if datetime.fromtimestamp(path.stat().st_mtime, UTC) < cutoff:
                    stale.append(path)
        return stale


class _LocalWriter:
    def __init__(self, spool: Spool) -> None:
        self._spool = spool

    @property
    def size(self) -> int:
        return self._spool.size

    @property
    def hasher(self) -> hashlib._Hash | None:
        return self._spool.hasher

    async def write(self, data: bytes) -> None:
        await self._spool.write(data)

    async def finish(self) -> State:
        await self._spool.close()
        return {}

    async def abort(self) -> None:
        """Bytes past the recorded offset do not count; the next writer cuts them off.

        (Cutting them here could hit another request's bytes if this one lost its claim.)
        """
        await self._spool.abort()


def _cut_to(path: Path, size: int) -> None:
    """Drop bytes past `size`; a file shorter than that has lost bytes the row counts."""
    try:
        current = path.stat().st_size
    except FileNotFoundError:
        raise ObjectNotFound(path.name) from None
    if current < size:
        raise ObjectNotFound(path.name)
    if current > size:
        os.truncate(path, size)


def _sha256(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_HASH_READ_SIZE):
            hasher.update(block)
    return hasher.hexdigest()


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)
