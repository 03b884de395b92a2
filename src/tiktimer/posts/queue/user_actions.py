"""What a user asks of the queue: publish now, retry, take back an unstarted claim.

They run in the request's session, so they commit with it, and go through the posts'
guarded transitions, so a race with a claiming worker has one winner.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.models import PostStatus
from tiktimer.posts.queue.records import Stage
from tiktimer.posts.queue.tables import posts
from tiktimer.posts.transitions import released as _released
from tiktimer.posts.transitions import transition


async def make_due_now(session: AsyncSession, post_id: int, user_id: int, now: datetime) -> bool:
    """Publish now: a draft, scheduled, paused, missed or cancelled post is due at once."""
    return await transition(
        session,
        post_id,
        (
            PostStatus.draft,
            PostStatus.scheduled,
            PostStatus.paused,
            PostStatus.missed,
            PostStatus.cancelled,
        ),
        PostStatus.scheduled,
        owner=user_id,
        scheduled_time=now,
        next_attempt_at=None,
        updated_at=now,
    )


async def requeue(session: AsyncSession, post_id: int, user_id: int, now: datetime) -> str | None:
    """POST /posts/{id}/retry. A `failed` post is due again with a fresh attempt budget;
    an `unconfirmed` one is not posted again: its publication is checked again (the
    platform may have published it after all). Returns the new status, or None."""
    if await transition(
        session,
        post_id,
        (PostStatus.unconfirmed,),
        PostStatus.publishing,
        owner=user_id,
        where=(posts.c.platform_publish_id.is_not(None),),
        publish_stage=Stage.confirming,
        publish_stage_at=now,
        claimed_by=None,
        lease_expires_at=now,
        updated_at=now,
    ):
        return PostStatus.publishing
    again = await transition(
        session,
        post_id,
        (PostStatus.failed, PostStatus.missed, PostStatus.unconfirmed),
        PostStatus.scheduled,
        owner=user_id,
        attempt_count=0,
        next_attempt_at=now,
        platform_publish_id=None,
        platform_status=None,
        platform_fail_reason=None,
        **_released(now),
    )
    return PostStatus.scheduled if again else None
