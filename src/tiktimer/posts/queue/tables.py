"""The queue's tables and the conditions that every part of the queue agrees on."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from typing import cast as cast_type

from sqlalchemy import ColumnElement, FromClause, Table, and_, or_, select

from tiktimer.kit.time import ensure_utc
from tiktimer.models import PostAttempt, PostStatus, SocialAccount, WorkerHeartbeat
from tiktimer.models.post import Post


def cast_table(table: FromClause) -> Table:
    """Declarative `__table__` is typed as a FromClause; these are all plain tables."""
    return cast_type(Table, table)


posts = cast_table(Post.__table__)
attempts = cast_table(PostAttempt.__table__)
heartbeats = cast_table(WorkerHeartbeat.__table__)
accounts = cast_table(SocialAccount.__table__)


def is_due(now: datetime) -> ColumnElement[bool]:
    """Scheduled, its time (and retry time) come, and its account not paused."""
    return and_(
        posts.c.status == PostStatus.scheduled,
        posts.c.scheduled_time <= now,
        or_(posts.c.next_attempt_at.is_(None), posts.c.next_attempt_at <= now),
        account_not_paused(),
    )


def account_not_paused() -> ColumnElement[bool]:
    """A paused account's posts wait (nothing is lost: they stay `scheduled`)."""
    paused = select(accounts.c.id).where(accounts.c.paused_at.is_not(None))
    return or_(posts.c.social_account_id.is_(None), posts.c.social_account_id.not_in(paused))


def lease_expired(now: datetime) -> ColumnElement[bool]:
    return and_(posts.c.status == PostStatus.publishing, posts.c.lease_expires_at <= now)


def held_by(post_id: int, worker_id: str) -> ColumnElement[bool]:
    return and_(
        posts.c.id == post_id,
        posts.c.status == PostStatus.publishing,
        posts.c.claimed_by == worker_id,
    )


def aware(value: datetime | None) -> Any:
    return None if value is None else ensure_utc(value)
