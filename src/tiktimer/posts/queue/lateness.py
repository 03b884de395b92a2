"""The late-publish policy: a post found due too long ago is `missed`, never hours late.

Each post carries its window (`late_publish_minutes`, None: however late). When a claim
finds a post due longer ago than that (the service was down, the queue was behind, its
account was paused), the post is not published: it becomes `missed` with the reason, and
its timeline (`GET /posts/{id}/attempts`) shows a `missed` entry. Lateness counts from
when the post last became due: its scheduled time, or a retry's `next_attempt_at`. A post
the platform may already hold (a publish id, or past the claim) is never missed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tiktimer.models import PostStatus
from tiktimer.notifications.events import EventType, record_post_event
from tiktimer.posts.queue.records import AttemptOutcome
from tiktimer.posts.queue.tables import attempts, aware, posts
from tiktimer.posts.transitions import released

MISSED_CODE = "missed"


def due_since(row: Any) -> datetime:
    """When the post last became due."""
    scheduled: datetime = aware(row.scheduled_time)
    retry_at = aware(row.next_attempt_at)
    return max(scheduled, retry_at) if retry_at is not None else scheduled


def too_late(row: Any, now: datetime) -> bool:
    if row.late_publish_minutes is None or row.platform_publish_id is not None:
        return False
    if row.publish_stage is not None:
        return False
    return now - due_since(row) > timedelta(minutes=row.late_publish_minutes)


def reason(row: Any, now: datetime) -> str:
    late = int((now - due_since(row)).total_seconds() // 60)
    return (
        f"Not published: it was due {late} minutes ago, past its late-publish window of "
        f"{row.late_publish_minutes} minutes (the service was down, the queue was behind or "
        "the account was paused). Reschedule it, or publish it now."
    )


def split_late(rows: Sequence[Any], now: datetime) -> tuple[list[Any], list[Any]]:
    """(still on time, too late) among freshly due rows."""
    late = [row for row in rows if too_late(row, now)]
    late_ids = {row.id for row in late}
    return [row for row in rows if row.id not in late_ids], late


async def mark_missed(connection: AsyncConnection, rows: Sequence[Any], now: datetime) -> None:
    """In the claim's transaction, which holds these rows: `missed`, with the reason, a
    timeline entry and a `post.missed` notification for its owner."""
    for row in rows:
        message = reason(row, now)
        changed = await connection.execute(
            update(posts)
            .where(posts.c.id == row.id, posts.c.status == PostStatus.scheduled)
            .values(
                status=PostStatus.missed,
                last_error=message,
                last_error_code=MISSED_CODE,
                next_attempt_at=None,
                **released(now),
            )
        )
        if changed.rowcount != 1:
            continue  # the user changed it meanwhile: nothing was missed
        await record_post_event(connection, row.id, EventType.post_missed, now=now)
        await connection.execute(
            insert(attempts).values(
                post_id=row.id,
                number=row.attempt_count + 1,
                started_at=now,
                finished_at=now,
                outcome=AttemptOutcome.missed,
                error_code=MISSED_CODE,
                error_message=message,
                request_ids=[],
            )
        )
