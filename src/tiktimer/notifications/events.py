"""Recording an event beside the change it reports, in the same transaction.

Callers own the transaction: these functions execute and never commit. A post event reads
its owner, account and error from the post row in the one `INSERT … SELECT`, so the guarded
write that changed the post and its event commit or roll back together.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import ColumnElement, Insert, Table, func, insert, literal, select

from tiktimer.db.guarded import Executor
from tiktimer.kit.time import utc_now
from tiktimer.models import NotificationEvent, Post, SocialAccount


class EventType(StrEnum):
    post_published = "post.published"
    post_failed = "post.failed"
    post_missed = "post.missed"
    post_unconfirmed = "post.unconfirmed"
    account_reconnect = "account.reconnect_needed"


#: What an endpoint may subscribe to; a "test" event is sent only by "send test".
SUBSCRIBABLE = tuple(str(kind) for kind in EventType)
TEST = "test"
DETAIL_MAX = 1000

events = cast(Table, NotificationEvent.__table__)
_COLUMNS = ("user_id", "type", "post_id", "account_id", "detail", "routed", "created_at")


def post_event_from(
    source: Any, kind: EventType, now: datetime | ColumnElement[Any], *where: ColumnElement[bool]
) -> Insert:
    """`INSERT INTO notification_events SELECT …` from rows with a post's `id`, `user_id`,
    `social_account_id` and `last_error` (the posts table, or a CTE returning them); `now`
    may be a bound parameter of a prebuilt statement."""
    at = now if isinstance(now, ColumnElement) else literal(now, events.c.created_at.type)
    rows = select(
        source.c.user_id,
        literal(str(kind)),
        source.c.id,
        source.c.social_account_id,
        func.substr(source.c.last_error, 1, DETAIL_MAX),
        literal(0),
        at,
    ).where(*where)
    return insert(events).from_select(list(_COLUMNS), rows)


async def record_post_event(
    executor: Executor, post_id: int, kind: EventType, *, now: datetime | None = None
) -> None:
    """The post `post_id` reached `kind` (published, failed, missed, unconfirmed)."""
    posts = cast(Table, Post.__table__)
    statement = post_event_from(posts, kind, now or utc_now(), posts.c.id == post_id)
    await executor.execute(statement)


async def record_account_event(
    executor: Executor, account_id: int, detail: str, *, now: datetime | None = None
) -> None:
    """The account needs its owner to reconnect it."""
    accounts = cast(Table, SocialAccount.__table__)
    rows = select(
        accounts.c.user_id,
        literal(str(EventType.account_reconnect)),
        literal(None, events.c.post_id.type),
        accounts.c.id,
        literal(detail[:DETAIL_MAX]),
        literal(0),
        literal(now or utc_now(), events.c.created_at.type),
    ).where(accounts.c.id == account_id)
    await executor.execute(insert(events).from_select(list(_COLUMNS), rows))
