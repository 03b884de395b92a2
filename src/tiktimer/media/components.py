"""The media parts of a process, built once from settings (by the app, the CLI, the worker)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tiktimer.config import MediaSettings, StorageSettings
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


def build_media(
    storage_settings: StorageSettings, media: MediaSettings, read_engine: AsyncEngine
) -> MediaComponents:
    """Storage, upload area and media service; creates the local directories (blocking).

    `read_engine` (autocommit) lets uploads look up duplicates without holding a transaction
    open while they probe and store, and holds the resumable uploads' rows (each statement
    atomic on its own).
    """
    storage = storage_for(storage_settings)
    uploads = UploadSessions(
        storage_settings.upload_dir,
        engine=read_engine,
        storage=storage,
        max_bytes=media.max_upload_bytes,
        ttl=timedelta(hours=media.upload_expire_hours),
    )
    uploads.prepare()
    service = MediaService(
        storage,
        read_engine=read_engine,
        incoming_dir=uploads.incoming_dir,
        max_upload_bytes=media.max_upload_bytes,
        max_duration_sec=media.max_duration_sec,
    )
    return MediaComponents(
        storage,
        uploads,
        service,
        unused_ttl=timedelta(hours=media.unused_ttl_hours),
        keep_published=timedelta(days=media.keep_published_days),
    )


def storage_for(settings: StorageSettings) -> Storage:
    """The media store the settings name: one reading of them for the app and the doctor."""
    return build_storage(
        settings.backend,
        root=settings.media_dir,
        bucket=settings.s3_bucket,
        prefix=settings.s3_prefix,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
    )
