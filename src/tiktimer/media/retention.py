"""Media retention: what no post needs any more is deleted, bytes first in the database.

Two rules, both measured from `now` (passed in, so a job or a test decides the clock):

- unused: no post references it and it was uploaded more than `unused_ttl` ago;
- published: every post referencing it is published, the last more than `keep_published` ago.

Drafts, failed and cancelled posts keep their media (they can be scheduled again). A deleted
medium keeps its row, marked `deleted` with `deleted_at`, so posts keep their link and
metadata; only its stored object goes, after the row change is committed (a failure then
leaks bytes, never a post's media). `run_gc` also sweeps expired resumable uploads.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tiktimer.db.session import session_scope
from tiktimer.media import repository
from tiktimer.media.thumbnails import thumbnail_key
from tiktimer.media.uploads import UploadSessions
from tiktimer.storage import Storage, StorageError

log = logging.getLogger("tiktimer.media.gc")

DEFAULT_UNUSED_TTL = timedelta(hours=72)
DEFAULT_KEEP_PUBLISHED = timedelta(days=30)
BATCH_SIZE = 200


@dataclass(frozen=True)
class RemovedMedia:
    id: str
    user_id: int
    size: int
    reason: str  # "unused" | "published"


@dataclass
class GcReport:
    removed: list[RemovedMedia] = field(default_factory=list)
    expired_uploads: list[str] = field(default_factory=list)
    #: Storage keys whose object could not be deleted (their rows are marked deleted).
    leaked: list[str] = field(default_factory=list)

    @property
    def freed_bytes(self) -> int:
        return sum(item.size for item in self.removed)


async def run_gc(
    sessionmaker: async_sessionmaker[AsyncSession],
    storage: Storage,
    now: datetime,
    *,
    unused_ttl: timedelta = DEFAULT_UNUSED_TTL,
    keep_published: timedelta = DEFAULT_KEEP_PUBLISHED,
    uploads: UploadSessions | None = None,
    batch_size: int = BATCH_SIZE,
) -> GcReport:
    """Apply the retention rules once; safe to run concurrently and repeatedly."""
    report = GcReport()
    rules = (
        ("unused", repository.unused_since(now - unused_ttl)),
        ("published", repository.published_before(now - keep_published)),
    )
    for reason, rule in rules:
        while True:
            found, deleted = await _delete_batch(sessionmaker, storage, rule, now, batch_size)
            for media_id, user_id, size, leaked in deleted:
                report.removed.append(RemovedMedia(media_id, user_id, size, reason))
                if leaked is not None:
                    report.leaked.append(leaked)
            if found < batch_size or not deleted:
                break  # the last page, or everything left was taken meanwhile
    if uploads is not None:
        report.expired_uploads = await uploads.sweep(now)
    log.info(
        "media.gc.done removed=%d freed_bytes=%d expired_uploads=%d leaked=%d",
        len(report.removed),
        report.freed_bytes,
        len(report.expired_uploads),
        len(report.leaked),
    )
    return report


async def _delete_batch(
    sessionmaker: async_sessionmaker[AsyncSession],
    storage: Storage,
    rule: ColumnElement[bool],
    now: datetime,
    limit: int,
) -> tuple[int, list[tuple[str, int, int, str | None]]]:
    """Delete one page of candidates; return how many were found and (id, owner, size, leak)."""
    async with session_scope(sessionmaker) as session:
        connection = await session.connection()
        candidates = await repository.gc_candidates(connection, rule, limit)
        rows = await repository.delete_if(connection, candidates, rule, now) if candidates else []
    deleted = []
    for row in rows:  # committed: these rows no longer promise an object
        leaked: str | None = None
        for key in (row.storage_key, thumbnail_key(row.storage_key)):  # the poster goes too
            try:
                await storage.delete(key)
            except StorageError:
                log.exception("media.gc.object_delete_failed key=%s", key)
                leaked = leaked or key
        deleted.append((str(row.id), int(row.user_id), int(row.size), leaked))
    return len(candidates), deleted


def describe(report: GcReport) -> list[str]:
    """Lines for `tiktimer media gc`."""
    lines = [
        f"removed media {item.id} (user {item.user_id}, {item.size} bytes, {item.reason})"
        for item in report.removed
    ]
    lines += [f"removed expired upload {upload_id}" for upload_id in report.expired_uploads]
    lines += [f"warning: could not delete stored object {key}" for key in report.leaked]
    lines.append(
        f"{len(report.removed)} media removed ({report.freed_bytes} bytes), "
        f"{len(report.expired_uploads)} expired uploads"
    )
    return lines
