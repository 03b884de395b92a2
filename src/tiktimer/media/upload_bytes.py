"""Where a resumable upload's bytes wait until `complete`: a seam with two backends.

    local storage → a file in the upload directory, on a disk every API machine mounts
                    (as the media directory itself must be): `upload_bytes_local`
    S3 storage    → an S3 multipart upload plus a small tail object: `upload_bytes_s3`

The backend keeps no state of its own between requests: what it needs to find the bytes
is a small JSON `state` that the caller stores in the upload's database row, and every
request may run on another machine.
"""

from __future__ import annotations

import hashlib
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

State = dict[str, Any]


class ChunkWriter(Protocol):
    """The bytes of one request, appended after the upload's `offset`."""

    @property
    def size(self) -> int:
        """Bytes accepted so far in this request."""
        ...

    @property
    def hasher(self) -> hashlib._Hash | None:
        """Updated with exactly the accepted bytes, off the event loop; None: not hashed."""
        ...

    async def write(self, data: bytes) -> None: ...

    async def finish(self) -> State:
        """Make every accepted byte durable; return the state that finds them."""
        ...

    async def abort(self) -> None:
        """Drop this request's bytes (also after `finish`): the old state stays valid."""
        ...


class UploadBytes(Protocol):
    async def create(self, upload_id: str) -> State: ...

    async def writer(
        self, upload_id: str, state: State, offset: int, hasher: hashlib._Hash | None
    ) -> ChunkWriter:
        """A writer that appends at `offset`, the upload's recorded size."""
        ...

    async def assemble(self, upload_id: str, state: State) -> State:
        """Put the bytes in their final shape for `received`; no chunk is taken after it."""
        ...

    def received(
        self, upload_id: str, state: State, size: int, hasher: hashlib._Hash | None
    ) -> AbstractAsyncContextManager[tuple[Path, str]]:
        """The assembled bytes as a local file and its SHA-256, for probing and storing."""
        ...

    async def settle(self, upload_id: str, old: State, new: State) -> None:
        """After `new` was recorded: remove what only `old` referred to."""
        ...

    async def discard(self, upload_id: str, state: State) -> None:
        """Remove every byte of the upload (best effort)."""
        ...

    async def sweep(self, cutoff: datetime, known: KnownUpload) -> int:
        """Remove leftovers untouched since `cutoff` of uploads `known` denies; count them."""
        ...


class KnownUpload(Protocol):
    async def __call__(self, upload_id: str) -> bool: ...
