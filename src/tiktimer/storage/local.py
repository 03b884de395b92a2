"""Objects as files under one root directory.

Writes go to a temporary file in `<root>/.tmp` (same filesystem as the objects, and
unreachable by keys since key segments never start with a dot), are fsynced, then
`os.replace`d into place, so a reader sees the old object, the new one, or none.
"""

from __future__ import annotations

import errno
import os
import shutil
import uuid
from collections.abc import AsyncGenerator, AsyncIterable
from pathlib import Path
from stat import S_ISREG
from typing import BinaryIO

import anyio
from anyio import to_thread

from tiktimer.storage.base import (
    READ_CHUNK_SIZE,
    InvalidKey,
    ObjectNotFound,
    check_range,
    validate_key,
)

_TMP_DIR = ".tmp"


class LocalStorage:
    def __init__(self, root: Path, *, read_chunk_size: int = READ_CHUNK_SIZE) -> None:
        self.root = root.resolve()
        self._tmp = self.root / _TMP_DIR
        self._read_chunk_size = read_chunk_size

    def _path(self, key: str) -> Path:
        path = self.root / validate_key(key)
        # The key grammar already forbids `..`; this also catches symlinks pointing out.
        if not path.resolve().is_relative_to(self.root):
            raise InvalidKey(f"storage key escapes the storage root: {key!r}")
        return path

    def _temp_path(self) -> Path:
        self._tmp.mkdir(parents=True, exist_ok=True)
        return self._tmp / f"{uuid.uuid4().hex}.part"

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    async def put_file(self, key: str, path: Path) -> int:
        return await to_thread.run_sync(self._move_into_place, path, key)

    def _move_into_place(self, source: Path, key: str) -> int:
        target = self._path(key)
        with source.open("rb") as f:
            os.fsync(f.fileno())
            size = os.fstat(f.fileno()).st_size
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(source, target)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            self._copy_into_place(source, target)
            source.unlink()
        return size

    def _copy_into_place(self, source: Path, target: Path) -> None:
        temp = self._temp_path()
        try:
            with source.open("rb") as src, temp.open("wb") as dst:
                shutil.copyfileobj(src, dst, self._read_chunk_size)
                dst.flush()
                os.fsync(dst.fileno())
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        target = await to_thread.run_sync(self._path, key)
        temp = await to_thread.run_sync(self._temp_path)
        f = await to_thread.run_sync(temp.open, "wb")
        size = 0
        try:
            async for chunk in chunks:
                await to_thread.run_sync(f.write, chunk)
                size += len(chunk)
            await to_thread.run_sync(_flush_and_close, f)
            await to_thread.run_sync(_replace, temp, target)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await to_thread.run_sync(_discard, f, temp)
            raise
        return size

    async def open_range(self, key: str, start: int, end: int) -> AsyncGenerator[bytes, None]:
        # Opening, seeking and the first read are one trip to a worker thread: a chunk no
        # larger than the read size (most uploads' chunks) costs a single hop.
        f, piece = await to_thread.run_sync(self._open_range_first, key, start, end)
        try:
            remaining = end - start
            while True:
                if not piece and remaining > 0:  # the file shrank under us: objects are
                    raise ObjectNotFound(key)  # immutable, so say so
                remaining -= len(piece)
                if piece:
                    yield piece
                if remaining <= 0:
                    return
                piece = await to_thread.run_sync(f.read, min(remaining, self._read_chunk_size))
        finally:
            f.close()

    def _open_range_first(self, key: str, start: int, end: int) -> tuple[BinaryIO, bytes]:
        f, size = self._open_for_reading(key)
        try:
            check_range(start, end, size)
            f.seek(start)
            return f, f.read(min(end - start, self._read_chunk_size))
        except BaseException:
            f.close()
            raise

    def _open_for_reading(self, key: str) -> tuple[BinaryIO, int]:
        try:
            f = self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectNotFound(key) from None
        return f, os.fstat(f.fileno()).st_size

    def _size(self, key: str) -> int:
        try:
            stat = self._path(key).stat()
        except FileNotFoundError:
            raise ObjectNotFound(key) from None
        if not S_ISREG(stat.st_mode):
            raise ObjectNotFound(key)
        return stat.st_size

    async def size(self, key: str) -> int:
        return await to_thread.run_sync(self._size, key)

    async def exists(self, key: str) -> bool:
        return await to_thread.run_sync(lambda: self._path(key).is_file())

    async def delete(self, key: str) -> None:
        await to_thread.run_sync(lambda: self._path(key).unlink(missing_ok=True))

    async def aclose(self) -> None:
        return None


def _flush_and_close(f: BinaryIO) -> None:
    f.flush()
    os.fsync(f.fileno())
    f.close()


def _replace(temp: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(temp, target)


def _discard(f: BinaryIO, temp: Path) -> None:
    f.close()
    temp.unlink(missing_ok=True)
