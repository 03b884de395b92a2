"""Creating, editing and cancelling posts; the state rules a client may not bypass."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.errors import Conflict, NotFound, Unprocessable
from tiktimer.kit.time import AmbiguousLocalTime, local_to_utc, utc_now
from tiktimer.models import Media, Post, PostStatus, SocialAccount
from tiktimer.platforms.tiktok.preflight import CreatorLookup
from tiktimer.posts import repository, transitions
from tiktimer.posts.schemas import PostCreate, PostUpdate
from tiktimer.posts.transitions import UNSTARTED
from tiktimer.publishing.validation import PostValidator
from tiktimer.scheduler.wakeup import DueSignal

# The states a client's action may leave. A post the publisher has begun (`publishing`
# past its claim), published or awaiting TikTok's verdict is not the client's to change;
# one a worker claimed but has not started is taken back (UNSTARTED).
EDITABLE = (
    PostStatus.draft,
    PostStatus.scheduled,
    PostStatus.failed,
    PostStatus.cancelled,
    UNSTARTED,
)
CANCELLABLE = (PostStatus.draft, PostStatus.scheduled, PostStatus.failed, UNSTARTED)
DELETABLE = (*(s for s in PostStatus if s != PostStatus.publishing), UNSTARTED)
_DIRECT_FIELDS = (
    "content",
    "title",
    "post_mode",
    "media_type",
    "privacy_level",
    "allow_comment",
    "allow_duet",
    "allow_stitch",
    "video_cover_timestamp_ms",
    "photo_cover_index",
    "brand_organic_toggle",
    "brand_content_toggle",
    "is_aigc",
    "auto_add_music",
)


def resolve_schedule(value: datetime, user_timezone: str) -> datetime:
    """Aware times are taken as given; naive ones are wall-clock times in the user's zone."""
    if value.tzinfo is not None:
        return value
    try:
        return local_to_utc(value, user_timezone)
    except AmbiguousLocalTime as exc:
        raise Unprocessable(_field_error("scheduled_time", str(exc))) from None


def _field_error(field: str, message: str) -> list[dict[str, Any]]:
    return [{"loc": ["body", field], "msg": message, "type": "value_error"}]


class PostService:
    def __init__(
        self, validator: PostValidator | None = None, *, due_signal: DueSignal | None = None
    ) -> None:
        # Pre-flight (tiktimer.publishing): TikTok's rules checked on every create and edit.
        self.validator = validator
        # Wakes the dispatchers when a post becomes due soon (tiktimer.scheduler.wakeup).
        self.due_signal = due_signal

    async def create(
        self, session: AsyncSession, user_id: int, user_timezone: str, data: PostCreate
    ) -> Post:
        creator = await self._prefetch(user_id, data.social_account_id)
        scheduled_time = resolve_schedule(data.scheduled_time, user_timezone)
        if not data.draft:
            _ensure_future(scheduled_time)
        media_ids = (
            data.media_ids
            if data.media_ids is not None
            else ([data.media_id] if data.media_id else [])
        )
        post = Post(
            user_id=user_id,
            platform=data.platform,
            scheduled_time=scheduled_time,
            status=PostStatus.draft if data.draft else PostStatus.scheduled,
            social_account_id=await self._owned_account(session, user_id, data.social_account_id),
        )
        _apply_fields(post, data)
        post.content = data.content
        session.add(post)
        await session.flush()
        await self._attach_media(session, user_id, post, media_ids)
        await self._validate(session, post, creator, enforce=not data.draft)
        await self._announce(session, post)
        return post

    async def update(
        self,
        session: AsyncSession,
        user_id: int,
        user_timezone: str,
        post_id: int,
        data: PostUpdate,
    ) -> Post:
        fields = data.model_fields_set
        if "social_account_id" in fields:
            creator = await self._prefetch(user_id, data.social_account_id)
        else:
            creator = await self._prefetch(user_id, None, post_id=post_id)
        post = await transitions.hold(session, post_id, EDITABLE, owner=user_id, now=utc_now())
        if post is None:
            refused = "Post is {} and can no longer be edited"
            raise await _refusal(session, user_id, post_id, refused)
        # Held until the request commits: what follows cannot race a worker.
        was_scheduled = post.status == PostStatus.scheduled
        if "social_account_id" in fields:
            post.social_account_id = await self._owned_account(
                session, user_id, data.social_account_id
            )
        _apply_fields(post, data)
        if data.scheduled_time is not None:
            post.scheduled_time = resolve_schedule(data.scheduled_time, user_timezone)
        if data.draft is True:
            post.status = PostStatus.draft
        elif data.draft is False or (
            post.status == PostStatus.scheduled and data.scheduled_time is not None
        ):
            post.status = PostStatus.scheduled
        if post.status == PostStatus.scheduled:
            _ensure_future(post.scheduled_time)
            if data.scheduled_time is not None:
                post.next_attempt_at = None
        if data.media_ids is not None:
            await self._attach_media(session, user_id, post, data.media_ids)
        await session.flush()
        await self._validate(session, post, creator, enforce=post.status == PostStatus.scheduled)
        if data.scheduled_time is not None or not was_scheduled:
            await self._announce(session, post)
        return post

    async def delete(self, session: AsyncSession, user_id: int, post_id: int) -> None:
        if not await transitions.remove(session, post_id, DELETABLE, owner=user_id):
            raise await _refusal(
                session, user_id, post_id, "Post is being published and cannot be deleted now"
            )

    async def cancel(self, session: AsyncSession, user_id: int, post_id: int) -> None:
        cancelled = await transitions.transition(
            session,
            post_id,
            CANCELLABLE,
            PostStatus.cancelled,
            owner=user_id,
            **transitions.released(utc_now()),
        )
        if not cancelled:
            raise await _refusal(session, user_id, post_id, "Post is {} and cannot be cancelled")

    async def _announce(self, session: AsyncSession, post: Post) -> None:
        if self.due_signal is not None and post.status == PostStatus.scheduled:
            await self.due_signal.post_due(session, post.scheduled_time)

    async def _prefetch(
        self, user_id: int, account_id: int | None, *, post_id: int | None = None
    ) -> CreatorLookup | None:
        """TikTok's creator_info, asked before this request's session touches the database."""
        if self.validator is None:
            return None
        return await self.validator.prefetch(user_id, account_id, post_id=post_id)

    async def _validate(
        self, session: AsyncSession, post: Post, creator: CreatorLookup | None, *, enforce: bool
    ) -> None:
        """Store the pre-flight report; a scheduled post TikTok would refuse → 422."""
        if self.validator is not None:
            await self.validator.check(session, post, creator, enforce=enforce)

    async def _owned_account(
        self, session: AsyncSession, user_id: int, account_id: int | None
    ) -> int | None:
        if account_id is None:
            return None
        found = await session.scalar(
            select(SocialAccount.id).where(
                SocialAccount.id == account_id, SocialAccount.user_id == user_id
            )
        )
        if found is None:
            raise Unprocessable(_field_error("social_account_id", "no such connected account"))
        return account_id

    async def _attach_media(
        self, session: AsyncSession, user_id: int, post: Post, media_ids: list[str]
    ) -> None:
        if media_ids:
            owned = set(
                (
                    await session.execute(
                        select(Media.id)
                        .where(
                            Media.id.in_(media_ids),
                            Media.user_id == user_id,
                            Media.status == "ready",
                        )
                        # Share-locked until commit: a concurrent delete or gc cannot
                        # retire media that this post is attaching.
                        .with_for_update(read=True)
                    )
                ).scalars()
            )
            missing = [m for m in media_ids if m not in owned]
            if missing:
                raise Unprocessable(
                    _field_error("media_ids", f"unknown media: {', '.join(missing)}")
                )
            if len(set(media_ids)) != len(media_ids):
                raise Unprocessable(_field_error("media_ids", "the same media is listed twice"))
        await repository.set_media(session, post.id, media_ids)


async def _refusal(
    session: AsyncSession, user_id: int, post_id: int, message: str
) -> NotFound | Conflict:
    """Why a guarded write changed nothing: another user's post is indistinguishable from a
    missing one; the caller's is in a state the action may not leave (`{}`: the status)."""
    status = await transitions.status_of(session, post_id, owner=user_id)
    if status is None:
        return NotFound("Post not found")
    return Conflict(message.format(status))


def _apply_fields(post: Post, data: PostCreate | PostUpdate) -> None:
    for name in _DIRECT_FIELDS:
        value = getattr(data, name)
        if value is not None:
            setattr(post, name, value)


def _ensure_future(scheduled_time: datetime) -> None:
    if scheduled_time <= utc_now():
        raise Unprocessable(
            _field_error("scheduled_time", "must be in the future (or save the post as a draft)")
        )
