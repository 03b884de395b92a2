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

Every request may land on another API machine. The state (owner, declared length, file
name, offset, expiry, where the bytes are) is a row of `upload_sessions`; the bytes are in
shared storage (`upload_bytes`: S3 multipart, or a file on the shared disk). A request that
writes first claims the row with a guarded UPDATE (`upload_claims`): a second request on the
same upload, on any machine, gets 409 while the first runs, and a chunk whose offset is not
the recorded one changes nothing. Sessions idle for `ttl` expire: refused on access,
removed by `sweep` (run by media gc).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import logging
import re
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
from anyio import to_thread
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from starlette.requests import ClientDisconnect, Request

from tiktimer.errors import BadRequest, Conflict, NotFound, PayloadTooLarge, Unprocessable
from tiktimer.inputs.body import BodyStalled
from tiktimer.kit.time import utc_now
from tiktimer.media import upload_rows
from tiktimer.media.errors import OffsetConflict, UploadInterrupted
from tiktimer.media.multipart import ReceivedFile, clean_filename
from tiktimer.media.upload_backends import upload_bytes_for
from tiktimer.media.upload_bytes import ChunkWriter, State
from tiktimer.media.upload_claims import LEASE, Claim, claimed
from tiktimer.storage import ObjectNotFound, Storage, StorageError

log = logging.getLogger("tiktimer.media")

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,expiration,termination"
_SESSION_ID = re.compile(r"[0-9a-f]{32}")
#: Hashers kept between chunks, so `complete` need not read the whole file again.
_MAX_CACHED_HASHES = 256
_SWEEP_BATCH = 500


@dataclass(frozen=True)
class UploadSession:
    id: str
    user_id: int
    length: int | None
    filename: str | None
    offset: int
    expires_at: datetime


class UploadSessions:
    def __init__(
        self,
        directory: Path,
        *,
        engine: AsyncEngine,
        storage: Storage,
        max_bytes: int,
        ttl: timedelta,
        lease: timedelta = LEASE,
    ) -> None:
        self.directory = directory
        #: Bytes of resumable uploads when media storage is local (a disk all machines share).
        self.sessions_dir = directory / "sessions"
        #: Temporary files of single-request uploads (`POST /api/v1/media`) and of `complete`.
        self.incoming_dir = directory / "incoming"
        self.engine = engine
        self.max_bytes = max_bytes
        self.ttl = ttl
        self.lease = lease
        self.bytes = upload_bytes_for(storage, self.sessions_dir, self.incoming_dir)
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
        upload_id, now = uuid.uuid4().hex, utc_now()
        state = await self.bytes.create(upload_id)
        values: dict[str, Any] = {
            "id": upload_id,
            "user_id": user_id,
            "length": length,
            "filename": clean_filename(filename or ""),
            "upload_offset": 0,
            "storage_state": state,
            "expires_at": now + self.ttl,
            "created_at": now,
        }
        try:
            await upload_rows.insert_row(self.engine, values)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self.bytes.discard(upload_id, state)
            raise
        log.info("media.resumable.created upload_id=%s length=%s", upload_id, length)
        filename, expires_at = values["filename"], values["expires_at"]
        return UploadSession(upload_id, user_id, length, filename, 0, expires_at)

    async def status(self, user_id: int, upload_id: str, now: datetime) -> UploadSession:
        """Where the upload stands (its last recorded chunk); waits for nothing."""
        row = await upload_rows.fetch(self.engine, upload_id) if _valid(upload_id) else None
        if row is None or row.user_id != user_id:
            raise NotFound("Upload not found")
        if row.expires_at <= now:
            raise NotFound("Upload not found (it expired)")
        return _session(row)

    async def append(
        self, user_id: int, upload_id: str, offset: int, request: Request, now: datetime
    ) -> UploadSession:
        """Append the request body at `offset`; keep what arrived if the client goes away."""
        async with self._claimed(user_id, upload_id, now, offset=offset) as (claim, row):
            if row.assembled_at is not None:
                raise Conflict("The upload is being completed; call complete again")
            room = (row.length if row.length is not None else self.max_bytes) - offset
            _check_declared(request, room)
            with _bytes_gone():
                writer = await self.bytes.writer(
                    upload_id, row.storage_state, offset, self._take_hash(upload_id, offset)
                )
            cut = await _fill(writer, request, room, claim)
            expires_at = utc_now() + self.ttl
            try:
                state = await writer.finish()
                received = {"upload_offset": offset + writer.size, "storage_state": state}
                await claim.save({**received, "expires_at": expires_at}, release=True)
            except BaseException:
                await writer.abort()
                raise
            await self.bytes.settle(upload_id, row.storage_state, state)
            self._keep_hash(upload_id, offset + writer.size, writer.hasher)
            if cut is not None:
                log.info("media.resumable.interrupted upload_id=%s kept=%d", upload_id, writer.size)
                raise cut
            return UploadSession(
                upload_id, user_id, row.length, row.filename, offset + writer.size, expires_at
            )

    @asynccontextmanager
    async def completed(
        self, user_id: int, upload_id: str, now: datetime, session: AsyncSession
    ) -> AsyncIterator[ReceivedFile]:
        """Yield the finished upload as a received file; remove the session once it is used.

        On success the row goes in `session`'s transaction, with the media it became. The
        session also goes when the bytes are refused (422). After another failure it stays,
        so `complete` can be retried, as long as its bytes were not consumed.
        """
        async with self._claimed(user_id, upload_id, now) as (claim, row):
            size = row.upload_offset
            if row.length is not None and size != row.length:
                raise OffsetConflict(size, f"The upload has {size} of {row.length} bytes")
            state = await self._assembled(claim, row)
            hasher = self._take_hash(upload_id, size)
            async with contextlib.AsyncExitStack() as stack:
                with _bytes_gone():
                    path, digest = await stack.enter_async_context(
                        self.bytes.received(upload_id, state, size, hasher)
                    )
                try:
                    yield ReceivedFile(path, size, digest, row.filename)
                except Unprocessable:
                    async with self.engine.begin() as connection:
                        await self._remove(connection, claim, state)
                    raise
                except BaseException:
                    self._keep_hash(upload_id, size, hasher)
                    raise
            await self._remove(await session.connection(), claim, state)

    async def delete(self, user_id: int, upload_id: str, now: datetime) -> None:
        async with self._claimed(user_id, upload_id, now) as (claim, row):
            async with self.engine.begin() as connection:
                await self._remove(connection, claim, row.storage_state)

    async def sweep(self, now: datetime) -> list[str]:
        """Remove expired sessions, their bytes and stale temporary files; return the ids."""
        expired: list[str] = []
        while True:
            batch = await upload_rows.expired_ids(self.engine, now, _SWEEP_BATCH)
            removed = [upload_id for upload_id in batch if await self._expire(upload_id, now)]
            expired += removed
            if len(batch) < _SWEEP_BATCH or not removed:
                break  # the last page, or the rest is held by requests right now
        cutoff = now - self.ttl
        try:
            await self.bytes.sweep(cutoff, self._known)
        except StorageError:  # leftovers only cost space; the next run tries again
            log.warning("media.resumable.sweep_failed", exc_info=True)
        await to_thread.run_sync(_remove_older, self.incoming_dir, cutoff)
        return expired

    # The row

    @asynccontextmanager
    async def _claimed(
        self, user_id: int, upload_id: str, now: datetime, *, offset: int | None = None
    ) -> AsyncIterator[tuple[Claim, Row[Any]]]:
        """The upload's row, held by this request; 404, or 409 if it cannot be held now."""
        if not _valid(upload_id):
            raise NotFound("Upload not found")
        if offset is not None and offset > self.max_bytes:  # no row is that far
            await self._refuse(user_id, upload_id, now, offset)
        async with claimed(
            self.engine, upload_id, user_id, now, offset=offset, lease=self.lease
        ) as (claim, row):
            if row is None:
                await self._refuse(user_id, upload_id, now, offset)
            assert row is not None
            yield claim, row

    async def _refuse(
        self, user_id: int, upload_id: str, now: datetime, offset: int | None
    ) -> None:
        """Say why the upload could not be claimed (always raises)."""
        row = await upload_rows.fetch(self.engine, upload_id)
        if row is None or row.user_id != user_id:
            raise NotFound("Upload not found")
        if row.expires_at <= now:
            await self._expire(upload_id, now)
            raise NotFound("Upload not found (it expired)")
        current = row.upload_offset
        if offset is not None and current != offset:
            raise OffsetConflict(current, f"The upload is at offset {current}, not {offset}")
        raise Conflict("Another request is writing to this upload; retry shortly")

    async def _assembled(self, claim: Claim, row: Row[Any]) -> State:
        """The bytes in their final shape, recorded so that a retried `complete` finds them."""
        if row.assembled_at is not None:
            return dict(row.storage_state)
        state = await self.bytes.assemble(row.id, row.storage_state)
        if state != row.storage_state:
            await claim.save({"storage_state": state, "assembled_at": utc_now()}, release=False)
            await self.bytes.settle(row.id, row.storage_state, state)
        return state

    async def _remove(self, connection: AsyncConnection, claim: Claim, state: State) -> None:
        self._hashes.pop(claim.upload_id, None)
        with anyio.CancelScope(shield=True):
            if await upload_rows.delete_claimed(connection, claim.upload_id, claim.token):
                claim.released = True  # nothing left to give back (and on SQLite: no 2nd writer)
                await self.bytes.discard(claim.upload_id, state)

    async def _expire(self, upload_id: str, now: datetime) -> bool:
        with anyio.CancelScope(shield=True):
            row = await upload_rows.delete_expired(self.engine, upload_id, now)
            if row is not None:
                self._hashes.pop(upload_id, None)
                await self.bytes.discard(upload_id, row.storage_state)
        return row is not None

    async def _known(self, upload_id: str) -> bool:
        return await upload_rows.known(self.engine, upload_id)

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


async def _fill(
    writer: ChunkWriter, request: Request, room: int, claim: Claim
) -> UploadInterrupted | BodyStalled | None:
    """Stream the body into `writer`; if the client goes away, return why (bytes are kept)."""
    try:
        async for chunk in request.stream():
            if writer.size + len(chunk) > room:
                raise PayloadTooLarge("The chunk runs past the upload's length or the size limit")
            claim.check()
            await writer.write(chunk)
    except ClientDisconnect:
        return UploadInterrupted()
    except BodyStalled as exc:  # like a disconnect: keep the bytes, then answer 408
        return exc
    except BaseException:
        await writer.abort()  # a refused chunk does not count
        raise
    return None


def _check_declared(request: Request, room: int) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > room:
        raise PayloadTooLarge("The chunk runs past the upload's length or the size limit")


@contextlib.contextmanager
def _bytes_gone() -> Iterator[None]:
    try:
        yield
    except ObjectNotFound:
        raise NotFound("Upload not found (its bytes are gone)") from None


def _valid(upload_id: str) -> bool:
    return _SESSION_ID.fullmatch(upload_id) is not None


def _session(row: Row[Any]) -> UploadSession:
    return UploadSession(
        row.id, row.user_id, row.length, row.filename, row.upload_offset, row.expires_at
    )


def _remove_older(directory: Path, cutoff: datetime) -> None:
    """Temporary files left by a killed process (a live upload writes every few seconds)."""
    for path in directory.glob("*.part"):
        with contextlib.suppress(FileNotFoundError):
            if datetime.fromtimestamp(path.stat().st_mtime, UTC) < cutoff:
                path.unlink()
