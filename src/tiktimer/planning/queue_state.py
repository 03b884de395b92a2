"""What an account's queue holds right now: its slots, its movable posts, the taken times.

A queued post is *movable* while it is `scheduled` and still ahead: a re-flow may give it
another slot. Everything else on the account (a post publishing, published or awaiting
TikTok, a post scheduled by hand) keeps its time, and its time is a slot nobody else gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.db.dialect import insert_for, row_lock
from tiktimer.errors import NotFound
from tiktimer.kit.time import utc_now
from tiktimer.models import Post, PostingQueue, PostStatus, QueuedPost, SocialAccount
from tiktimer.planning.wallclock import slot_times, zone

# Posts whose time holds a slot (drafts and cancelled posts hold none).
HOLDS_A_SLOT = (
    PostStatus.scheduled,
    PostStatus.publishing,
    PostStatus.published,
    PostStatus.unconfirmed,
)
SLOT_DAYS = 366  # how far ahead slots are looked for


@dataclass
class QueueState:
    account_id: int
    tz: ZoneInfo
    timezone_setting: str | None
    slots: list[tuple[int, int]]
    movable: list[tuple[int, datetime]]  # (post id, time), in queue order
    taken: set[datetime]  # times of the account's posts that keep them

    def free_slots(self, now: datetime, count: int, *, ignore_movable: bool) -> list[datetime]:
        """The next `count` slot times after `now` that no fixed post (nor, unless
        `ignore_movable`, any movable one) holds."""
        blocked = set(self.taken)
        if not ignore_movable:
            blocked |= {at for _, at in self.movable}
        found: list[datetime] = []
        limit = count + len(blocked) + 1
        for instant in slot_times(self.slots, self.tz, now, limit, SLOT_DAYS):
            if instant not in blocked:
                found.append(instant)
                if len(found) == count:
                    break
        return found


async def owned_account(session: AsyncSession, user_id: int, account_id: int) -> None:
    found = await session.scalar(
        select(SocialAccount.id).where(
            SocialAccount.id == account_id, SocialAccount.user_id == user_id
        )
    )
    if found is None:
        raise NotFound("Account not found")


async def lock_queue(session: AsyncSession, account_id: int) -> PostingQueue:
    """The account's queue row, created if missing and held until the transaction ends:
    queue changes on one account take turns (a row lock; SQLite's single writer). Two
    first changes at once both insert; ON CONFLICT lets the second wait for the first."""
    await session.execute(
        insert_for(session, PostingQueue.__table__)
        .values(account_id=account_id, slots=[], updated_at=utc_now())
        .on_conflict_do_nothing(index_elements=["account_id"])
    )
    statement = row_lock(
        select(PostingQueue)
        .where(PostingQueue.account_id == account_id)
        .execution_options(populate_existing=True)
    )
    queue: PostingQueue = (await session.scalars(statement)).one()
    return queue


async def load_state(
    session: AsyncSession, queue: PostingQueue | None, account_id: int, user_tz: str, now: datetime
) -> QueueState:
    timezone_setting = queue.timezone if queue is not None else None
    slots = [(int(day), int(minute)) for day, minute in (queue.slots if queue else [])]
    rows = (
        await session.execute(
            select(Post.id, Post.status, Post.scheduled_time, QueuedPost.post_id)
            .outerjoin(QueuedPost, QueuedPost.post_id == Post.id)
            .where(
                Post.social_account_id == account_id,
                Post.status.in_(HOLDS_A_SLOT),
                Post.scheduled_time > now - timedelta(hours=1),
            )
            .order_by(Post.scheduled_time, QueuedPost.queued_at, Post.id)
        )
    ).all()
    movable = [
        (post_id, at)
        for post_id, status, at, queued in rows
        if queued is not None and status == PostStatus.scheduled and at > now
    ]
    moving = {post_id for post_id, _ in movable}
    taken = {at for post_id, _, at, _ in rows if post_id not in moving}
    return QueueState(
        account_id=account_id,
        tz=zone(timezone_setting or user_tz),
        timezone_setting=timezone_setting,
        slots=slots,
        movable=movable,
        taken=taken,
    )


async def upcoming_posts(
    session: AsyncSession, account_id: int, start: datetime, end: datetime
) -> list[tuple[Post, bool]]:
    """The account's posts between `start` and `end` (drafts and cancelled ones left out),
    each with whether it sits in the queue."""
    rows = (
        await session.execute(
            select(Post, QueuedPost.post_id)
            .outerjoin(QueuedPost, QueuedPost.post_id == Post.id)
            .where(
                Post.social_account_id == account_id,
                Post.status.in_((*HOLDS_A_SLOT, PostStatus.failed)),
                Post.scheduled_time >= start,
                Post.scheduled_time <= end,
            )
            .order_by(Post.scheduled_time, Post.id)
        )
    ).all()
    return [(post, queued is not None) for post, queued in rows]
