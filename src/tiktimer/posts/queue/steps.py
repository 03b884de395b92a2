"""One post's guarded writes, from its attempt to the platform's verdict.

Each step is guarded by the claim (`status = 'publishing' AND claimed_by = :worker`): a
worker that lost its lease changes nothing, and the step says so (False or None).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from tiktimer.db.dialect import combines_writes
from tiktimer.kit.instruments import RATE_LIMIT_WAITS
from tiktimer.models import PostStatus
from tiktimer.notifications.events import EventType, record_post_event
from tiktimer.platforms.contract import PublishOutcome
from tiktimer.posts.queue.database import QueueDatabase
from tiktimer.posts.queue.outcomes import NOT_CONFIRMED_CODE, apply_outcome, mark_unconfirmed
from tiktimer.posts.queue.records import (
    AttemptOutcome,
    Claim,
    Paced,
    Started,
    TransactionalPacing,
)
from tiktimer.posts.queue.statements import (
    NEW_ATTEMPT,
    START,
    START_WITH_ATTEMPT,
    publish_id_statement_combined,
    publish_id_statements,
    release_until,
)
from tiktimer.posts.queue.tables import attempts, held_by, posts
from tiktimer.posts.transitions import released as _released


class PostSteps:
    """The writes of the state machine (`scheduler.machine`), in the queue's connections."""

    def __init__(self, database: QueueDatabase) -> None:
        self.database = database
        # PostgreSQL: a step of several writes is one statement (data-modifying CTEs).
        self.combined = combines_writes(database.engine)

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
        async with self.database.transaction() as connection:
            slot_refs: dict[str, str] | None = None
            if pace is not None:
                wait, slot_refs = await pace(connection)
                if slot_refs is None:
                    at = now + timedelta(seconds=wait)
                    deferred = await self._defer_in(connection, claim.post_id, worker_id, at, now)
                    return Paced(wait) if deferred else None
            held = {"post_id": claim.post_id, "worker_id": worker_id, "now": now}
            if claim.running_attempt_id is None and self.combined:
                # Nothing to close first: the post's update and its attempt in one statement.
                row = (await connection.execute(START_WITH_ATTEMPT, held)).first()
                if row is None:
                    return None
                return Started(row.id, row.number, slot_refs)
            row = (await connection.execute(START, held)).first()
            if row is None:
                return None
            if claim.running_attempt_id is not None:
                # An attempt still running here belongs to a worker that stopped mid-way.
                await _close_running(
                    connection, claim.post_id, now, AttemptOutcome.interrupted, interrupted
                )
            attempt_id = (
                await connection.execute(
                    NEW_ATTEMPT,
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
        if self.combined:
            async with self.database.one_statement() as connection:
                statement = publish_id_statement_combined(log_id is not None)
                return bool((await connection.execute(statement, params)).scalar_one())
        store, note = publish_id_statements(log_id is not None)
        async with self.database.transaction() as connection:
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
        async with self.database.one_statement() as connection:
            row = (await connection.execute(release_until(uploaded), params)).first()
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
        async with self.database.transaction() as connection:
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
        async with self.database.transaction() as connection:
            return await self._defer_in(connection, post_id, worker_id, at, now)

    async def _defer_in(
        self, connection: AsyncConnection, post_id: int, worker_id: str, at: datetime, now: datetime
    ) -> bool:
        row = (
            await connection.execute(
                update(posts)
                .where(held_by(post_id, worker_id), posts.c.platform_publish_id.is_(None))
                .values(status=PostStatus.scheduled, next_attempt_at=at, **_released(now))
                .returning(posts.c.id)
            )
        ).first()
        if row is not None:  # every deferral is pacing's: the account's slots are taken
            RATE_LIMIT_WAITS.observe(max(0.0, (at - now).total_seconds()))
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
        async with self.database.transaction() as connection:
            released = await self._release_with_error(
                connection, post_id, worker_id, now, values, code, message, log_id
            )
            if released and attempt_id is not None:
                await self._finish_attempt(
                    connection, attempt_id, now, AttemptOutcome.failed, code, message, log_id
                )
            elif released:  # an attempt a stopped worker left running ends here
                await _close_running(connection, post_id, now, AttemptOutcome.failed, message)
            if released:
                await record_post_event(connection, post_id, EventType.post_failed, now=now)
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
                .where(held_by(post_id, worker_id))
                .values(
                    **values,
                    last_error=message,
                    last_error_code=code,
                    platform_log_ids=self.database.append(posts.c.platform_log_ids, log_id),
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
        async with self.database.one_statement() as connection:
            # Releases the claim, closes the running attempt with the verdict and keeps the
            # status call's log id on the post.
            return await apply_outcome(connection, post_id, outcome, now=now)

    async def give_up_waiting(
        self, post_id: int, worker_id: str, attempt_id: int | None, message: str, now: datetime
    ) -> bool:
        """Polling ran out of time: the post becomes `unconfirmed`, open to late news."""
        async with self.database.transaction() as connection:
            if (
                await connection.execute(select(posts.c.id).where(held_by(post_id, worker_id)))
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
                request_ids=self.database.append(attempts.c.request_ids, log_id),
            )
        )


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
