"""Resumable uploads for big files on flaky links: the tus 1.0 core protocol, plus `complete`.

    POST   /api/v1/media/uploads            Upload-Length: N (optional),
                                            Upload-Metadata: filename <base64> (optional)
           → 201, Location, Upload-Offset: 0, Upload-Expires
    HEAD   /api/v1/media/uploads/{id}       → Upload-Offset (and Upload-Length)
    PATCH  /api/v1/media/uploads/{id}       Content-Type: application/offset+octet-stream,
                                            Upload-Offset: k, body: the next bytes
           → 204, Upload-Offset: k + bytes received
    POST   /api/v1/media/uploads/{id}/complete → the media record, as `POST /api/v1/media`
    DELETE /api/v1/media/uploads/{id}

Any tus client can do the byte transfer (extensions: creation, expiration, termination);
`complete` then turns the bytes into media. A PATCH cut off mid-body keeps what arrived,
so the client asks HEAD for the offset and goes on from there.

State lives beside the bytes in `<upload dir>/sessions`: `<id>.part` holds the bytes (its
size is the offset, its mtime the last activity) and `<id>.json` the owner, the declared
length and the file name. Requests on one upload are serialised by an exclusive `flock`
on the `.json` file, which also works across the processes of one machine; with several
machines, route an upload's requests to one of them or share the upload directory.
Sessions idle for `ttl` expire: refused on access, removed by `sweep` (run by media gc).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import anyio
from anyio import to_thread
from starlette.requests import ClientDisconnect, Request

from tiktimer.errors import BadRequest, Conflict, NotFound, PayloadTooLarge, Unprocessable
from tiktimer.inputs.body import BodyStalled
from tiktimer.kit.time import utc_now
from tiktimer.media.errors import OffsetConflict, UploadInterrupted
from tiktimer.media.multipart import ReceivedFile, clean_filename
from tiktimer.media.spool import Spool

log = logging.getLogger("tiktimer.media")

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,expiration,termination"
_SESSION_ID = re.compile(r"[0-9a-f]{32}")
#: Hashers kept between chunks, so `complete` need not read the whole file again.
_MAX_CACHED_HASHES = 256
_HASH_READ_SIZE = 1024 * 1024


@dataclass(frozen=True)
class UploadSession:
    id: str
    user_id: int
    length: int | None
    filename: str | None
    offset: int
    expires_at: datetime


@dataclass(frozen=True)
class _Meta:
    user_id: int
    length: int | None
    filename: str | None


class UploadSessions:
    def __init__(self, directory: Path, *, max_bytes: int, ttl: timedelta) -> None:
        self.directory = directory
        self.sessions_dir = directory / "sessions"
        #: Temporary files of single-request uploads (`POST /api/v1/media`).
        self.incoming_dir = directory / "incoming"
        self.max_bytes = max_bytes
        self.ttl = ttl
        self._hashes: OrderedDict[str, tuple[int, hashlib._Hash]] = OrderedDict()

    def prepare(self) -> None:
        """Create the directories (call once at startup)."""
        self.sessions_dir.mkdir(parents=True, exist_ok=True)
        self.incoming_dir.mkdir(parents=True, exist_ok=True)

    async def create(
        self, user_id: int, *, length: int | None, filename: str | None
    ) -> UploadSession:
        if length is not None and length > self.max_bytes:
            raise PayloadTooLarge(f"Upload-Length is above the limit of {self.max_bytes} bytes")
        upload_id = uuid.uuid4().hex
        meta = {"user_id": user_id, "length": length, "filename": clean_filename(filename or "")}
        await to_thread.run_sync(self._create_files, upload_id, json.dumps(meta).encode())
        log.info("media.resumable.created upload_id=%s length=%s", upload_id, length)
        return await self.status(user_id, upload_id, utc_now())

    async def status(self, user_id: int, upload_id: str, now: datetime) -> UploadSession:
        """Where the upload stands; does not wait for a chunk being received."""
        async with self._opened(user_id, upload_id, now, lock=False) as meta:
            return await self._session(upload_id, meta)

    async def append(
        self, user_id: int, upload_id: str, offset: int, request: Request, now: datetime
    ) -> UploadSession:
        """Append the request body at `offset`; keep what arrived if the client goes away."""
        async with self._opened(user_id, upload_id, now) as meta:
            part = self._path(upload_id, ".part")
            current = await to_thread.run_sync(lambda: part.stat().st_size)
            if offset != current:
                raise OffsetConflict(current, f"The upload is at offset {current}, not {offset}")
            room = (meta.length if meta.length is not None else self.max_bytes) - current
            _check_declared(request, room)
            spool = Spool(part, mode="ab", hasher=self._take_hash(upload_id, current))
            interrupted = False
            stalled: BodyStalled | None = None
            try:
                await _receive(request, spool, room)
            except ClientDisconnect:
                interrupted = True
            except BodyStalled as exc:  # like a disconnect: keep the bytes, then answer 408
                interrupted, stalled = True, exc
            except BaseException:
                await spool.abort()
                with anyio.CancelScope(shield=True):  # a refused chunk leaves no trace
                    await to_thread.run_sync(os.truncate, part, current)
                raise
            await spool.close()  # after a disconnect too: the client resumes after these bytes
            self._keep_hash(upload_id, current + spool.size, spool.hasher)
            if interrupted:
                log.info("media.resumable.interrupted upload_id=%s kept=%d", upload_id, spool.size)
                raise stalled or UploadInterrupted()
            return await self._session(upload_id, meta)

    @asynccontextmanager
    async def completed(
        self, user_id: int, upload_id: str, now: datetime
    ) -> AsyncIterator[ReceivedFile]:
        """Yield the finished upload as a received file; remove the session once it is used.

        The session also goes when the bytes are refused (422). After another failure it
        stays, so `complete` can be retried, as long as its bytes were not consumed.
        """
        async with self._opened(user_id, upload_id, now) as meta:
            part = self._path(upload_id, ".part")
            size = await to_thread.run_sync(lambda: part.stat().st_size)
            if meta.length is not None and size != meta.length:
                raise OffsetConflict(size, f"The upload has {size} of {meta.length} bytes")
            hasher = self._take_hash(upload_id, size)
            digest = hasher.hexdigest() if hasher else await to_thread.run_sync(_sha256, part)
            try:
                yield ReceivedFile(part, size, digest, meta.filename)
            except Unprocessable:
                await self._remove(upload_id)
                raise
            except BaseException:
                self._keep_hash(upload_id, size, hasher)
                raise
            await self._remove(upload_id)

    async def delete(self, user_id: int, upload_id: str, now: datetime) -> None:
        async with self._opened(user_id, upload_id, now):
            await self._remove(upload_id)

    async def sweep(self, now: datetime) -> list[str]:
        """Remove expired sessions and stale temporary files; return the session ids."""
        return await to_thread.run_sync(self._sweep, now)

    # Files

    def _path(self, upload_id: str, suffix: str) -> Path:
        return self.sessions_dir / f"{upload_id}{suffix}"

    def _create_files(self, upload_id: str, meta: bytes) -> None:
        self._path(upload_id, ".part").touch(exist_ok=False)
        temp = self._path(upload_id, ".json.tmp")
        temp.write_bytes(meta)
        temp.replace(self._path(upload_id, ".json"))

    async def _remove(self, upload_id: str) -> None:
        self._hashes.pop(upload_id, None)
        await to_thread.run_sync(self._remove_files, upload_id)

    def _remove_files(self, upload_id: str) -> None:
        for suffix in (".part", ".json"):
            self._path(upload_id, suffix).unlink(missing_ok=True)

    async def _session(self, upload_id: str, meta: _Meta) -> UploadSession:
        try:
            stat = await to_thread.run_sync(self._path(upload_id, ".part").stat)
        except FileNotFoundError:  # swept or completed by another process just now
            raise NotFound("Upload not found") from None
        expires_at = datetime.fromtimestamp(stat.st_mtime, UTC) + self.ttl
        return UploadSession(
            upload_id, meta.user_id, meta.length, meta.filename, stat.st_size, expires_at
        )

    @asynccontextmanager
    async def _opened(
        self, user_id: int, upload_id: str, now: datetime, *, lock: bool = True
    ) -> AsyncIterator[_Meta]:
        """The session's metadata, under its lock unless `lock` is false.

        404 if it is missing, not the caller's, or expired; 409 if another request holds it.
        """
        if not _SESSION_ID.fullmatch(upload_id):
            raise NotFound("Upload not found")
        handle = await to_thread.run_sync(self._open_meta, upload_id, lock)
        try:
            meta = _read_meta(handle)
            if meta.user_id != user_id:
                raise NotFound("Upload not found")
            if await to_thread.run_sync(self._expired, upload_id, now):
                if lock:
                    await self._remove(upload_id)
                raise NotFound("Upload not found (it expired)")
            yield meta
        finally:
            handle.close()

    def _open_meta(self, upload_id: str, lock: bool) -> BinaryIO:
        try:
            handle = self._path(upload_id, ".json").open("rb")
        except FileNotFoundError:
            raise NotFound("Upload not found") from None
        if lock and not _try_flock(handle):
            handle.close()
            raise Conflict("Another request is writing to this upload; retry shortly")
        return handle

    def _expired(self, upload_id: str, now: datetime) -> bool:
        try:
            mtime = self._path(upload_id, ".part").stat().st_mtime
        except FileNotFoundError:
            return True
        return datetime.fromtimestamp(mtime, UTC) + self.ttl <= now

    def _sweep(self, now: datetime) -> list[str]:
        expired: list[str] = []
        for meta_path in sorted(self.sessions_dir.glob("*.json")):
            upload_id = meta_path.name.removesuffix(".json")
            with contextlib.suppress(FileNotFoundError), meta_path.open("rb") as handle:
                if _try_flock(handle) and self._expired(upload_id, now):
                    self._remove_files(upload_id)
                    expired.append(upload_id)
        cutoff = now - self.ttl
        parts = self.sessions_dir.glob("*.part")
        strays = [path for path in parts if not path.with_suffix(".json").exists()]
        for path in (*strays, *self.incoming_dir.glob("*.part")):
            if _older_than(path, cutoff):  # a live upload writes every few seconds
                path.unlink(missing_ok=True)
        return expired

    # Hashes carried from chunk to chunk (per process; a miss only costs a re-read)

    def _take_hash(self, upload_id: str, offset: int) -> hashlib._Hash | None:
        cached = self._hashes.pop(upload_id, None)
        if cached is not None and cached[0] == offset:
            return cached[1]
        return hashlib.sha256() if offset == 0 else None

    def _keep_hash(self, upload_id: str, offset: int, hasher: hashlib._Hash | None) -> None:
        if hasher is None:
            return
        self._hashes[upload_id] = (offset, hasher)
        while len(self._hashes) > _MAX_CACHED_HASHES:
            self._hashes.popitem(last=False)


def parse_metadata(header: str | None) -> dict[str, str]:
    """tus `Upload-Metadata`: comma-separated `key base64value` pairs."""
    result: dict[str, str] = {}
    for item in (header or "").split(","):
        key, _, value = item.strip().partition(" ")
        if not key:
            continue
        try:
            result[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise BadRequest(f"Upload-Metadata value of {key!r} is not base64 UTF-8") from None
    return result


def _check_declared(request: Request, room: int) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > room:
        raise PayloadTooLarge("The chunk runs past the upload's length or the size limit")


def _read_meta(handle: BinaryIO) -> _Meta:
    data = json.loads(handle.read())
    return _Meta(int(data["user_id"]), data["length"], data["filename"])


async def _receive(request: Request, spool: Spool, room: int) -> None:
    async for chunk in request.stream():
        if spool.size + len(chunk) > room:
            raise PayloadTooLarge("The chunk runs past the upload's length or the size limit")
        await spool.write(chunk)


def _try_flock(handle: BinaryIO) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _older_than(path: Path, cutoff: datetime) -> bool:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC) < cutoff
    except FileNotFoundError:
        return False


def _sha256(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_HASH_READ_SIZE):
            hasher.update(block)
    return hasher.hexdigest()
