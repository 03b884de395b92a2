"""Every statement the scheduler issues against the queue: the posts table and its attempts.

The posts table is the queue. A post is *due* when `status = 'scheduled'`, its
`scheduled_time` has come and its `next_attempt_at` (set by a retry) too. Claiming moves it
to `publishing` with a lease (`claimed_by`, `lease_expires_at`); every later write of the
claimant is guarded by `status = 'publishing' AND claimed_by = :worker`, so a worker that
lost its lease (expired, or the user cancelled a post it had not started) changes nothing.

A `publishing` post whose lease expired is claimable again. That covers a crashed worker
and, on purpose, the wait for TikTok's verdict: after the upload a worker releases its
claim and sets `lease_expires_at` to the time of the next status check, so polling and
crash recovery are the same path and no worker slot is held while TikTok processes.

PostgreSQL claims with `FOR UPDATE SKIP LOCKED`, so any number of workers share the work
without double claims. SQLite has one writer at a time: each write transaction starts
with `BEGIN IMMEDIATE`, which takes the write lock up front, so the read that picks the
rows and the update that claims them cannot interleave with another writer.
"""

from __future__ import annotations

import enum
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from typing import cast as cast_type

from sqlalchemy import (
    ColumnElement,
    FromClause,
    String,
    Table,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.types import JSON

from tiktimer.kit.time import ensure_utc
from tiktimer.models import PostAttempt, PostStatus, SocialAccount, WorkerHeartbeat
from tiktimer.models.post import Post
from tiktimer.publishing.base import OutcomeState, PublishOutcome
from tiktimer.publishing.outcomes import NOT_CONFIRMED_CODE, apply_outcome, mark_unconfirmed


def cast_table(table: FromClause) -> Table:
    """Declarative `__table__` is typed as a FromClause; these are all plain tables."""
    return cast_type(Table, table)


posts = cast_table(Post.__table__)
attempts = cast_table(PostAttempt.__table__)
heartbeats = cast_table(WorkerHeartbeat.__table__)
accounts = cast_table(SocialAccount.__table__)


class Stage(enum.StrEnum):
    """Where a `publishing` post stands (`posts.publish_stage`)."""

    claimed = "claimed"  # claimed, nothing sent to the platform: cancel/reschedule are safe
    initializing = "initializing"  # attempt recorded, validate + init in flight, no publish id
    uploading = "uploading"  # publish id stored, media upload in flight
    confirming = "confirming"  # upload done, waiting for the platform's verdict


class AttemptOutcome(enum.StrEnum):
    running = "running"
    published = "published"
    in_inbox = "in_inbox"
    failed = "failed"
    retry = "retry"  # failed, retried later with backoff
    reinitialize = "reinitialize"  # upload session dead, a new init follows
    interrupted = "interrupted"  # the worker stopped before the platform returned a publish id
    unconfirmed = "unconfirmed"  # the platform never gave a verdict in time


_ATTEMPT_OF_STATE = {
    OutcomeState.published: AttemptOutcome.published,
    OutcomeState.in_inbox: AttemptOutcome.in_inbox,
    OutcomeState.failed: AttemptOutcome.failed,
    OutcomeState.processing: AttemptOutcome.running,
}


@dataclass(frozen=True, slots=True)
class Claim:
    """A post this worker now holds, and what the previous holder had left behind."""

    post_id: int
    user_id: int
    account_id: int | None
    attempt_count: int
    publish_id: str | None
    stage: Stage  # the stage the post was in (claimed for a fresh claim)
    stage_at: datetime | None
    scheduled_time: datetime
    previous_worker: str | None  # set when a worker's lease expired under it
    fresh: bool  # claimed from `scheduled` (False: a reclaim or a status check)
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class QueueStats:
    due_unclaimed: int
    oldest_due_lag_seconds: float
    publishing: int
    in_flight: int  # publishing and held by a worker right now
    awaiting_recovery: int  # held by a worker whose lease ran out (crashed or stalled)
    workers: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Started:
    attempt_id: int
    number: int


_CLAIM_COLUMNS = (
    posts.c.id,
    posts.c.user_id,
    posts.c.social_account_id,
    posts.c.attempt_count,
    posts.c.platform_publish_id,
    posts.c.publish_stage,
    posts.c.publish_stage_at,
    posts.c.scheduled_time,
    posts.c.claimed_by,
    posts.c.last_error,
)


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        posts.c.status == PostStatus.scheduled,
        posts.c.scheduled_time <= now,
        or_(posts.c.next_attempt_at.is_(None), posts.c.next_attempt_at <= now),
    )


def _expired(now: datetime) -> ColumnElement[bool]:
    return and_(posts.c.status == PostStatus.publishing, posts.c.lease_expires_at <= now)


def _held_by(post_id: int, worker_id: str) -> ColumnElement[bool]:
    return and_(
        posts.c.id == post_id,
        posts.c.status == PostStatus.publishing,
        posts.c.claimed_by == worker_id,
    )


class PostQueue:
    """The scheduler's only door to the database (procrastinate's `JobManager`, for posts)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        # SQLite: driver-level autocommit, so this module owns BEGIN IMMEDIATE / COMMIT.
        self._sqlite_engine = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if self.dialect == "sqlite"
            else None
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A short write transaction; never held across a platform call."""
        if self._sqlite_engine is None:
            async with self.engine.begin() as connection:
                yield connection
            return
        async with self._sqlite_engine.connect() as connection:
            await connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                await connection.exec_driver_sql("ROLLBACK")
                raise
            await connection.exec_driver_sql("COMMIT")

    # -- claiming ----------------------------------------------------------------------

    async def claim(
        self, worker_id: str, limit: int, now: datetime, lease: timedelta
    ) -> list[Claim]:
        """Claim up to `limit` posts: expired leases and due checks first, then due posts."""
        async with self.transaction() as connection:
            stale = await self._pick(connection, _expired(now), posts.c.lease_expires_at, limit)
            due: list[Any] = []
            if len(stale) < limit:
                due = await self._pick(
                    connection, _due(now), posts.c.scheduled_time, limit - len(stale)
                )
            rows = [*stale, *due]
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
        query = select(*_CLAIM_COLUMNS).where(condition).order_by(order).limit(limit)
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return list((await connection.execute(query)).all())

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
        times = [_aware(value) for value in row if value is not None]
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

    # -- one post's steps --------------------------------------------------------------

    async def account_block(self, account_id: int | None) -> str | None:
        """Why posts of this account cannot go out now (None: they can)."""
        if account_id is None:
            return "The post has no connected TikTok account; connect one and retry."
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(accounts.c.status, accounts.c.status_reason).where(
                        accounts.c.id == account_id
                    )
                )
            ).first()
        if row is None:
            return "The post's TikTok account no longer exists; connect one and retry."
        if row.status == "reauth_required":
            return (
                "TikTok access for this account was revoked or expired; reconnect the account "
                f"and retry ({row.status_reason or 'reauthorization required'})."
            )
        if row.status == "disconnected":
            return "The post's TikTok account was disconnected; reconnect it and retry."
        return None

    async def start_attempt(
        self, claim: Claim, worker_id: str, now: datetime, *, interrupted: str
    ) -> Started | None:
        """Record an attempt before the platform is called; None when the claim was lost."""
        async with self.transaction() as connection:
            row = (
                await connection.execute(
                    update(posts)
                    .where(_held_by(claim.post_id, worker_id))
                    .values(
                        attempt_count=posts.c.attempt_count + 1,
                        publish_stage=Stage.initializing,
                        publish_stage_at=now,
                        platform_publish_id=None,
                        updated_at=now,
                    )
                    .returning(posts.c.attempt_count)
                )
            ).first()
            if row is None:
                return None
            # An attempt still running here belongs to a worker that stopped mid-way.
            await _close_running(
                connection, claim.post_id, now, AttemptOutcome.interrupted, interrupted
            )
            attempt_id = (
                await connection.execute(
                    insert(attempts)
                    .values(
                        post_id=claim.post_id,
                        number=row.attempt_count,
                        worker_id=worker_id,
                        started_at=now,
                        outcome=AttemptOutcome.running,
                        request_ids=[],
                    )
                    .returning(attempts.c.id)
                )
            ).scalar_one()
        return Started(attempt_id, row.attempt_count)

    async def running_attempt(self, post_id: int) -> int | None:
        """The attempt a reconciliation continues (the newest one still running)."""
        async with self.engine.connect() as connection:
            return (
                await connection.execute(
                    select(attempts.c.id)
                    .where(
                        attempts.c.post_id == post_id,
                        attempts.c.outcome == AttemptOutcome.running,
                    )
                    .order_by(attempts.c.id.desc())
                    .limit(1)
                )
            ).scalar()

    async def store_publish_id(
        self,
        post_id: int,
        attempt_id: int,
        worker_id: str,
        publish_id: str,
        log_id: str | None,
        now: datetime,
    ) -> bool:
        """Persist the platform's publish id at once; False when the claim was lost."""
        async with self.transaction() as connection:
            row = (
                await connection.execute(
                    update(posts)
                    .where(_held_by(post_id, worker_id))
                    .values(
                        platform_publish_id=publish_id,
                        publish_stage=Stage.uploading,
                        publish_stage_at=now,
                        platform_log_ids=self._append(posts.c.platform_log_ids, log_id),
                        updated_at=now,
                    )
                    .returning(posts.c.id)
                )
            ).first()
            if row is None:
                return False
            await connection.execute(
                update(attempts)
                .where(attempts.c.id == attempt_id)
                .values(
                    publish_id=publish_id,
                    request_ids=self._append(attempts.c.request_ids, log_id),
                )
            )
        return True

    async def await_verdict(
        self,
        post_id: int,
        worker_id: str,
        check_at: datetime,
        now: datetime,
        *,
        uploaded: bool,
        platform_status: str | None = None,
    ) -> bool:
        """Release the claim until the next status check (`uploaded` starts the clock)."""
        values: dict[str, Any] = {
            "claimed_by": None,
            "lease_expires_at": check_at,
            "updated_at": now,
        }
        if platform_status is not None:
            values["platform_status"] = platform_status
        if uploaded:
            values.update(publish_stage=Stage.confirming, publish_stage_at=now)
        async with self.transaction() as connection:
            row = (
                await connection.execute(
                    update(posts)
                    .where(_held_by(post_id, worker_id))
                    .values(**values)
                    .returning(posts.c.id)
                )
            ).first()
        return row is not None

    async def retry_later(
        self,
        post_id: int,
        worker_id: str,
        attempt_id: int | None,
        now: datetime,
        *,
        at: datetime,
        outcome: AttemptOutcome,
        code: str | None,
        message: str | None,
        log_id: str | None = None,
    ) -> bool:
        """Back to `scheduled`, due again at `at`; the publish id (if any) is abandoned."""
        async with self.transaction() as connection:
            row = (
                await connection.execute(
                    update(posts)
                    .where(_held_by(post_id, worker_id))
                    .values(
                        status=PostStatus.scheduled,
                        next_attempt_at=at,
                        platform_publish_id=None,
                        last_error=message,
                        last_error_code=code,
                        platform_log_ids=self._append(posts.c.platform_log_ids, log_id),
                        **_released(now),
                    )
                    .returning(posts.c.id)
                )
            ).first()
            if row is not None and attempt_id is not None:
                await self._finish_attempt(
                    connection, attempt_id, now, outcome, code, message, log_id
                )
        return row is not None

    async def defer(self, post_id: int, worker_id: str, at: datetime, now: datetime) -> bool:
        """Hand an unstarted claim back, due again at `at` (no attempt is used up)."""
        async with self.transaction() as connection:
            row = (
                await connection.execute(
                    update(posts)
                    .where(
                        _held_by(post_id, worker_id),
                        posts.c.platform_publish_id.is_(None),
                    )
                    .values(status=PostStatus.scheduled, next_attempt_at=at, **_released(now))
                    .returning(posts.c.id)
                )
            ).first()
        return row is not None

    async def fail(
        self,
        post_id: int,
        worker_id: str,
        attempt_id: int | None,
        now: datetime,
        *,
        code: str | None,
        message: str,
        log_id: str | None = None,
    ) -> bool:
        """The post failed for good, with a message for its owner."""
        async with self.transaction() as connection:
            row = (
                await connection.execute(
                    update(posts)
                    .where(_held_by(post_id, worker_id))
                    .values(
                        status=PostStatus.failed,
                        last_error=message,
                        last_error_code=code,
                        next_attempt_at=None,
                        platform_log_ids=self._append(posts.c.platform_log_ids, log_id),
                        **_released(now),
                    )
                    .returning(posts.c.id)
                )
            ).first()
            if row is not None and attempt_id is not None:
                await self._finish_attempt(
                    connection, attempt_id, now, AttemptOutcome.failed, code, message, log_id
                )
            elif row is not None:  # an attempt a stopped worker left running ends here
                await _close_running(connection, post_id, now, AttemptOutcome.failed, message)
        return row is not None

    async def settle(
        self, post_id: int, attempt_id: int | None, outcome: PublishOutcome, now: datetime
    ) -> bool:
        """Apply the platform's verdict through the guarded write webhooks use too.

        `apply_outcome` moves only a `publishing` (or `unconfirmed`) post, whoever holds
        it, so a verdict a webhook applied first is not applied twice (returns False).
        """
        async with self.transaction() as connection:
            session = AsyncSession(bind=connection)
            try:
                settled = await apply_outcome(session, post_id, outcome, now=now)
            finally:
                await session.close()
            await self._clear_claim_if_settled(connection, post_id, now)
            if attempt_id is not None:
                attempt = _ATTEMPT_OF_STATE[outcome.state]
                code = outcome.fail_reason if outcome.state is OutcomeState.failed else None
                await self._finish_attempt(
                    connection, attempt_id, now, attempt, code, outcome.message, outcome.log_id
                )
        return settled

    async def give_up_waiting(
        self, post_id: int, worker_id: str, attempt_id: int | None, message: str, now: datetime
    ) -> bool:
        """Polling ran out of time: the post becomes `unconfirmed`, open to late news."""
        async with self.transaction() as connection:
            if (
                await connection.execute(select(posts.c.id).where(_held_by(post_id, worker_id)))
            ).first() is None:
                return False
            session = AsyncSession(bind=connection)
            try:
                marked = await mark_unconfirmed(session, post_id, message)
            finally:
                await session.close()
            await self._clear_claim_if_settled(connection, post_id, now)
            if attempt_id is not None:
                await self._finish_attempt(
                    connection,
                    attempt_id,
                    now,
                    AttemptOutcome.unconfirmed,
                    NOT_CONFIRMED_CODE,
                    message,
                    None,
                )
        return marked

    async def _clear_claim_if_settled(
        self, connection: AsyncConnection, post_id: int, now: datetime
    ) -> None:
        await connection.execute(
            update(posts)
            .where(
                posts.c.id == post_id,
                posts.c.status != PostStatus.publishing,
                posts.c.status != PostStatus.scheduled,
            )
            .values(next_attempt_at=None, **_released(now))
        )

    async def note_request(self, attempt_id: int, log_id: str) -> None:
        async with self.transaction() as connection:
            await connection.execute(
                update(attempts)
                .where(attempts.c.id == attempt_id)
                .values(request_ids=self._append(attempts.c.request_ids, log_id))
            )

    async def _finish_attempt(
        self,
        connection: AsyncConnection,
        attempt_id: int,
        now: datetime,
        outcome: AttemptOutcome,
        code: str | None,
        message: str | None,
        log_id: str | None,
    ) -> None:
        await connection.execute(
            update(attempts)
            .where(attempts.c.id == attempt_id, attempts.c.outcome == AttemptOutcome.running)
            .values(
                outcome=outcome,
                finished_at=now,
                error_code=code,
                error_message=message,
                request_ids=self._append(attempts.c.request_ids, log_id),
            )
        )

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

    # -- user actions (run in the request's session, so they commit with it) -----------

    async def make_due_now(
        self, session: AsyncSession, post_id: int, user_id: int, now: datetime
    ) -> bool:
        """Publish now: a draft, scheduled or cancelled post becomes due at once."""
        row = (
            await session.execute(
                update(posts)
                .where(
                    posts.c.id == post_id,
                    posts.c.user_id == user_id,
                    posts.c.status.in_(
                        [PostStatus.draft, PostStatus.scheduled, PostStatus.cancelled]
                    ),
                )
                .values(
                    status=PostStatus.scheduled,
                    scheduled_time=now,
                    next_attempt_at=None,
                    updated_at=now,
                )
                .returning(posts.c.id)
            )
        ).first()
        return row is not None

    async def requeue(
        self, session: AsyncSession, post_id: int, user_id: int, now: datetime
    ) -> str | None:
        """POST /posts/{id}/retry. A `failed` post is due again with a fresh attempt budget;
        an `unconfirmed` one is not posted again: its publication is checked again (the
        platform may have published it after all). Returns the new status, or None."""
        recheck = (
            await session.execute(
                update(posts)
                .where(
                    posts.c.id == post_id,
                    posts.c.user_id == user_id,
                    posts.c.status == PostStatus.unconfirmed,
                    posts.c.platform_publish_id.is_not(None),
                )
                .values(
                    status=PostStatus.publishing,
                    publish_stage=Stage.confirming,
                    publish_stage_at=now,
                    claimed_by=None,
                    lease_expires_at=now,
                    updated_at=now,
                )
                .returning(posts.c.id)
            )
        ).first()
        if recheck is not None:
            return PostStatus.publishing
        again = (
            await session.execute(
                update(posts)
                .where(
                    posts.c.id == post_id,
                    posts.c.user_id == user_id,
                    posts.c.status.in_([PostStatus.failed, PostStatus.unconfirmed]),
                )
                .values(
                    status=PostStatus.scheduled,
                    attempt_count=0,
                    next_attempt_at=now,
                    platform_publish_id=None,
                    platform_status=None,
                    platform_fail_reason=None,
                    **_released(now),
                )
                .returning(posts.c.id)
            )
        ).first()
        return PostStatus.scheduled if again is not None else None

    # -- workers and health ------------------------------------------------------------

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
        builder = pg_insert if self.dialect == "postgresql" else sqlite_insert
        statement = builder(heartbeats).values(**values)
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

    async def stats(self, now: datetime) -> QueueStats:
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
        stale = and_(_expired(now), posts.c.claimed_by.is_not(None))
        async with self.engine.connect() as connection:
            due = (
                await connection.execute(select(func.count(), func.min(due_at)).where(_due(now)))
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
        oldest = _aware(due[1])
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

    async def attempts_of(
        self, connection: AsyncConnection, user_id: int, post_id: int
    ) -> list[dict[str, Any]] | None:
        """The attempt history of one of the user's posts (None: not the user's post)."""
        owner = (
            await connection.execute(
                select(posts.c.id).where(posts.c.id == post_id, posts.c.user_id == user_id)
            )
        ).first()
        if owner is None:
            return None
        rows = await connection.execute(
            select(attempts)
            .where(attempts.c.post_id == post_id)
            .order_by(attempts.c.number, attempts.c.id)
        )
        return [dict(row) for row in rows.mappings()]

    def _append(self, column: Any, value: str | None) -> Any:
        """`column || [value]` for a JSON list column, in SQL (no read-modify-write)."""
        if value is None:
            return column
        if self.dialect == "postgresql":
            added = cast(literal(json.dumps([value]), String), JSONB)
            return cast(cast(column, JSONB).op("||")(added), JSON)
        return func.json_insert(column, "$[#]", value)


async def take_back_unstarted(session: AsyncSession, post_id: int, now: datetime) -> bool:
    """Un-claim a post no worker has started (user cancel/edit/delete): back to `scheduled`
    in the request's transaction. The worker's guarded writes then change nothing and its
    lease renewal stops the task. False when the platform was already called."""
    row = (
        await session.execute(
            update(posts)
            .where(
                posts.c.id == post_id,
                posts.c.status == PostStatus.publishing,
                posts.c.publish_stage == Stage.claimed,
            )
            .values(status=PostStatus.scheduled, **_released(now))
            .returning(posts.c.id)
        )
    ).first()
    return row is not None


async def _close_running(
    connection: AsyncConnection,
    post_id: int,
    now: datetime,
    outcome: AttemptOutcome,
    message: str,
) -> None:
    await connection.execute(
        update(attempts)
        .where(attempts.c.post_id == post_id, attempts.c.outcome == AttemptOutcome.running)
        .values(outcome=outcome, finished_at=now, error_message=message)
    )


def _released(now: datetime) -> dict[str, Any]:
    return {
        "claimed_by": None,
        "lease_expires_at": None,
        "publish_stage": None,
        "publish_stage_at": None,
        "updated_at": now,
    }


def _claim(row: Any, *, fresh: bool) -> Claim:
    return Claim(
        post_id=row.id,
        user_id=row.user_id,
        account_id=row.social_account_id,
        attempt_count=row.attempt_count,
        publish_id=row.platform_publish_id,
        stage=Stage(row.publish_stage) if row.publish_stage else Stage.claimed,
        stage_at=_aware(row.publish_stage_at),
        scheduled_time=_aware(row.scheduled_time),
        previous_worker=row.claimed_by,
        fresh=fresh,
        last_error=row.last_error,
    )


def _aware(value: datetime | None) -> Any:
    return None if value is None else ensure_utc(value)
