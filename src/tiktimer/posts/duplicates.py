"""The duplicate guard: TikTok's spam checks punish the same video posted twice.

Scheduling the same media, in the same order, with the same caption to the same account
within the window of another post that is on its way or out (scheduled, paused,
publishing, published, unconfirmed) → 409, unless the request sets `allow_duplicate`.
Two concurrent requests for the same post take turns (`serialize_check`): the second
sees the first's post and is refused, instead of both passing the check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.db.dialect import serialize_check
from tiktimer.errors import Conflict
from tiktimer.models import Post, PostMedia, PostStatus

#: The posts a new one would repeat: those that will be, or were, published.
LIVE_STATES = (
    PostStatus.scheduled,
    PostStatus.paused,
    PostStatus.publishing,
    PostStatus.published,
    PostStatus.unconfirmed,
)
# serialize_check's lock class: the duplicate guard's keys.
_LOCK_CLASS = 0x7418


async def refuse_duplicate(
    session: AsyncSession,
    post: Mapping[str, Any],
    media_ids: Sequence[str] | None,
    window: timedelta,
    *,
    post_id: int | None = None,
) -> None:
    """409 naming the earlier post when `post` (its user_id, social_account_id, content and
    scheduled_time; `post_id` once it exists) repeats one within `window` (`media_ids`
    None: the stored post's media)."""
    account_id, at = post.get("social_account_id"), post["scheduled_time"]
    if account_id is None or window <= timedelta(0):
        return
    if media_ids is None and post_id is not None:
        media_ids = await _stored_media(session, post_id)
    if not media_ids:
        return
    content = post.get("content", "")
    await serialize_check(session, _LOCK_CLASS, f"{account_id}|{','.join(media_ids)}|{content}")
    candidates = select(Post.id).where(
        Post.user_id == post["user_id"],
        Post.social_account_id == account_id,
        Post.content == content,
        Post.id != (post_id or 0),
        Post.status.in_(LIVE_STATES),
        Post.scheduled_time > at - window,
        Post.scheduled_time < at + window,
    )
    rows = await session.execute(
        select(PostMedia.post_id, PostMedia.media_id)
        .where(PostMedia.post_id.in_(candidates))
        .order_by(PostMedia.post_id, PostMedia.position)
    )
    media_of: dict[int, list[str]] = {}
    for post_id, media_id in rows:
        media_of.setdefault(post_id, []).append(media_id)
    for other, media in sorted(media_of.items()):
        if media == list(media_ids):
            raise Conflict(
                f"Post {other} already sends this media with this caption to this account "
                f"within {_hours(window)} of this one; TikTok's spam checks punish repeats. "
                "Send allow_duplicate: true if you mean it."
            )


async def _stored_media(session: AsyncSession, post_id: int) -> list[str]:
    statement = (
        select(PostMedia.media_id).where(PostMedia.post_id == post_id).order_by(PostMedia.position)
    )
    return list((await session.scalars(statement)).all())


def _hours(window: timedelta) -> str:
    hours = window.total_seconds() / 3600
    return f"{hours:g} hour" + ("" if hours == 1 else "s")
