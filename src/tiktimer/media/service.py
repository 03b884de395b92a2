"""Turning received bytes into media records: dedupe, probe, judge, store, record; and delete.

The order is chosen so that nothing is left behind by a failure: the bytes sit in a local
temporary file (deleted by whoever received them) until they are known to be new, readable
media; then they are stored, and only then recorded. A record therefore always has its
object. Services flush and never commit: the request (or job) owns the transaction.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypedDict, Unpack

import anyio
from anyio import to_thread
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.requests import Request

from tiktimer.errors import Conflict, NotFound, Unprocessable
from tiktimer.kit.state import services
from tiktimer.kit.time import utc_now
from tiktimer.media import repository
from tiktimer.media.multipart import MAX_FIELD_BYTES, MAX_FIELDS, ReceivedFile, receive_form
from tiktimer.media.probe import MediaInfo, NotMediaError, probe_file
from tiktimer.media.schemas import MediaRead
from tiktimer.media.thumbnails import poster_jpeg, thumbnail_key
from tiktimer.media.verdict import tiktok_verdict
from tiktimer.storage import ObjectNotFound, Storage, StorageError, media_key

log = logging.getLogger("tiktimer.media")
#: Posters are a few kilobytes; anything far larger under a poster's key is not served.
MAX_POSTER_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Received:
    """An upload turned into media: the record, whether it is new, and the form's text fields."""

    media: MediaRead
    created: bool
    fields: dict[str, str]


class MediaService:
    def __init__(
        self,
        storage: Storage,
        *,
        incoming_dir: Path,
        read_engine: AsyncEngine | None = None,
        max_upload_bytes: int,
        max_duration_sec: float | None = None,
    ) -> None:
        self.storage = storage
        self.read_engine = read_engine
        self.incoming_dir = incoming_dir
        self.max_upload_bytes = max_upload_bytes
        self.max_duration_sec = max_duration_sec

    async def receive(
        self,
        request: Request,
        session: AsyncSession,
        owner_id: int,
        *,
        field_name: str = "file",
        max_field_bytes: int = MAX_FIELD_BYTES,
        max_fields: int = MAX_FIELDS,
    ) -> Received:
        """Stream a multipart body's `field_name` file into media; keep its small text fields."""
        async with receive_form(
            request,
            file_field=field_name,
            temp_dir=self.incoming_dir,
            max_file_bytes=self.max_upload_bytes,
            max_field_bytes=max_field_bytes,
            max_fields=max_fields,
        ) as form:
            media_id, created = await self.ingest(session, owner_id, form.file)
        return Received(await self.read(session, owner_id, media_id), created, form.fields)

    async def ingest(
        self, session: AsyncSession, owner_id: int, received: ReceivedFile
    ) -> tuple[str, bool]:
        """Record a received file as the owner's media; return its id and whether it is new.

        The same bytes uploaded again by the same owner give back the existing record. Bytes
        that are not readable media raise 422. On success the temporary file has been moved
        into storage; on failure it is left for the receiver to delete.
        """
        existing = await self._find(session, owner_id, received.sha256)
        if existing is not None:
            log.info("media.upload.duplicate media_id=%s", existing)
            return existing, False
        info = await self._probe(received.path)
        poster = await to_thread.run_sync(poster_jpeg, received.path, info)
        media_id, created_at = str(uuid.uuid4()), utc_now()
        key = media_key(owner_id, media_id, created_at, info.extension)
        await self._store_poster(key, poster)
        try:
            await self.storage.put_file(key, received.path)
        except BaseException:
            await self._discard(key)
            raise
        try:
            connection = await session.connection()
            inserted = await repository.insert_ready(
                connection, self._row(owner_id, media_id, created_at, key, received, info)
            )
        except BaseException:
            await self._discard(key)
            raise
        if not inserted:  # the same file finished uploading in another request meanwhile
            await self._discard(key)
            existing = await repository.find_ready(connection, owner_id, received.sha256)
            if existing is None:
                raise Conflict("The same file is being uploaded concurrently; try again")
            return existing, False
        log.info("media.upload.stored media_id=%s size=%d", media_id, received.size)
        return media_id, True

    async def _find(self, session: AsyncSession, owner_id: int, sha256: str) -> str | None:
        """The dedupe lookup, outside the request's transaction when a read engine is given.

        Probing and storing can take minutes (4 GB to S3); no transaction should stay open
        for them, so the request's own transaction then starts only with the insert.
        """
        if self.read_engine is None:
            return await repository.find_ready(await session.connection(), owner_id, sha256)
        async with self.read_engine.connect() as reader:
            return await repository.find_ready(reader, owner_id, sha256)

    async def read(self, session: AsyncSession, owner_id: int, media_id: str) -> MediaRead:
        await session.flush()
        row = await repository.get_owned(await session.connection(), owner_id, media_id)
        if row is None:
            raise NotFound("Media not found")
        return MediaRead.model_validate(row)

    async def delete(self, session: AsyncSession, owner_id: int, media_id: str) -> str:
        """Mark the owner's media deleted; return the storage key to remove after commit.

        Media that a post scheduled or being published needs → 409. Other posts (drafts,
        published history) keep their link to the deleted record.
        """
        connection = await session.connection()
        key = await repository.lock_owned(connection, owner_id, media_id)
        if key is None:
            raise NotFound("Media not found")
        needing = await repository.count_posts_needing(connection, media_id)
        if needing:
            raise Conflict(f"Media is used by {needing} post(s) scheduled or being published")
        await repository.mark_deleted(connection, media_id, utc_now())
        return key

    async def remove_object(self, key: str) -> None:
        """Delete a stored object (and its poster) whose record is already gone; a failure
        only leaks bytes."""
        await remove_media_object(self.storage, key)

    async def poster(self, key: str) -> bytes | None:
        """The poster stored beside the media object `key`, or None if it has none."""
        name = thumbnail_key(key)
        try:
            size = await self.storage.size(name)
            if size > MAX_POSTER_BYTES:
                return None
            async with aclosing(self.storage.open_range(name, 0, size)) as pieces:
                return b"".join([piece async for piece in pieces])
        except ObjectNotFound:
            return None

    async def _store_poster(self, key: str, poster: bytes | None) -> None:
        """The poster beside the media's object; without one the media is stored anyway."""
        if poster is None:
            return
        try:
            await self.storage.put_stream(thumbnail_key(key), _once(poster))
        except StorageError:
            log.exception("media.thumbnail.store_failed key=%s", key)

    async def _probe(self, path: Path) -> MediaInfo:
        try:
            return await to_thread.run_sync(probe_file, path)
        except NotMediaError as exc:
            log.info("media.upload.not_media reason=%s", exc)
            raise Unprocessable(f"The file is not usable media: {exc}") from None

    async def _discard(self, key: str) -> None:
        with anyio.CancelScope(shield=True):
            await self.remove_object(key)

    def _row(
        self,
        owner_id: int,
        media_id: str,
        created_at: datetime,
        key: str,
        received: ReceivedFile,
        info: MediaInfo,
    ) -> dict[str, object]:
        verdict = tiktok_verdict(info, max_duration_sec=self.max_duration_sec)
        return {
            "id": media_id,
            "user_id": owner_id,
            "storage_key": key,
            "size": received.size,
            "sha256": received.sha256,
            "content_type": info.content_type,
            "kind": str(info.kind),
            "original_filename": received.filename,
            "probe": info.model_dump(mode="json"),
            "verdict": {"ok": verdict.ok, "reasons": verdict.reasons},
            "created_at": created_at,
        }


async def remove_media_object(storage: Storage, key: str) -> bool:
    """Delete a media object and its poster; False (and a log line) if either stays."""
    removed = True
    for name in (key, thumbnail_key(key)):
        try:
            await storage.delete(name)
        except StorageError:
            log.exception("media.object.delete_failed key=%s", name)
            removed = False
    return removed


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


class FieldLimits(TypedDict, total=False):
    max_field_bytes: int
    max_fields: int


async def receive_upload(
    request: Request,
    session: AsyncSession,
    owner_id: int,
    field_name: str = "file",
    **limits: Unpack[FieldLimits],
) -> Received:
    """The streaming upload path for any multipart endpoint (e.g. the `video` field).

    Reads the body from `request.stream()` (do not declare `UploadFile` or `Form` parameters
    on the route, or FastAPI reads the body first), turns the `field_name` file into media
    and returns it with the other fields as text, each at most `max_field_bytes`.
    """
    service = services(request).provide(MediaService)
    return await service.receive(request, session, owner_id, field_name=field_name, **limits)
