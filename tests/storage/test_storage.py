"""Behaviour shared by every backend; each test runs against local disk and S3 (moto)."""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from pathlib import Path
from typing import Any

import pytest

from tiktimer.storage import (
    READ_CHUNK_SIZE,
    InvalidKey,
    InvalidRange,
    ObjectNotFound,
    S3Storage,
    Storage,
    StorageError,
)
from tiktimer.storage.s3 import PART_SIZE

KEY = "u/7/2025/03/02/0f8e0c1e.mp4"
MiB = 1024 * 1024
Leftovers = Callable[[], list[str]]


async def stream_of(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def read_range(storage: Storage, key: str, start: int, end: int) -> bytes:
    return b"".join([piece async for piece in storage.open_range(key, start, end)])


def pattern(size: int) -> bytes:
    return (bytes(range(251)) * (size // 251 + 1))[:size]


async def test_stream_roundtrip(storage: Storage) -> None:
    data = pattern(3 * READ_CHUNK_SIZE + 17)

    written = await storage.put_stream(KEY, stream_of(data[:1000], b"", data[1000:]))

    assert written == len(data)
    assert await storage.exists(KEY)
    assert await storage.size(KEY) == len(data)
    assert await read_range(storage, KEY, 0, len(data)) == data


async def test_put_file_consumes_the_file(storage: Storage, tmp_path: Path) -> None:
    source = tmp_path / "upload.part"
    source.write_bytes(b"finished upload")

    assert await storage.put_file(KEY, source) == 15

    assert not source.exists()
    assert await read_range(storage, KEY, 0, 15) == b"finished upload"


async def test_empty_object(storage: Storage) -> None:
    assert await storage.put_stream(KEY, stream_of()) == 0
    assert await storage.size(KEY) == 0
    assert await read_range(storage, KEY, 0, 0) == b""


async def test_overwrite_replaces_whole_object(storage: Storage) -> None:
    await storage.put_stream(KEY, stream_of(b"first version, longer"))
    await storage.put_stream(KEY, stream_of(b"second"))

    assert await read_range(storage, KEY, 0, 6) == b"second"
    assert await storage.size(KEY) == 6


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (0, 0),
        (0, 1),
        (0, READ_CHUNK_SIZE),
        (READ_CHUNK_SIZE - 1, READ_CHUNK_SIZE + 1),
        (READ_CHUNK_SIZE, 2 * READ_CHUNK_SIZE + 5),
        (2 * READ_CHUNK_SIZE + 4, 2 * READ_CHUNK_SIZE + 5),
        (2 * READ_CHUNK_SIZE + 5, 2 * READ_CHUNK_SIZE + 5),
    ],
)
async def test_ranges_at_boundaries(storage: Storage, start: int, end: int) -> None:
    data = pattern(2 * READ_CHUNK_SIZE + 5)
    await storage.put_stream(KEY, stream_of(data))

    pieces = [piece async for piece in storage.open_range(KEY, start, end)]

    assert b"".join(pieces) == data[start:end]
    assert all(0 < len(piece) <= READ_CHUNK_SIZE for piece in pieces)


@pytest.mark.parametrize(("start", "end"), [(10, 11), (11, 11), (5, 4), (-1, 3), (0, 11)])
async def test_ranges_outside_the_object_are_refused(
    storage: Storage, start: int, end: int
) -> None:
    await storage.put_stream(KEY, stream_of(b"0123456789"))

    with pytest.raises(InvalidRange):
        await read_range(storage, KEY, start, end)


async def test_missing_object(storage: Storage) -> None:
    assert not await storage.exists(KEY)
    with pytest.raises(ObjectNotFound):
        await storage.size(KEY)
    with pytest.raises(ObjectNotFound):
        await read_range(storage, KEY, 0, 1)


async def test_delete_is_idempotent(storage: Storage) -> None:
    await storage.put_stream(KEY, stream_of(b"bytes"))

    await storage.delete(KEY)
    await storage.delete(KEY)
    await storage.delete("u/7/never/stored.mp4")

    assert not await storage.exists(KEY)


async def test_large_stream_is_uploaded_in_bounded_parts(storage: Storage) -> None:
    total, chunk_size = 20 * MiB + 123, 256 * 1024
    rng, written_hash = random.Random(7), hashlib.sha256()
    parts = _record_part_sizes(storage)

    async def generated() -> AsyncIterator[bytes]:
        remaining = total
        while remaining:
            chunk = rng.randbytes(min(chunk_size, remaining))
            written_hash.update(chunk)
            remaining -= len(chunk)
            yield chunk

    assert await storage.put_stream(KEY, generated()) == total

    read_hash, largest = hashlib.sha256(), 0
    async for piece in storage.open_range(KEY, 0, total):
        read_hash.update(piece)
        largest = max(largest, len(piece))
    assert read_hash.digest() == written_hash.digest()
    assert largest <= READ_CHUNK_SIZE
    if isinstance(storage, S3Storage):
        assert parts == [PART_SIZE, PART_SIZE, total - 2 * PART_SIZE]


async def test_failure_mid_stream_leaves_nothing(storage: Storage, leftovers: Leftovers) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield pattern(PART_SIZE + MiB)  # enough to start a multipart upload on S3
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await storage.put_stream(KEY, broken())

    assert leftovers() == []
    assert not await storage.exists(KEY)


async def test_cancellation_mid_stream_leaves_nothing(
    storage: Storage, leftovers: Leftovers
) -> None:
    first_part_sent = asyncio.Event()

    async def stalled() -> AsyncIterator[bytes]:
        yield pattern(PART_SIZE + 1)
        first_part_sent.set()
        await asyncio.Event().wait()  # the client stops sending
        yield b"never"

    task = asyncio.create_task(storage.put_stream(KEY, stalled()))
    await first_part_sent.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert leftovers() == []


async def test_failed_put_file_keeps_the_source(storage: Storage, tmp_path: Path) -> None:
    source = tmp_path / "upload.part"
    source.write_bytes(b"data")

    with pytest.raises(InvalidKey):
        await storage.put_file("../escape.mp4", source)

    assert source.read_bytes() == b"data"


async def test_reading_part_of_an_object_and_stopping_early(storage: Storage) -> None:
    data = pattern(3 * READ_CHUNK_SIZE)
    await storage.put_stream(KEY, stream_of(data))

    async with aclosing(storage.open_range(KEY, 0, len(data))) as pieces:
        async for first in pieces:
            assert first == data[:READ_CHUNK_SIZE]
            break

    assert await read_range(storage, KEY, len(data) - 3, len(data)) == data[-3:]


BAD_KEYS = [
    "",
    "../escape.mp4",
    "u/1/../../escape.mp4",
    "/etc/passwd",
    "u//1.mp4",
    "u/1/",
    "./u/1.mp4",
    ".tmp/x.part",
    "u\\1.mp4",
    "u/1/vid\u00e9o.mp4",
    "u/1/a b.mp4",
    "u/1/nul\x00.mp4",
    "x" * 513,
]


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_unsafe_keys_are_refused(storage: Storage, key: str, leftovers: Leftovers) -> None:
    with pytest.raises(InvalidKey):
        await storage.put_stream(key, stream_of(b"x"))
    with pytest.raises(InvalidKey):
        await storage.size(key)
    with pytest.raises(InvalidKey):
        await storage.exists(key)
    with pytest.raises(InvalidKey):
        await storage.delete(key)
    with pytest.raises(InvalidKey):
        await read_range(storage, key, 0, 1)
    with pytest.raises(InvalidKey):
        storage.local_path(key)
    assert leftovers() == []


async def test_invalid_key_is_a_storage_error_and_value_error() -> None:
    assert issubclass(InvalidKey, StorageError)
    assert issubclass(InvalidKey, ValueError)
    assert issubclass(ObjectNotFound, KeyError)


def _record_part_sizes(storage: Storage) -> list[int]:
    """Sizes of the multipart parts sent to S3 (hooked into botocore's event system)."""
    sizes: list[int] = []
    if isinstance(storage, S3Storage):

        def record(params: dict[str, Any], **_: Any) -> None:
            sizes.append(len(params["Body"]))

        storage.client.meta.events.register("before-parameter-build.s3.UploadPart", record)
    return sizes
