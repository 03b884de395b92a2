"""An importer built from the process's parts: the API's per request, the CLI's once."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tiktimer.config import Settings
from tiktimer.media.service import MediaService
from tiktimer.posts.importing.importer import CsvImporter
from tiktimer.posts.importing.media_urls import MediaFetcher
from tiktimer.posts.importing.table import ImportLimits
from tiktimer.posts.service import PostService


def build_importer(
    settings: Settings,
    posts: PostService,
    media: MediaService,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> CsvImporter:
    limits = ImportLimits(
        max_rows=settings.limits.import_max_rows,
        max_bytes=settings.limits.import_max_kb * 1024,
    )
    fetcher = MediaFetcher(media, sessionmaker, settings.server.fetch_policy)
    return CsvImporter(posts, sessionmaker, limits, fetcher)
