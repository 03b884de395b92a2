"""Creating, editing, cancelling, publishing now and retrying posts; the state rules a client
may not bypass. The JSON routes and the web app's pages both call these methods."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.errors import Conflict, NotFound, Unprocessable
from tiktimer.kit.time import AmbiguousLocalTime, local_to_utc, utc_now
from tiktimer.models import Post, PostStatus, QueuedPost, SocialAccount
from tiktimer.platforms.tiktok.preflight import CreatorLookup
from tiktimer.posts import creation, defaults, duplicates, repository, transitions
from tiktimer.posts.lookups import field_error, lock_media, owned_account_facts, status_and_account
from tiktimer.posts.machine.events import state_changed
from tiktimer.posts.queue.user_actions import make_due_now, requeue
from tiktimer.posts.queue.wakeup import DueSignal
from tiktimer.posts.schemas import PostCreate, PostUpdate
from tiktimer.posts.transitions import UNSTARTED
from tiktimer.posts.validation import PostValidator, field_errors

if TYPE_CHECKING:
    from tiktimer.idempotency import IdempotentRequest

# The states a client's action may leave. A post the publisher has begun (`publishing`
# past its claim), published or awaiting TikTok's verdict is not the client's to change;
# one a worker claimed but has not started is taken back (UNSTARTED).
EDITABLE = (
    PostStatus.draft,
    PostStatus.scheduled,
    PostStatus.failed,
    PostStatus.cancelled,
    PostStatus.paused,
    PostStatus.missed,
    UNSTARTED,
)
CANCELLABLE = (
    PostStatus.draft,
    PostStatus.scheduled,
    PostStatus.failed,
    PostStatus.paused,
    PostStatus.missed,
    UNSTARTED,
)
#: Statuses in which a post will publish when due: pre-flight must pass to be saved so.
GOING_OUT = (PostStatus.scheduled, PostStatus.paused)
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
        raise Unprocessable(field_error("scheduled_time", str(exc))) from None


class PostService:
    def __init__(
        self,
        validator: PostValidator | None = None,
        *,
        due_signal: DueSignal | None = None,
        late_publish_minutes: int | None = None,
        duplicate_window: timedelta = timedelta(0),
    ) -> None:
        # Pre-flight (posts.validation): TikTok's rules checked on every create and edit.
        self.validator = validator
        # Wakes the dispatchers when a post becomes due soon (tiktimer.posts.queue.wakeup).
        self.due_signal = due_signal
        # The late-publish window a new post gets unless it names one (None: no limit).
        self.late_publish_minutes = late_publish_minutes
        # The duplicate guard's window (posts.duplicates); zero turns it off.
        self.duplicate_window = duplicate_window

    async def create(
        self,
        session: AsyncSession,
        user_id: int,
        user_timezone: str,
        data: PostCreate,
        *,
        idempotency: IdempotentRequest | None = None,
    ) -> dict[str, Any]:
        """The new post as `PostRead` fields. Everything is checked before the one INSERT,
        whose RETURNING is the answer: no flush of an ORM object, no read back."""
        data = await self._with_default_account(session, user_id, data)
        creator = await self._prefetch(user_id, data.social_account_id)
        scheduled_time = resolve_schedule(data.scheduled_time, user_timezone)
        if not data.draft:
            _ensure_future(scheduled_time)
        if idempotency is not None:
            await idempotency.take(session)  # first write: a replay creates nothing
        media_ids = (
            data.media_ids
            if data.media_ids is not None
            else ([data.media_id] if data.media_id else [])
        )
        status = PostStatus.draft if data.draft else PostStatus.scheduled
        account = await owned_account_facts(session, user_id, data.social_account_id)
        media = await lock_media(session, user_id, media_ids)
        row = creation.new_row(data, user_id=user_id, scheduled_time=scheduled_time)
        row.update(
            status=status,
            social_account_id=account.id if account else None,
            late_publish_minutes=self._late_window(data),
        )
        if self.validator is not None:
            report = await self.validator.judge(
                session,
                creation.settings_of(row),
                account=account,
                media=media,
                at=scheduled_time,
                creator=creator,
            )
            row["validation"] = report.as_json()
            if status == PostStatus.scheduled and report.errors:
                raise Unprocessable(field_errors(report))
        if status == PostStatus.scheduled and not data.allow_duplicate:
            await duplicates.refuse_duplicate(session, row, media_ids, self.duplicate_window)
        post = await repository.insert_post(session, row, media_ids)
        await self._announce(session, status, scheduled_time)
        return post

    def _late_window(self, data: PostCreate) -> int | None:
        """The post's own late-publish window, else the configured one."""
        if "late_publish_minutes" in data.model_fields_set:
            return data.late_publish_minutes
        return self.late_publish_minutes

    async def _with_default_account(
        self, session: AsyncSession, user_id: int, data: PostCreate
    ) -> PostCreate:
        """Without `social_account_id`, the user's only TikTok account (several → 422
        unless it is a draft). Read on its own session when there is one: no transaction
        of this request stays open while pre-flight asks TikTok."""
        if data.social_account_id is not None:
            return data
        if self.validator is None:
            accounts = await defaults.tiktok_accounts(session, user_id)
        else:
            async with self.validator.sessionmaker() as own:
                accounts = await defaults.tiktok_accounts(own, user_id)
        chosen = defaults.chosen_account(accounts, draft=data.draft)
        return data if chosen is None else data.model_copy(update={"social_account_id": chosen})

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
            account_id = await self._owned_account(session, user_id, data.social_account_id)
            if account_id != post.social_account_id:  # another account's queue is not its own
                await session.execute(delete(QueuedPost).where(QueuedPost.post_id == post_id))
            post.social_account_id = account_id
        _apply_fields(post, data)
        if "late_publish_minutes" in fields:
            post.late_publish_minutes = data.late_publish_minutes
        if data.scheduled_time is not None:
            post.scheduled_time = resolve_schedule(data.scheduled_time, user_timezone)
        _apply_status(post, data)
        if data.media_ids is not None:
            await self._attach_media(session, user_id, post, data.media_ids)
        await session.flush()
        await self._checked(session, post, creator, data.media_ids, data.allow_duplicate)
        if data.scheduled_time is not None or not was_scheduled:
            await self._announce(session, post.status, post.scheduled_time)
        return post

    async def _checked(
        self,
        session: AsyncSession,
        post: Post,
        creator: CreatorLookup | None,
        media_ids: list[str] | None,
        allow_duplicate: bool | None,
    ) -> None:
        """Pre-flight, then the duplicate guard, for a post that will go out when due."""
        going_out = post.status in GOING_OUT
        await self._validate(session, post, creator, enforce=going_out)
        if going_out and not allow_duplicate:
            facts = {
                "user_id": post.user_id,
                "social_account_id": post.social_account_id,
                "content": post.content,
                "scheduled_time": post.scheduled_time,
            }
            await duplicates.refuse_duplicate(
                session, facts, media_ids, self.duplicate_window, post_id=post.id
            )

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

    async def publish_now(self, session: AsyncSession, user_id: int, post_id: int) -> None:
        """Make a draft, scheduled, paused, missed or cancelled post due at once. The
        dispatcher publishes it like any other due post, so there is no second path that
        could post twice; a post already on its way is left as it is."""
        status, account_id = await status_and_account(session, user_id, post_id)
        if status == PostStatus.publishing:
            return
        if status in (PostStatus.failed, PostStatus.unconfirmed):
            raise Conflict(f"Post is {status}; POST /posts/{post_id}/retry queues it again")
        if status == PostStatus.published:
            raise Conflict("Post is already published")
        if account_id is None:
            raise Unprocessable(
                field_error(
                    "social_account_id", "connect a TikTok account to the post before publishing it"
                )
            )
        now = utc_now()
        if not await make_due_now(session, post_id, user_id, now):
            raise Conflict("Post changed while being queued; try again")
        await self._wake(session, now)
        state_changed(post_id, status, PostStatus.scheduled, "publish_now")

    async def retry(self, session: AsyncSession, user_id: int, post_id: int) -> None:
        """Queue a failed post again. An `unconfirmed` one is checked with the platform again
        instead of being posted a second time."""
        status, _ = await status_and_account(session, user_id, post_id)
        now = utc_now()
        target = await requeue(session, post_id, user_id, now)
        if target is None:
            raise Conflict(
                f"Post is {status}; only failed, missed or unconfirmed posts can be retried"
            )
        await self._wake(session, now)
        state_changed(post_id, status, str(target), "retry_requested")

    async def _wake(self, session: AsyncSession, due: datetime) -> None:
        if self.due_signal is not None:
            await self.due_signal.post_due(session, due)

    async def _announce(self, session: AsyncSession, status: str, due_at: datetime) -> None:
        if status == PostStatus.scheduled:
            await self._wake(session, due_at)

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
        """Store the pre-flight report; a post that will go out but cannot as it stands
        (no media, no account, or TikTok would refuse it) → 422 with every reason."""
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
            raise Unprocessable(field_error("social_account_id", "no such connected account"))
        return account_id

    async def _attach_media(
        self, session: AsyncSession, user_id: int, post: Post, media_ids: list[str]
    ) -> None:
        await lock_media(session, user_id, media_ids)
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


def _apply_status(post: Post, data: PostUpdate) -> None:
    """The status an edit leaves: `draft` asks for it; a new time puts a scheduled or
    missed post back in the queue; a paused post stays paused until it is resumed."""
    if data.draft is True:
        post.status = PostStatus.draft
    elif data.draft is False or (
        post.status in (PostStatus.scheduled, PostStatus.missed) and data.scheduled_time is not None
    ):
        post.status = PostStatus.scheduled
    if post.status == PostStatus.scheduled or (
        post.status == PostStatus.paused and data.scheduled_time is not None
    ):
        _ensure_future(post.scheduled_time)
    if post.status in GOING_OUT and data.scheduled_time is not None:
        post.next_attempt_at = None


def _ensure_future(scheduled_time: datetime) -> None:
    if scheduled_time <= utc_now():
        raise Unprocessable(
            field_error("scheduled_time", "must be in the future (or save the post as a draft)")
        )
