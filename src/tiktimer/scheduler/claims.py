"""Every statement the scheduler issues against the queue: the posts table and its attempts.

The posts table is the queue. A post is *due* when `status = 'scheduled'`, its
`scheduled_time` has come and its `next_attempt_at` (set by a retry) too. Claiming moves it
to `publishing` with a lease (`claimed_by`, `lease_expires_at`); every later write of the
claimant is guarded by `status = 'publishing' AND claimed_by = :worker`, so a worker that
lost its lease (expired, or the user cancelled a post it had not started) changes nothing.

A `publishing` post whose lease expired is claimable again. That covers a crashed worker
and, on purpose, the wait for the platform's verdict: after the upload a worker releases its
claim and sets `lease_expires_at` to the time of the next status check, so polling and
crash recovery are the same path and no worker slot is held while the platform processes.

PostgreSQL claims with `FOR UPDATE SKIP LOCKED`, so any number of workers share the work
without double claims. SQLite has one writer at a time: each write transaction starts
with `BEGIN IMMEDIATE`, which takes the write lock up front, so the read that picks the
rows and the update that claims them cannot interleave with another writer.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from typing import cast as cast_type

from sqlalchemy import (
    ColumnElement,
    DateTime,
    FromClause,
    Integer,
    String,
    Table,
    and_,
    bindparam,
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
from tiktimer.platforms.contract import PublishOutcome
from tiktimer.posts.transitions import UNSTARTED, transition
from tiktimer.posts.transitions import released as _released
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
    account_status: str | None = None
    account_reason: str | None = None
    running_attempt_id: int | None = None  # the attempt a status check continues
    post_mode: str | None = None  # direct | inbox: the platform decides what that costs
    # The registry name of the account's platform (the post's own, without an account).
    platform: str = ""

    def blocked(self, title: str) -> str | None:
        """Why this post's account cannot publish now (None: it can); `title` names the
        platform ("TikTok")."""
        if self.account_id is None:
            return f"The post has no connected {title} account; connect one and retry."
        if self.account_status is None:
            return f"The post's {title} account no longer exists; connect one and retry."
        if self.account_status == "reauth_required":
            return (
                f"{title} access for this account was revoked or expired; reconnect the "
                f"account and retry ({self.account_reason or 'reauthorization required'})."
            )
        if self.account_status == "disconnected":
            return f"The post's {title} account was disconnected; reconnect it and retry."
        return None


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
    slot_refs: Mapping[str, str] | None = None  # bucket → the slot taken with it


@dataclass(frozen=True, slots=True)
class Paced:
    """The account's init window is full: the post is due again in `wait` seconds."""

    wait: float


TransactionalPacing = Callable[[AsyncConnection], Awaitable[tuple[float, dict[str, str] | None]]]
"""Takes pacing slots inside the caller's transaction: (0, ref per bucket) or (wait, None)."""


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
        posts.c.claimed_by,
        posts.c.last_error,
        accounts.c.status.label("account_status"),
        accounts.c.status_reason.label("account_reason"),
        running.label("running_attempt_id"),
        posts.c.post_mode,
        func.coalesce(accounts.c.platform, posts.c.platform).label("platform"),
    )


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        posts.c.status == PostStatus.scheduled,
        posts.c.scheduled_time <= now,
        or_(posts.c.next_attempt_at.is_(None), posts.c.next_attempt_at <= now),
    )


def _expired(now: datetime) -> ColumnElement[bool]:
    return and_(posts.c.status == PostStatus.publishing, posts.c.lease_expires_at <= now)


# Hot statements, built once: a post's steps run thousands of times a minute under load.
_HELD = and_(
    posts.c.id == bindparam("post_id"),
    posts.c.status == PostStatus.publishing,
    posts.c.claimed_by == bindparam("worker_id"),
)
_START = (
    update(posts)
    .where(_HELD)
    .values(
        attempt_count=posts.c.attempt_count + 1,
        publish_stage=Stage.initializing,
        publish_stage_at=bindparam("now"),
        platform_publish_id=None,
        updated_at=bindparam("now"),
    )
    .returning(posts.c.attempt_count)
)
_NEW_ATTEMPT = (
    insert(attempts)
    .values(
        post_id=bindparam("post_id"),
        number=bindparam("number"),
        worker_id=bindparam("worker_id"),
        started_at=bindparam("now"),
        outcome=AttemptOutcome.running,
        request_ids=[],
    )
    .returning(attempts.c.id)
)

_started = _START.cte("started")
_START_WITH_ATTEMPT = (
    insert(attempts)
    .from_select(
        ["post_id", "number", "worker_id", "started_at", "outcome", "request_ids"],
        select(
            bindparam("post_id", type_=Integer),
            _started.c.attempt_count,
            bindparam("worker_id", type_=String),
            bindparam("now", type_=DateTime(timezone=True)),
            literal(str(AttemptOutcome.running)),
            cast(literal("[]"), JSON),
        ),
    )
    .returning(attempts.c.id, attempts.c.number)
)
"""PostgreSQL: `_START` and `_NEW_ATTEMPT` in one statement (no row: the claim was lost)."""


@lru_cache(maxsize=2)
def _store_publish_id_pg(with_log: bool) -> Any:
    """PostgreSQL: the post's publish id and its attempt's in one statement; the attempt
    follows the guarded update (a data-modifying CTE). Returns 1 when stored, else 0."""
    store, note = _store_publish_id("postgresql", with_log)
    stored = store.cte("stored")
    # Parameters named like a column are added to an UPDATE's SET when executed, which a
    # statement inside a CTE cannot bind: set those columns explicitly (same values).
    noted = (
        note.where(attempts.c.post_id.in_(select(stored.c.id)))
        .values(post_id=bindparam("post_id"), worker_id=bindparam("worker_id"))
        .cte("noted")
    )
    return select(func.count()).select_from(stored).add_cte(noted)


@lru_cache(maxsize=4)
def _store_publish_id(dialect: str, with_log: bool) -> tuple[Any, Any]:
    def logged(column: Any) -> Any:
        return _appended(dialect, column, bindparam("log_id")) if with_log else column

    store = (
        update(posts)
        .where(_HELD)
        .values(
            platform_publish_id=bindparam("publish_id"),
            publish_stage=Stage.uploading,
            publish_stage_at=bindparam("now"),
            platform_log_ids=logged(posts.c.platform_log_ids),
            updated_at=bindparam("now"),
        )
        .returning(posts.c.id)
    )
    note = (
        update(attempts)
        .where(attempts.c.id == bindparam("attempt_id"))
        .values(publish_id=bindparam("publish_id"), request_ids=logged(attempts.c.request_ids))
    )
    return store, note


@lru_cache(maxsize=2)
def _release_until(uploaded: bool) -> Any:
    stage: dict[str, Any] = (
        {"publish_stage": Stage.confirming, "publish_stage_at": bindparam("now")}
        if uploaded
        else {}
    )
    return (
        update(posts)
        .where(_HELD)
        .values(
            claimed_by=None,
            lease_expires_at=bindparam("check_at"),
            platform_status=func.coalesce(
                bindparam("platform_status", type_=String), posts.c.platform_status
            ),
            updated_at=bindparam("now"),
            **stage,
        )
        .returning(posts.c.id)
    )


def _appended(dialect: str, column: Any, value: Any) -> Any:
    """`column || [value]` for a JSON list column, in SQL (no read-modify-write)."""
    if dialect == "postgresql":
        added = func.jsonb_build_array(cast(value, String))
        return cast(cast(column, JSONB).op("||")(added), JSON)
    return func.json_insert(column, "$[#]", value)


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
        # PostgreSQL: for the steps that are one statement, atomic without BEGIN/COMMIT.
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._sqlite_engine = self._autocommit if self.dialect == "sqlite" else None

    @asynccontextmanager
    async def one_statement(self) -> AsyncIterator[AsyncConnection]:
        """For a step that is a single statement on PostgreSQL: no BEGIN/COMMIT round trips
        (elsewhere an ordinary transaction)."""
        if self.dialect != "postgresql":
            async with self.transaction() as connection:
                yield connection
            return
        async with self._autocommit.connect() as connection:
            yield connection

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
        """Claim up to `limit` posts: due posts first (being on time is the promise), then
        expired leases and due status checks, which always get a quarter of the batch so a
        flood of due posts cannot hold up recoveries and verdicts indefinitely."""
        async with self.transaction() as connection:
            expired_order = posts.c.lease_expires_at
            stale = await self._pick(connection, _expired(now), expired_order, max(1, limit // 4))
            due = await self._pick(
                connection, _due(now), posts.c.scheduled_time, limit - len(stale)
            )
            if len(stale) + len(due) < limit and len(stale) == max(1, limit // 4):
                taken = [row.id for row in stale]
                stale += await self._pick(
                    connection,
                    and_(_expired(now), posts.c.id.not_in(taken)),
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
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True, of=posts)
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

    async def start_attempt(
        self,
        claim: Claim,
        worker_id: str,
        now: datetime,
        *,
        interrupted: str,
        pace: TransactionalPacing | None = None,
    ) -> Started | Paced | None:
        """Record an attempt before the platform is called; None when the claim was lost.

        With `pace`, the account's slots (init, creator_info) are taken in the same
        transaction; when one is not free the post goes back to `scheduled` until it is
        (`Paced`), no attempt used.
        """
        async with self.transaction() as connection:
            slot_refs: dict[str, str] | None = None
            if pace is not None:
                wait, slot_refs = await pace(connection)
                if slot_refs is None:
                    at = now + timedelta(seconds=wait)
                    deferred = await self._defer_in(connection, claim.post_id, worker_id, at, now)
                    return Paced(wait) if deferred else None
            held = {"post_id": claim.post_id, "worker_id": worker_id, "now": now}
            if claim.running_attempt_id is None and self.dialect == "postgresql":
                # Nothing to close first: the post's update and its attempt in one statement.
                row = (await connection.execute(_START_WITH_ATTEMPT, held)).first()
                if row is None:
                    return None
                return Started(row.id, row.number, slot_refs)
            row = (await connection.execute(_START, held)).first()
            if row is None:
                return None
            if claim.running_attempt_id is not None:
                # An attempt still running here belongs to a worker that stopped mid-way.
                await _close_running(
                    connection, claim.post_id, now, AttemptOutcome.interrupted, interrupted
                )
            attempt_id = (
                await connection.execute(
                    _NEW_ATTEMPT,
                    {
                        "post_id": claim.post_id,
                        "number": row.attempt_count,
                        "worker_id": worker_id,
                        "now": now,
                    },
                )
            ).scalar_one()
        return Started(attempt_id, row.attempt_count, slot_refs)

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
        params = {
            "post_id": post_id,
            "worker_id": worker_id,
            "publish_id": publish_id,
            "log_id": log_id,
            "attempt_id": attempt_id,
            "now": now,
        }
        if self.dialect == "postgresql":
            async with self.one_statement() as connection:
                statement = _store_publish_id_pg(log_id is not None)
                return bool((await connection.execute(statement, params)).scalar_one())
        store, note = _store_publish_id(self.dialect, log_id is not None)
        async with self.transaction() as connection:
            if (await connection.execute(store, params)).first() is None:
                return False
            await connection.execute(note, params)
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
        params = {
            "post_id": post_id,
            "worker_id": worker_id,
            "check_at": check_at,
            "now": now,
            "platform_status": platform_status,
        }
        async with self.one_statement() as connection:
            row = (await connection.execute(_release_until(uploaded), params)).first()
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
        values = {
            "status": PostStatus.scheduled,
            "next_attempt_at": at,
            "platform_publish_id": None,
        }
        async with self.transaction() as connection:
            released = await self._release_with_error(
                connection, post_id, worker_id, now, values, code, message, log_id
            )
            if released and attempt_id is not None:
                await self._finish_attempt(
                    connection, attempt_id, now, outcome, code, message, log_id
                )
        return released

    async def defer(self, post_id: int, worker_id: str, at: datetime, now: datetime) -> bool:
        """Hand an unstarted claim back, due again at `at` (no attempt is used up)."""
        async with self.transaction() as connection:
            return await self._defer_in(connection, post_id, worker_id, at, now)

    async def _defer_in(
        self, connection: AsyncConnection, post_id: int, worker_id: str, at: datetime, now: datetime
    ) -> bool:
        row = (
            await connection.execute(
                update(posts)
                .where(_held_by(post_id, worker_id), posts.c.platform_publish_id.is_(None))
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
        values = {"status": PostStatus.failed, "next_attempt_at": None}
        async with self.transaction() as connection:
            released = await self._release_with_error(
                connection, post_id, worker_id, now, values, code, message, log_id
            )
            if released and attempt_id is not None:
                await self._finish_attempt(
                    connection, attempt_id, now, AttemptOutcome.failed, code, message, log_id
                )
            elif released:  # an attempt a stopped worker left running ends here
                await _close_running(connection, post_id, now, AttemptOutcome.failed, message)
        return released

    async def _release_with_error(
        self,
        connection: AsyncConnection,
        post_id: int,
        worker_id: str,
        now: datetime,
        values: dict[str, Any],
        code: str | None,
        message: str | None,
        log_id: str | None,
    ) -> bool:
        """Give up the claim with `values` and the error; False when the claim was lost."""
        row = (
            await connection.execute(
                update(posts)
                .where(_held_by(post_id, worker_id))
                .values(
                    **values,
                    last_error=message,
                    last_error_code=code,
                    platform_log_ids=self._append(posts.c.platform_log_ids, log_id),
                    **_released(now),
                )
                .returning(posts.c.id)
            )
        ).first()
        return row is not None

    async def settle(self, post_id: int, outcome: PublishOutcome, now: datetime) -> bool:
        """Apply the platform's verdict through the guarded write webhooks use too.

        `apply_outcome` moves only a `publishing` (or `unconfirmed`) post, whoever holds
        it, so a verdict a webhook applied first is not applied twice (returns False).
        """
        async with self.one_statement() as connection:
            # Releases the claim, closes the running attempt with the verdict and keeps the
            # status call's log id on the post.
            return await apply_outcome(connection, post_id, outcome, now=now)

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
        return await transition(
            session,
            post_id,
            (PostStatus.draft, PostStatus.scheduled, PostStatus.cancelled),
            PostStatus.scheduled,
            owner=user_id,
            scheduled_time=now,
            next_attempt_at=None,
            updated_at=now,
        )

    async def requeue(
        self, session: AsyncSession, post_id: int, user_id: int, now: datetime
    ) -> str | None:
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
            (PostStatus.failed, PostStatus.unconfirmed),
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
        return column if value is None else _appended(self.dialect, column, literal(value))


async def take_back_unstarted(session: AsyncSession, post_id: int, now: datetime) -> bool:
    """Un-claim a post no worker has started: back to `scheduled` in the caller's
    transaction. The worker's guarded writes then change nothing and its lease renewal
    stops the task. False when the platform was already called."""
    return await transition(session, post_id, (UNSTARTED,), PostStatus.scheduled, **_released(now))


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
        account_status=row.account_status,
        account_reason=row.account_reason,
        running_attempt_id=row.running_attempt_id,
        post_mode=row.post_mode,
        platform=row.platform,
    )


def _aware(value: datetime | None) -> Any:
    return None if value is None else ensure_utc(value)
