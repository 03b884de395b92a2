"""`TikTokPublisher`: one post to TikTok, as the scheduler's `Publisher` contract asks.

`start` re-validates against a fresh creator_info, initialises the right kind of publish
(Direct Post video by FILE_UPLOAD, inbox draft video, or photos by PULL_FROM_URL from
TikTimer's signed public media URLs), hands the publish id to the scheduler at once, then
streams the video chunk by chunk from storage, never holding the file. `check` is one
status fetch. Neither holds a database connection while TikTok is called: post and media
are read in a short session of their own first.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from tiktimer.db.read import autocommit_engine
from tiktimer.kit.time import utc_now
from tiktimer.media.public_urls import MediaUrlSigner
from tiktimer.models import Post
from tiktimer.platforms.contract import (
    ErrorKind,
    OutcomeState,
    Pacer,
    PublishError,
    PublishIdSink,
    PublishJob,
    PublishOutcome,
)
from tiktimer.platforms.tiktok import facts as load
from tiktimer.platforms.tiktok import fail_reasons
from tiktimer.platforms.tiktok.buckets import CREATOR_INFO_BUCKET, INIT_BUCKET, STATUS_BUCKET
from tiktimer.platforms.tiktok.chunks import plan_chunks
from tiktimer.platforms.tiktok.client import UPLOAD_CONTENT_TYPES, TikTokClient
from tiktimer.platforms.tiktok.creator_info import CreatorInfoSource, refusal
from tiktimer.platforms.tiktok.errors import (
    TikTokError,
    TikTokRejected,
    TikTokRetryableError,
    TikTokUploadSourceError,
)
from tiktimer.platforms.tiktok.outcome import outcome_of
from tiktimer.platforms.tiktok.preflight import (
    CreatorLookup,
    Facts,
    MediaFacts,
    PostSettings,
    PreflightReport,
    evaluate,
)
from tiktimer.platforms.tiktok.publish_errors import publish_error
from tiktimer.platforms.tiktok.schemas import (
    FileUploadSource,
    PhotoDraftInfo,
    PhotoPostInfo,
    PhotoSource,
    PrivacyLevel,
    PublishInit,
    PublishStatus,
    PublishStatusValue,
    VideoPostInfo,
)
from tiktimer.platforms.tiktok.snapshot import Snapshot, read_snapshot
from tiktimer.platforms.tokens import AccessToken, AccountUnusable, TokenSource
from tiktimer.storage import Storage, StorageError

log = logging.getLogger("tiktimer.publishing")

# A start's token serves the status checks of the next half minute (it was valid for at
# least the refresh margin, five minutes, when read); at most this many accounts are kept.
RECENT_TOKEN_SECONDS = 30.0
RECENT_TOKENS = 4096

_Init = Callable[[str], Awaitable[PublishInit]]
"""An init call waiting for its access token."""


class TikTokPublisher:
    def __init__(
        self,
        client: TikTokClient,
        tokens: TokenSource,
        storage: Storage,
        sessionmaker: async_sessionmaker[AsyncSession],
        pacer: Pacer,
        *,
        creators: CreatorInfoSource,
        media_urls: MediaUrlSigner,
        daily_post_cap: int = 15,
        pending_share_cap: int = 5,
    ) -> None:
        self.client = client
        self.tokens = tokens
        self.storage = storage
        self.sessionmaker = sessionmaker
        self.pacer = pacer
        self.creators = creators
        self.media_urls = media_urls
        self.caps = (daily_post_cap, pending_share_cap)
        bind = sessionmaker.kw.get("bind")
        self._read_engine = autocommit_engine(bind) if isinstance(bind, AsyncEngine) else None
        # The token each recent start used, for the status checks that follow it (no read).
        self._recent: dict[int, tuple[AccessToken, float]] = {}

    # -- the Publisher contract -----------------------------------------------------------

    async def start(self, job: PublishJob, on_publish_id: PublishIdSink) -> str:
        snapshot = await self._snapshot(job.post_id)
        token = await self._token(snapshot)
        creator = await self._fresh_creator(snapshot, token)
        report = evaluate(
            snapshot.settings,
            Facts(
                account=snapshot.account,
                media=snapshot.media,
                creator=creator,
                budget=snapshot.budget,
                photo_urls_https=self.media_urls.https,
            ),
        )
        if not report.ok:
            log.info("publishing.preflight.failed post_id=%d codes=%s", job.post_id, _codes(report))
            raise PublishError(ErrorKind.fail, report.message(), code=report.errors[0].code)
        assert token is not None  # a usable account was checked above
        init = await self._init(snapshot, token)
        log.info("publishing.init.ok post_id=%d log_id=%s", job.post_id, init.log_id)
        await on_publish_id(init.publish_id, init.log_id)
        if init.upload_url is not None:
            await self._upload(snapshot.media[0], init.upload_url)
        return init.publish_id

    async def check(self, job: PublishJob, publish_id: str) -> PublishOutcome:
        account_id = job.account_id if job.account_id is not None else await self._account_of(job)
        token = self._recent_token(account_id) or await self._token_for(account_id)
        await self.pacer.acquire(account_id, STATUS_BUCKET)
        try:
            status = await self.client.fetch_post_status(token.token, publish_id)
        except TikTokError as exc:
            self.forget_token(account_id)  # whatever went wrong, the next check reads it anew
            raise publish_error(exc, step="status") from exc
        outcome = outcome_of(status)
        if outcome.state is OutcomeState.processing and await self._upload_abandoned(
            job.post_id, status
        ):
            raise PublishError(
                ErrorKind.reinitialize,
                "The upload to TikTok stopped before it finished; the upload starts over.",
                code="upload_incomplete",
                log_id=status.log_id,
            )
        if fail_reasons.account_gone(outcome.fail_reason):
            self.forget_token(account_id)
            await self.tokens.mark_reauth_required(account_id, "TikTok access was removed")
        return outcome

    async def _upload_abandoned(self, post_id: int, status: PublishStatus) -> bool:
        """TikTok still waits for bytes of a FILE_UPLOAD that nobody is sending.

        The scheduler checks a publish id only while no worker uploads to it (a worker
        never uploads past its lease): fewer bytes than the video now means the upload
        died with its worker, and TikTok can never publish this id. (Added by the
        scheduler's crash recovery; see tiktimer.posts.machine.)
        """
        if status.status != PublishStatusValue.PROCESSING_UPLOAD or status.uploaded_bytes is None:
            return False
        async with self.sessionmaker() as session:
            media = await load.load_post_media(session, post_id)
        return bool(media) and status.uploaded_bytes < media[0].size

    # -- reading ---------------------------------------------------------------------------

    async def _snapshot(self, post_id: int) -> Snapshot:
        async with self._reads() as connection:
            snapshot = await read_snapshot(connection, post_id, at=utc_now(), caps=self.caps)
        if snapshot is None:
            raise PublishError(ErrorKind.fail, "The post no longer exists.", code="no_post")
        return snapshot

    @asynccontextmanager
    async def _reads(self) -> AsyncIterator[AsyncConnection]:
        """An autocommit connection (a session's, when the sessionmaker has no engine)."""
        if self._read_engine is not None:
            async with self._read_engine.connect() as connection:
                yield connection
            return
        async with self.sessionmaker() as session:
            yield await session.connection()

    async def _account_of(self, job: PublishJob) -> int:
        async with self.sessionmaker() as session:
            post = await session.get(Post, job.post_id)
            account = post.social_account_id if post is not None else None
        if account is None:
            raise PublishError(ErrorKind.fail, "The post has no TikTok account.", code="no_account")
        return account

    async def _token(self, snapshot: Snapshot) -> AccessToken | None:
        """A token for a usable account; None lets pre-flight explain what is wrong."""
        account = snapshot.account
        if account is None or account.status != "active":
            return None
        if snapshot.stored is not None and (token := self.tokens.stored_token(snapshot.stored)):
            self._remember(token)
            return token  # read with the post: no second trip unless it needs a refresh
        return self._remember(await self._token_for(account.id))

    def _remember(self, token: AccessToken) -> AccessToken:
        if len(self._recent) >= RECENT_TOKENS:
            self._recent.clear()
        self._recent[token.account_id] = (token, time.monotonic())
        return token

    def _recent_token(self, account_id: int) -> AccessToken | None:
        """The token a start just used: valid for its refresh margin (minutes) after it was
        read, it serves the post's first checks; older, or forgotten, it is read again."""
        recent = self._recent.get(account_id)
        if recent is None or time.monotonic() - recent[1] > RECENT_TOKEN_SECONDS:
            return None
        return recent[0]

    def forget_token(self, account_id: int) -> None:
        """TikTok refused it, or it is being refreshed: never use it again."""
        self._recent.pop(account_id, None)

    async def _token_for(self, account_id: int) -> AccessToken:
        try:
            return await self.tokens.access_token(account_id)
        except (AccountUnusable, TikTokError) as exc:
            raise publish_error(exc, step="token") from exc

    async def _fresh_creator(
        self, snapshot: Snapshot, token: AccessToken | None
    ) -> CreatorLookup | None:
        """creator_info right before a direct post (TikTok's UX rule 1); caps become reasons."""
        if token is None or snapshot.settings.post_mode == "inbox":
            return None
        await self.pacer.acquire(token.account_id, CREATOR_INFO_BUCKET)
        try:
            info = await self.client.query_creator_info(token.token)
        except TikTokRejected as exc:
            return self.creators.remember(token.account_id, refusal(exc))
        except TikTokError as exc:
            raise publish_error(exc, step="creator_info") from exc
        return self.creators.remember(token.account_id, CreatorLookup(info=info))

    # -- init ------------------------------------------------------------------------------

    async def _init(self, snapshot: Snapshot, token: AccessToken) -> PublishInit:
        try:
            request = self._request(snapshot)
        except (ValidationError, ValueError) as exc:  # pre-flight should have caught it
            raise PublishError(
                ErrorKind.fail, f"The post cannot be sent to TikTok: {exc}", code="invalid_post"
            ) from exc
        await self.pacer.acquire(token.account_id, INIT_BUCKET)
        try:
            return await request(token.token)
        except TikTokError as exc:
            raise publish_error(exc, step="init") from exc

    def _request(self, snapshot: Snapshot) -> _Init:
        post, media = snapshot.settings, snapshot.media
        if post.media_type == "photo":
            source = PhotoSource(
                photo_images=tuple(self.media_urls.url(m.id) for m in media),
                photo_cover_index=post.photo_cover_index or 0,
            )
            if post.post_mode == "inbox":
                draft = PhotoDraftInfo(title=post.title or None, description=post.content or None)
                return lambda token: self.client.init_photo_draft(token, source, draft)
            info = _photo_post_info(post)
            return lambda token: self.client.init_photo_post(token, info, source)
        video = FileUploadSource.from_plan(plan_chunks(media[0].size))
        if post.post_mode == "inbox":
            return lambda token: self.client.init_inbox_video(token, video)
        video_info = _video_post_info(post)
        return lambda token: self.client.init_video_post(token, video_info, video)

    # -- upload ----------------------------------------------------------------------------

    async def _upload(self, medium: MediaFacts, upload_url: str) -> None:
        content_type = medium.content_type
        if content_type not in UPLOAD_CONTENT_TYPES:
            content_type = "video/mp4"

        def read_range(start: int, end: int) -> AsyncIterator[bytes]:
            return self.storage.open_range(medium.storage_key, start, end)

        try:
            result = await self.client.upload_file(
                upload_url, medium.size, read_range, content_type=content_type
            )
        except StorageError as exc:
            raise _missing_media(medium) from exc
        except TikTokUploadSourceError as exc:
            raise _missing_media(medium) from exc
        except TikTokRetryableError as exc:
            # The chunk retries are spent; this upload session is abandoned (it can never
            # publish half a video) and the scheduler starts over with a new init.
            raise PublishError(
                ErrorKind.reinitialize,
                "TikTok's upload kept failing; the upload starts over.",
                code=exc.code,
                log_id=exc.log_id,
                retry_after=exc.retry_after,
            ) from exc
        except TikTokError as exc:
            raise publish_error(exc, step="upload") from exc
        log.info(
            "publishing.upload.ok media_id=%s chunks=%d retries=%d resyncs=%d",
            medium.id,
            result.chunk_count,
            result.chunk_retries,
            result.resyncs,
        )


def _video_post_info(post: PostSettings) -> VideoPostInfo:
    return VideoPostInfo(
        privacy_level=PrivacyLevel(post.privacy_level or PrivacyLevel.SELF_ONLY),
        title=post.content or None,
        disable_comment=not post.allow_comment,
        disable_duet=not post.allow_duet,
        disable_stitch=not post.allow_stitch,
        video_cover_timestamp_ms=post.video_cover_timestamp_ms,
        brand_content_toggle=post.brand_content_toggle,
        brand_organic_toggle=post.brand_organic_toggle,
        is_aigc=post.is_aigc,
    )


def _photo_post_info(post: PostSettings) -> PhotoPostInfo:
    return PhotoPostInfo(
        privacy_level=PrivacyLevel(post.privacy_level or PrivacyLevel.SELF_ONLY),
        title=post.title or None,
        description=post.content or None,
        disable_comment=not post.allow_comment,
        auto_add_music=post.auto_add_music,
        brand_content_toggle=post.brand_content_toggle,
        brand_organic_toggle=post.brand_organic_toggle,
    )


def _missing_media(medium: MediaFacts) -> PublishError:
    return PublishError(
        ErrorKind.fail,
        f"The media file {medium.id} could not be read from storage; upload it again.",
        code="media_unreadable",
    )


def _codes(report: PreflightReport) -> str:
    return ",".join(issue.code for issue in report.errors)
