"""Pausing: a post, or every post of an account, waits until its owner resumes it.

A paused post is `paused`: the claim never sees it. A paused account keeps its posts
`scheduled` and the claim skips them (`queue.tables.account_not_paused`), so nothing is
lost and nothing else changes. Resuming puts them back by the late-publish policy
(`queue.lateness`): those still within their window go out now, in time order; those due
longer ago become `missed` at once, with the reason, as a late claim would mark them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.errors import Conflict, NotFound
from tiktimer.models import PostStatus, SocialAccount
from tiktimer.posts.queue.lateness import mark_missed, split_late
from tiktimer.posts.queue.tables import accounts, posts
from tiktimer.posts.transitions import UNSTARTED, released, status_of, transition

PAUSABLE = (PostStatus.scheduled, UNSTARTED)


async def pause_post(session: AsyncSession, user_id: int, post_id: int, now: datetime) -> None:
    """A scheduled post (or one claimed but not started) waits; others → 409."""
    if not await transition(
        session, post_id, PAUSABLE, PostStatus.paused, owner=user_id, **released(now)
    ):
        raise await _refused(session, user_id, post_id, "paused")


async def resume_post(session: AsyncSession, user_id: int, post_id: int, now: datetime) -> None:
    """Back to `scheduled`, or `missed` when it was due longer ago than its window."""
    if not await transition(
        session, post_id, (PostStatus.paused,), PostStatus.scheduled, owner=user_id, updated_at=now
    ):
        raise await _refused(session, user_id, post_id, "resumed")
    await _apply_late_policy(session, now, posts.c.id == post_id)


async def set_account_paused(
    session: AsyncSession, user_id: int, account_id: int, now: datetime, *, paused: bool
) -> SocialAccount:
    """Pause or resume the owner's account (404 for another's); resuming applies the
    late-publish policy to its posts that came due meanwhile."""
    owned = (SocialAccount.id == account_id, SocialAccount.user_id == user_id)
    if await session.scalar(select(SocialAccount.id).where(*owned)) is None:
        raise NotFound("Account not found")
    await session.execute(
        update(accounts)
        .where(accounts.c.id == account_id)
        .values(paused_at=now if paused else None, updated_at=now)
    )
    if not paused:
        await _apply_late_policy(session, now, posts.c.social_account_id == account_id)
    account = await session.scalar(
        select(SocialAccount).where(*owned).execution_options(populate_existing=True)
    )
    assert account is not None
    return account


async def set_paused_by_operator(
    session: AsyncSession, account_id: int, now: datetime, *, paused: bool
) -> SocialAccount:
    """`tiktimer accounts pause|resume`: the same change, for whoever owns the account."""
    owner = await session.scalar(
        select(SocialAccount.user_id).where(SocialAccount.id == account_id)
    )
    if owner is None:
        raise NotFound("Account not found")
    return await set_account_paused(session, owner, account_id, now, paused=paused)


async def _apply_late_policy(
    session: AsyncSession, now: datetime, which: ColumnElement[bool]
) -> None:
    """Mark the due posts among `which` that are past their window `missed`."""
    due = (
        await session.execute(
            select(
                posts.c.id,
                posts.c.scheduled_time,
                posts.c.next_attempt_at,
                posts.c.late_publish_minutes,
                posts.c.platform_publish_id,
                posts.c.publish_stage,
                posts.c.attempt_count,
            ).where(which, posts.c.status == PostStatus.scheduled, posts.c.scheduled_time <= now)
        )
    ).all()
    _, late = split_late(due, now)
    await mark_missed(await session.connection(), late, now)


async def _refused(
    session: AsyncSession, user_id: int, post_id: int, verb: str
) -> NotFound | Conflict:
    status = await status_of(session, post_id, owner=user_id)
    if status is None:
        return NotFound("Post not found")
    return Conflict(f"Post is {status} and cannot be {verb}")
