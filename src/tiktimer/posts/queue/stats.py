"""The queue's numbers for GET /health: due and unclaimed, the oldest lag, recoveries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tiktimer.models import PostStatus
from tiktimer.posts.queue.tables import aware, heartbeats, is_due, lease_expired, posts


@dataclass(frozen=True, slots=True)
class QueueStats:
    due_unclaimed: int
    oldest_due_lag_seconds: float
    publishing: int
    in_flight: int  # publishing and held by a worker right now
    awaiting_recovery: int  # held by a worker whose lease ran out (crashed or stalled)
    workers: list[dict[str, Any]]


async def queue_stats(engine: AsyncEngine, now: datetime) -> QueueStats:
    """Due-and-unclaimed posts, the oldest one's lag, and posts awaiting recovery."""
    due_at = case(
        (
            and_(
                posts.c.next_attempt_at.is_not(None),
                posts.c.next_attempt_at > posts.c.scheduled_time,
            ),
            posts.c.next_attempt_at,
        ),
        else_=posts.c.scheduled_time,
    )
    stale = and_(lease_expired(now), posts.c.claimed_by.is_not(None))
    async with engine.connect() as connection:
        due = (
            await connection.execute(select(func.count(), func.min(due_at)).where(is_due(now)))
        ).one()
        publishing = (
            await connection.execute(
                select(
                    func.count(),
                    func.count(posts.c.claimed_by),
                    func.sum(case((stale, 1), else_=0)),
                ).where(posts.c.status == PostStatus.publishing)
            )
        ).one()
        workers = (
            (await connection.execute(select(heartbeats).order_by(heartbeats.c.started_at)))
            .mappings()
            .all()
        )
    oldest = aware(due[1])
    return QueueStats(
        due_unclaimed=int(due[0]),
        oldest_due_lag_seconds=(
            round(max(0.0, (now - oldest).total_seconds()), 3) if oldest else 0.0
        ),
        publishing=int(publishing[0]),
        in_flight=int(publishing[1]),
        awaiting_recovery=int(publishing[2] or 0),
        workers=[dict(row) for row in workers],
    )
