"""Media named by URL in an import file: fetched through the SSRF guard into the library.

The body streams to a temporary file (never whole in memory), bounded by the upload limit,
and becomes media exactly as an upload does (`MediaService.ingest`: dedupe, probe, store),
in its own short transaction: a fetched file stays in the library even when the import is
a dry run or is rolled back, and fetching the same bytes again reuses it.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from pathlib import Path, PurePosixPath

import anyio
import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tiktimer.db.session import session_scope
from tiktimer.errors import TiktimerError
from tiktimer.kit.safe_fetch import FetchPolicy, FetchRefused, guarded_client
from tiktimer.media.multipart import ReceivedFile
from tiktimer.media.service import MediaService
from tiktimer.media.spool import Spool

log = logging.getLogger("tiktimer.posts.importing")
URL_PREFIXES = ("https://", "http://")


class FetchProblem(Exception):
    """Why a URL did not become media, in words for the row's report."""


def is_url(value: str) -> bool:
    return value.lower().startswith(URL_PREFIXES)


class MediaFetcher:
    def __init__(
        self,
        media: MediaService,
        sessionmaker: async_sessionmaker[AsyncSession],
        policy: FetchPolicy,
    ) -> None:
        self.media = media
        self.sessionmaker = sessionmaker
        self.policy = policy

    async def fetch(self, owner_id: int, url: str) -> str:
        """The id of the owner's media holding the bytes at `url`; FetchProblem if none."""
        temp = self.media.incoming_dir / f"import-{uuid.uuid4().hex}"
        try:
            received = await self._download(url, temp)
            try:
                async with session_scope(self.sessionmaker) as session:
                    media_id, _ = await self.media.ingest(session, owner_id, received)
            except TiktimerError as exc:
                raise FetchProblem(f"{url}: {exc.detail}") from None
            log.info("import.media_fetched media_id=%s", media_id)
            return media_id
        finally:
            await anyio.Path(temp).unlink(missing_ok=True)

    async def _download(self, url: str, temp: Path) -> ReceivedFile:
        limit = self.media.max_upload_bytes
        hasher = hashlib.sha256()
        spool = Spool(temp, hasher=hasher)
        try:
            async with guarded_client(self.policy) as client:
                async with client.stream("GET", url) as response:
                    if response.status_code != 200:
                        raise FetchProblem(f"{url} answered HTTP {response.status_code}")
                    async for chunk in response.aiter_bytes():
                        if spool.size + len(chunk) > limit:
                            raise FetchProblem(f"{url} is larger than {limit} bytes")
                        await spool.write(chunk)
            await spool.close()
        except FetchRefused as exc:
            await spool.abort()
            raise FetchProblem(f"{url} cannot be fetched: {exc.reason}") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            await spool.abort()
            raise FetchProblem(f"{url} could not be fetched ({type(exc).__name__})") from None
        except BaseException:
            await spool.abort()
            raise
        name = PurePosixPath(url.split("?", 1)[0].split("#", 1)[0]).name[:255] or None
        return ReceivedFile(temp, spool.size, hasher.hexdigest(), name)
