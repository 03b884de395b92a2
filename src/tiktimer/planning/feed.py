"""A user's private calendar feed: a random token in the URL, only its SHA-256 stored.

Creating a feed URL replaces the previous one (the old URL stops working); revoking
deletes it. The token travels as the `token` query parameter, which the access log
redacts (`browser.logs`), so it never lands in a log line.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.kit.crypto import sha256_hex
from tiktimer.models import CalendarFeed, Post, PostStatus, User
from tiktimer.planning.ical import Event, calendar

FEED_PATH = "/api/v1/calendar/feed.ics"
MAX_EVENTS = 2000
_STATUS = {
    PostStatus.scheduled: "CONFIRMED",
    PostStatus.publishing: "CONFIRMED",
    PostStatus.published: "CONFIRMED",
    PostStatus.unconfirmed: "TENTATIVE",
    PostStatus.failed: "CANCELLED",
}


def feed_url(base_url: str, token: str) -> str:
    return f"{base_url}{FEED_PATH}?{urlencode({'token': token})}"


async def create(session: AsyncSession, user_id: int, now: datetime) -> str:
    """A new token for the user (any earlier one stops working); returned once."""
    token = secrets.token_urlsafe(32)
    await session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == user_id))
    session.add(CalendarFeed(user_id=user_id, token_hash=sha256_hex(token), created_at=now))
    await session.flush()
    return token


async def revoke(session: AsyncSession, user_id: int) -> bool:
    result = await session.execute(
        delete(CalendarFeed).where(CalendarFeed.user_id == user_id).returning(CalendarFeed.user_id)
    )
    return result.first() is not None


async def created_at(session: AsyncSession, user_id: int) -> datetime | None:
    return await session.scalar(
        select(CalendarFeed.created_at).where(CalendarFeed.user_id == user_id)
    )


async def owner_of(session: AsyncSession, token: str) -> User | None:
    """The active user a token belongs to (a lookup by hash: the index does the compare)."""
    if not token or len(token) > 128:
        return None
    return await session.scalar(
        select(User)
        .join(CalendarFeed, CalendarFeed.user_id == User.id)
        .where(CalendarFeed.token_hash == sha256_hex(token), User.is_active.is_(True))
    )


async def render_feed(
    session: AsyncSession,
    user: User,
    *,
    base_url: str,
    now: datetime,
    past_days: int,
    ahead_days: int,
) -> str:
    """The user's posts from `past_days` ago to `ahead_days` ahead (drafts and cancelled
    posts left out) as an iCalendar document."""
    rows = await session.scalars(
        select(Post)
        .where(
            Post.user_id == user.id,
            Post.status.in_(tuple(_STATUS)),
            Post.scheduled_time >= now - timedelta(days=past_days),
            Post.scheduled_time <= now + timedelta(days=ahead_days),
        )
        .order_by(Post.scheduled_time, Post.id)
        .limit(MAX_EVENTS)
    )
    host = base_url.split("://", 1)[-1]
    events = [_event(post, base_url, host) for post in rows]
    return calendar(f"TikTimer: {user.username}", events, now)


def _event(post: Post, base_url: str, host: str) -> Event:
    caption = " ".join(post.content.split()) or "(no caption)"
    summary = f"{post.status.capitalize()}: {caption[:60]}"
    details = [caption, f"Status: {post.status}"]
    if post.last_error and post.status == PostStatus.failed:
        details.append(f"Why: {post.last_error}")
    return Event(
        uid=f"post-{post.id}@{host}",
        start=post.scheduled_time,
        minutes=15,
        summary=summary,
        description="\n".join(details),
        url=f"{base_url}/app/posts/{post.id}",
        status=_STATUS.get(PostStatus(post.status), "CONFIRMED"),
    )
