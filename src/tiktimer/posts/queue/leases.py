"""The dispatcher's side of the queue: claim due posts with leases, renew, release.

The worker heartbeats live here too: they say which worker holds which leases, and the
dispatcher that renews the leases writes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tiktimer.db.dialect import claim_lock, insert_for
from tiktimer.models import PostStatus
from tiktimer.posts.queue.database import QueueDatabase
from tiktimer.posts.queue.lateness import mark_missed, split_late
from tiktimer.posts.queue.records import AttemptOutcome, Claim, Stage
from tiktimer.posts.queue.steps import PostSteps
from tiktimer.posts.queue.tables import (
    accounts,
    attempts,
    aware,
    heartbeats,
    is_due,
    lease_expired,
    posts,
)
from tiktimer.posts.transitions import released as _released


class PostQueue(QueueDatabase):
    """The scheduler's door to the queue (procrastinate's `JobManager`, for posts): the
    dispatcher's claims here, one post's writes in `steps`."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self.steps = PostSteps(self)

    # -- claiming ----------------------------------------------------------------------

    async def claim(
        self, worker_id: str, limit: int, now: datetime, lease: timedelta
    ) -> list[Claim]:
        """Claim up to `limit` posts: due posts first (being on time is the promise), then
        expired leases and due status checks, which always get a quarter of the batch so a
        flood of due posts cannot hold up recoveries and verdicts indefinitely."""
        async with self.transaction() as connection:
            expired_order = posts.c.lease_expires_at
            stale = await self._pick(
                connection, lease_expired(now), expired_order, max(1, limit // 4)
            )
            due, late = split_late(
                await self._pick(
                    connection, is_due(now), posts.c.scheduled_time, limit - len(stale)
                ),
                now,
            )
            await mark_missed(connection, late, now)
            if len(stale) + len(due) < limit and len(stale) == max(1, limit // 4):
                taken = [row.id for row in stale]
                stale += await self._pick(
                    connection,
                    and_(lease_expired(now), posts.c.id.not_in(taken)),
                    expired_order,
                    limit - len(stale) - len(due),
                )
            rows = [*due, *stale]
            if not rows:
                return []
            await connection.execute(
                update(posts)
                .where(posts.c.id.in_([row.id for row in rows]))
                .values(
                    status=PostStatus.publishing,
                    claimed_by=worker_id,
                    lease_expires_at=now + lease,
                    publish_stage=case(
                        (posts.c.publish_stage.is_(None), Stage.claimed),
                        else_=posts.c.publish_stage,
                    ),
                    publish_stage_at=case(
                        (posts.c.publish_stage.is_(None), now), else_=posts.c.publish_stage_at
                    ),
                    updated_at=now,
                )
            )
        fresh_ids = {row.id for row in due}
        return [_claim(row, fresh=row.id in fresh_ids) for row in rows]

    async def _pick(
        self,
        connection: AsyncConnection,
        condition: ColumnElement[bool],
        order: Any,
        limit: int,
    ) -> list[Any]:
        query = (
            select(*_claim_columns())
            .select_from(posts.outerjoin(accounts, accounts.c.id == posts.c.social_account_id))
            .where(condition)
            .order_by(order)
            .limit(limit)
        )
        return list((await connection.execute(claim_lock(query, of=posts))).all())

    async def next_due(self, now: datetime) -> datetime | None:
        """The earliest future scheduled time or status check (retries are found by polling)."""
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(
                        select(func.min(posts.c.scheduled_time))
                        .where(
                            posts.c.status == PostStatus.scheduled,
                            posts.c.scheduled_time > now,
                        )
                        .scalar_subquery(),
                        select(func.min(posts.c.lease_expires_at))
                        .where(
                            posts.c.status == PostStatus.publishing,
                            posts.c.lease_expires_at > now,
                            posts.c.claimed_by.is_(None),
                        )
                        .scalar_subquery(),
                    )
                )
            ).one()
        times = [aware(value) for value in row if value is not None]
        return min(times) if times else None

    async def renew(self, worker_id: str, until: datetime) -> set[int]:
        """Extend every lease this worker holds; returns the posts it still holds."""
        async with self.transaction() as connection:
            result = await connection.execute(
                update(posts)
                .where(posts.c.status == PostStatus.publishing, posts.c.claimed_by == worker_id)
                .values(lease_expires_at=until)
                .returning(posts.c.id)
            )
            return {row[0] for row in result}

    # -- shutdown ----------------------------------------------------------------------

    async def release(self, worker_id: str, post_ids: Sequence[int], now: datetime) -> list[int]:
        """Give back claims on shutdown: unstarted posts to `scheduled`, uploads to recovery.

        A post whose publish id is stored is never reset: it stays `publishing` with an
        expired lease, so the next worker reconciles it by polling instead of posting again.
        """
        if not post_ids:
            return []
        held = and_(
            posts.c.id.in_(list(post_ids)),
            posts.c.status == PostStatus.publishing,
            posts.c.claimed_by == worker_id,
        )
        async with self.transaction() as connection:
            reset = [
                row[0]
                for row in await connection.execute(
                    update(posts)
                    .where(held, posts.c.platform_publish_id.is_(None))
                    .values(status=PostStatus.scheduled, **_released(now))
                    .returning(posts.c.id)
                )
            ]
            if reset:
                await connection.execute(
                    update(attempts)
                    .where(
                        attempts.c.post_id.in_(reset),
                        attempts.c.outcome == AttemptOutcome.running,
                    )
                    .values(
                        outcome=AttemptOutcome.interrupted,
                        finished_at=now,
                        error_message=f"worker {worker_id} shut down before the platform "
                        "returned a publish id; the post was put back in the queue",
                    )
                )
            await connection.execute(
                update(posts)
                .where(held, posts.c.platform_publish_id.is_not(None))
                .values(claimed_by=None, lease_expires_at=now, updated_at=now)
            )
        return reset

    # -- worker heartbeats -------------------------------------------------------------

    async def heartbeat(
        self,
        worker_id: str,
        *,
        hostname: str,
        pid: int,
        concurrency: int,
        in_flight: int,
        now: datetime,
        started_at: datetime,
    ) -> None:
        values = {
            "worker_id": worker_id,
            "hostname": hostname,
            "pid": pid,
            "concurrency": concurrency,
            "in_flight": in_flight,
            "started_at": started_at,
            "last_seen_at": now,
        }
        statement = insert_for(self.engine, heartbeats).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[heartbeats.c.worker_id],
            set_={"in_flight": in_flight, "last_seen_at": now},
        )
        async with self.transaction() as connection:
            await connection.execute(statement)

    async def forget_worker(self, worker_id: str) -> None:
        async with self.transaction() as connection:
            await connection.execute(delete(heartbeats).where(heartbeats.c.worker_id == worker_id))

    async def prune_workers(self, older_than: datetime) -> None:
        async with self.transaction() as connection:
            await connection.execute(
                delete(heartbeats).where(heartbeats.c.last_seen_at < older_than)
            )


def _claim_columns() -> tuple[Any, ...]:
    running = (
        select(attempts.c.id)
        .where(attempts.c.post_id == posts.c.id, attempts.c.outcome == AttemptOutcome.running)
        .order_by(attempts.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        posts.c.id,
        posts.c.user_id,
        posts.c.social_account_id,
        posts.c.attempt_count,
        posts.c.platform_publish_id,
        posts.c.publish_stage,
        posts.c.publish_stage_at,
        posts.c.scheduled_time,
        posts.c.next_attempt_at,
        posts.c.late_publish_minutes,
        posts.c.claimed_by,
        posts.c.last_error,
        accounts.c.status.label("account_status"),
        accounts.c.status_reason.label("account_reason"),
        running.label("running_attempt_id"),
        posts.c.post_mode,
        func.coalesce(accounts.c.platform, posts.c.platform).label("platform"),
    )


def _claim(row: Any, *, fresh: bool) -> Claim:
    return Claim(
        post_id=row.id,
        user_id=row.user_id,
        account_id=row.social_account_id,
        attempt_count=row.attempt_count,
        publish_id=row.platform_publish_id,
        stage=Stage(row.publish_stage) if row.publish_stage else Stage.claimed,
        stage_at=aware(row.publish_stage_at),
        scheduled_time=aware(row.scheduled_time),
        previous_worker=row.claimed_by,
        fresh=fresh,
        last_error=row.last_error,
        account_status=row.account_status,
        account_reason=row.account_reason,
        running_attempt_id=row.running_attempt_id,
        post_mode=row.post_mode,
        platform=row.platform,
    )
