"""The `Storage` seam: where media bytes live, keyed by server-generated object keys.

    StorageError
    ├── InvalidKey (also a ValueError): a key outside the safe key grammar
    ├── InvalidRange (also a ValueError): a byte range outside the object
    └── ObjectNotFound (also a KeyError)

Keys are relative POSIX paths of segments made of `A-Z a-z 0-9 . _ -`, no segment
starting with a dot (so no `..`, no hidden files, and room for the backends' own
bookkeeping names). Build them with `media_key`, never from a user's file name.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from uuid import UUID

#: Pieces yielded by `open_range`: small enough to keep memory flat, large enough for throughput.
READ_CHUNK_SIZE = 1024 * 1024

_SEGMENT = re.compile(r"[A-Za-z0-9_\-][A-Za-z0-9._\-]*")
_EXTENSION = re.compile(r"(\.[a-z0-9]{1,8})?")
MAX_KEY_LENGTH = 512


class StorageError(Exception):
    """Base class of every storage error."""


class InvalidKey(StorageError, ValueError):
    """The key is not a safe relative path (absolute, `..`, odd characters, …)."""


class InvalidRange(StorageError, ValueError):
    """The requested byte range does not lie within the object."""


class ObjectNotFound(StorageError, KeyError):
    """No object is stored under the key."""

    def __str__(self) -> str:  # KeyError would show the repr of its argument
        return str(self.args[0]) if self.args else "object not found"


class Storage(Protocol):
    """Async object storage. Writes are atomic: readers see the whole object or nothing."""

    async def put_file(self, key: str, path: Path) -> int:
        """Store a finished local file under `key`, consuming it; return its size.

        On success `path` no longer exists (moved or uploaded, then removed); on failure it
        is left for the caller to clean up, and nothing is visible under `key`.
        """
        ...

    async def put_stream(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Store the concatenated chunks under `key` and return the byte count.

        If the iterable raises (or the task is cancelled), nothing is left behind.
        """
        ...

    def open_range(self, key: str, start: int, end: int) -> AsyncGenerator[bytes, None]:
        """Stream bytes `start` ≤ i < `end` in pieces of at most `READ_CHUNK_SIZE`.

        Errors (`ObjectNotFound`, `InvalidRange`) surface on the first iteration, before
        any byte is yielded. A reader that stops early should `aclose()` the generator
        (e.g. `contextlib.aclosing`) to release the file or connection at once.
        """
        ...

    async def size(self, key: str) -> int:
        """Byte size of the object; `ObjectNotFound` if missing."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error."""
        ...

    def local_path(self, key: str) -> Path | None:
        """The file holding the object if it lives on this machine (for zero-copy probing)."""
        ...

    async def aclose(self) -> None:
        """Release connection pools; call once at shutdown."""
        ...


def validate_key(key: str) -> str:
    """Return `key` unchanged if it is a safe relative key, else raise `InvalidKey`."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidKey(f"storage key must be 1-{MAX_KEY_LENGTH} characters: {key!r}")
    if not all(_SEGMENT.fullmatch(segment) for segment in key.split("/")):
        raise InvalidKey(f"unsafe storage key: {key!r}")
    return key


def check_range(start: int, end: int, size: int) -> None:
    """Refuse ranges that are inverted, negative or reach past the end of the object."""
    if not 0 <= start <= end <= size:
        raise InvalidRange(f"byte range [{start}, {end}) is outside the object of {size} bytes")


def media_key(
    owner_id: int | str | UUID, media_id: int | str | UUID, created_at: datetime, ext: str
) -> str:
    """Key for an uploaded medium: `u/{owner}/{yyyy}/{mm}/{dd}/{media_id}{ext}` (UTC date).

    `ext` comes from the probed format (".mp4", ".jpg", …), never from the user's file name.
    """
    if created_at.tzinfo is None:
        raise ValueError("created_at must be timezone-aware")
    if not _EXTENSION.fullmatch(ext):
        raise InvalidKey(f"extension must look like '.mp4': {ext!r}")
    owner, name = str(owner_id), f"{media_id}{ext}"
    if not (_SEGMENT.fullmatch(owner) and _SEGMENT.fullmatch(name)):
        raise InvalidKey(f"ids must be single safe key segments: {owner!r}, {name!r}")
    return validate_key(f"u/{owner}/{created_at.astimezone(UTC):%Y/%m/%d}/{name}")
