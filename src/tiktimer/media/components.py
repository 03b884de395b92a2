"""The media parts of a process, built once from settings (by the app, the CLI, the worker)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tiktimer.config import Settings
from tiktimer.media.retention import GcReport, run_gc
from tiktimer.media.service import MediaService
from tiktimer.media.uploads import UploadSessions
from tiktimer.storage import Storage, build_storage


@dataclass(frozen=True)
class MediaComponents:
    storage: Storage
    uploads: UploadSessions
    service: MediaService
    unused_ttl: timedelta
    keep_published: timedelta

    async def gc(self, sessionmaker: async_sessionmaker[AsyncSession], now: datetime) -> GcReport:
        """One retention pass with the configured times (what the worker runs periodically)."""
        return await run_gc(
            sessionmaker,
            self.storage,
            now,
            unused_ttl=self.unused_ttl,
            keep_published=self.keep_published,
            uploads=self.uploads,
        )

    async def aclose(self) -> None:
        await self.storage.aclose()


def build_media(settings: Settings, read_engine: AsyncEngine) -> MediaComponents:
    """Storage, upload area and media service; creates the local directories (blocking).

    `read_engine` (autocommit) lets uploads look up duplicates without holding a transaction
    open while they probe and store, and holds the resumable uploads' rows (each statement
    atomic on its own).
    """
    storage = build_storage(
        settings.storage,
        root=settings.media_dir,
        bucket=settings.s3_bucket,
        prefix=settings.s3_prefix,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
    )
    uploads = UploadSessions(
        settings.upload_dir,
        engine=read_engine,
        storage=storage,
        max_bytes=settings.max_upload_bytes,
        ttl=timedelta(hours=settings.upload_expire_hours),
    )
    uploads.prepare()
    service = MediaService(
        storage,
        read_engine=read_engine,
        incoming_dir=uploads.incoming_dir,
        max_upload_bytes=settings.max_upload_bytes,
        max_duration_sec=settings.media_max_duration_sec,
    )
    return MediaComponents(
        storage,
        uploads,
        service,
        unused_ttl=timedelta(hours=settings.media_unused_ttl_hours),
        keep_published=timedelta(days=settings.media_keep_published_days),
    )
