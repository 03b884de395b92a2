"""`YouTubePublisher`: one post to YouTube Shorts, as the scheduler's `Publisher` asks.

`start` reads the post and its video in a short session of its own, opens a resumable
session, streams the file from storage in 256 KiB-multiple chunks (resumed, never
restarted, after any interruption inside the attempt; the same session goes on with a
refreshed token when Google refuses the old one mid-upload) and hands the video id to
the scheduler as the publish id. `check` is one `videos.list` reading.

YouTube gives no id before the last byte is stored, and the session URI is a credential
(the publish id is logged and stored in plain text), so the id is handed over after the
upload: a worker that dies mid-upload leaves no video and the next attempt opens a new
session; one that dies in the instant between YouTube's reply and the commit could upload
twice. Persisting the session URI encrypted (to resume across workers) is a later step.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tiktimer.models import Media, Post, PostMedia, SocialAccount
from tiktimer.platforms.contract import (
    ErrorKind,
    Pacer,
    PublishError,
    PublishIdSink,
    PublishJob,
    PublishOutcome,
)
from tiktimer.platforms.tokens import AccountUnusable
from tiktimer.platforms.youtube import metadata
from tiktimer.platforms.youtube.access import YouTubeAccess
from tiktimer.platforms.youtube.client import YouTubeClient
from tiktimer.platforms.youtube.errors import YouTubeError
from tiktimer.platforms.youtube.outcome import outcome_of
from tiktimer.platforms.youtube.post_settings import metadata_of
from tiktimer.platforms.youtube.schemas import UploadedVideo, VideoMetadata
from tiktimer.storage import Storage, StorageError

log = logging.getLogger("tiktimer.publishing")

INSERT_BUCKET = "youtube_insert"
STATUS_BUCKET = "youtube_status"


@dataclass(frozen=True, slots=True)
class _Video:
    storage_key: str
    size: int
    content_type: str


@dataclass(frozen=True, slots=True)
class _Snapshot:
    account_id: int
    meta: VideoMetadata
    video: _Video


class YouTubePublisher:
    def __init__(
        self,
        client: YouTubeClient,
        access: YouTubeAccess,
        storage: Storage,
        sessionmaker: async_sessionmaker[AsyncSession],
        pacer: Pacer,
    ) -> None:
        self.client, self.access, self.storage = client, access, storage
        self.sessionmaker, self.pacer = sessionmaker, pacer

    async def start(self, job: PublishJob, on_publish_id: PublishIdSink) -> str:
        snapshot = await self._snapshot(job.post_id)
        if problems := metadata.problems(snapshot.meta):
            raise PublishError(ErrorKind.fail, " ".join(problems), code="youtube_metadata")
        token = await self._token(snapshot.account_id)
        await self.pacer.acquire(snapshot.account_id, INSERT_BUCKET)
        video = snapshot.video
        uri = await self.client.start_upload(
            token, snapshot.meta, size=video.size, content_type=video.content_type
        )
        uploaded = await self._upload(snapshot, token, uri)
        await on_publish_id(uploaded.video_id, None)
        log.info(
            "publishing.youtube.uploaded post_id=%d video_id=%s privacy=%s",
            job.post_id,
            uploaded.video_id,
            uploaded.privacy_status,
        )
        return uploaded.video_id

    async def check(self, job: PublishJob, publish_id: str) -> PublishOutcome:
        account_id = job.account_id
        if account_id is None:
            raise PublishError(
                ErrorKind.fail, "The post has no YouTube channel.", code="no_account"
            )
        token = await self._token(account_id)
        await self.pacer.acquire(account_id, STATUS_BUCKET)
        return outcome_of(await self.client.video_state(token, publish_id))

    async def _upload(self, snapshot: _Snapshot, token: str, uri: str) -> UploadedVideo:
        video = snapshot.video

        def read_range(start: int, end: int) -> AsyncIterator[bytes]:
            return self.storage.open_range(video.storage_key, start, end)

        resume = False
        for _ in range(2):
            try:
                return await self.client.upload(
                    token,
                    uri,
                    size=video.size,
                    content_type=video.content_type,
                    read_range=read_range,
                    resume=resume,
                )
            except StorageError as error:
                raise PublishError(
                    ErrorKind.fail,
                    "The video could not be read from storage; upload it again.",
                    code="media_unreadable",
                ) from error
            except YouTubeError as error:
                if error.kind is not ErrorKind.refresh or resume:
                    raise
            # The access token expired mid-upload (it lives an hour): same session, new token.
            await self.access.refresh(snapshot.account_id)
            token, resume = await self._token(snapshot.account_id), True
        raise AssertionError("unreachable")

    async def _token(self, account_id: int) -> str:
        try:
            return await self.access.access_token(account_id)
        except AccountUnusable as error:
            raise PublishError(
                ErrorKind.reauthorize,
                f"The YouTube channel must be reconnected: {error.reason}.",
                code="account_unusable",
            ) from error

    async def _snapshot(self, post_id: int) -> _Snapshot:
        async with self.sessionmaker() as session:
            post = await session.get(Post, post_id)
            if post is None:
                raise PublishError(ErrorKind.fail, "The post no longer exists.", code="no_post")
            account = (
                await session.get(SocialAccount, post.social_account_id)
                if post.social_account_id is not None
                else None
            )
            media = (
                await session.scalars(
                    select(Media)
                    .join(PostMedia, PostMedia.media_id == Media.id)
                    .where(PostMedia.post_id == post_id)
                    .order_by(PostMedia.position)
                )
            ).all()
            meta = metadata_of(post)
        if account is None or account.platform != "youtube":
            raise PublishError(
                ErrorKind.fail, "The post has no YouTube channel.", code="no_account"
            )
        if len(media) != 1 or media[0].kind != "video" or media[0].status != "ready":
            raise PublishError(
                ErrorKind.fail, "YouTube takes exactly one video.", code="media_required"
            )
        content_type = media[0].content_type
        if not content_type.startswith("video/"):
            content_type = "application/octet-stream"
        return _Snapshot(
            account.id, meta, _Video(media[0].storage_key, media[0].size, content_type)
        )
