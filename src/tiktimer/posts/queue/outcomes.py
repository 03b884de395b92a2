"""The one guarded write that settles a publishing post: polling and webhooks both use it.

A post moves from `publishing` (or `unconfirmed`, when polling gave up; or `failed` with
`last_error_code = 'not_confirmed'`, should the scheduler record a give-up that way) to its
terminal state in a single `UPDATE … WHERE id = :id AND status IN ('publishing', …)`.
Whichever of the status poll and the platform's webhook gets there first wins; the other finds
no row to update and does nothing (`apply_outcome` returns False). Later facts about a post
that is already published (its public post id, an inbox draft the creator posted) only
enrich it and never change its status.

Callers own the transaction: these functions execute and never commit. On PostgreSQL the
settling write is one statement (the post, its running attempt and its log ids together), so
a caller may run it on an autocommit connection: one round trip, atomic by itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    bindparam,
    column,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.types import JSON

from tiktimer.db.dialect import combines_writes
from tiktimer.db.guarded import Executor, update_one
from tiktimer.db.prebuilt import FastStatement
from tiktimer.kit.time import utc_now
from tiktimer.models import Post, PostAttempt, PostStatus
from tiktimer.notifications.events import EventType, post_event_from, record_post_event
from tiktimer.platforms.contract import OutcomeState, PublishOutcome

#: States a poll or webhook may settle. `unconfirmed` stays open to late news.
SETTLEABLE = (PostStatus.publishing, PostStatus.unconfirmed)
NOT_CONFIRMED_CODE = "not_confirmed"
MAX_LOG_IDS = 20

_posts = cast(Table, Post.__table__)
_attempts = cast(Table, PostAttempt.__table__)
# `platform_log_ids` plus one id, as `_with_log_id` makes it: each id once (first place
# kept), the newest MAX_LOG_IDS. Correlated to the row being updated.
_PG_LOG_IDS_WITH = (
    text(
        """
        SELECT coalesce(json_agg(value ORDER BY position), '[]'::json) FROM (
            SELECT value, min(position) AS position
            FROM jsonb_array_elements_text(
                coalesce(posts.platform_log_ids::jsonb, '[]'::jsonb)
                || jsonb_build_array(CAST(:settle_log_id AS text))
            ) WITH ORDINALITY AS e(value, position)
            GROUP BY value ORDER BY min(position) DESC LIMIT :settle_max_log_ids
        ) AS kept
        """
    )
    .columns(column("ids", JSON))
    .scalar_subquery()
)

"""Where the guarded writes run: a request's session or a worker's connection."""


async def apply_outcome(
    session: Executor,
    post_id: int,
    outcome: PublishOutcome,
    *,
    now: datetime | None = None,
) -> bool:
    """Settle the post with `outcome`; True if this call did it, False if it was settled
    already (or the outcome is still `processing`, which only records the platform's status)."""
    if outcome.state is OutcomeState.processing:
        values = {"platform_status": outcome.platform_status}
        await update_one(session, Post, post_id, Post.status == PostStatus.publishing, values)
        return False
    now = now or utc_now()
    values = _terminal_values(outcome, now)
    if combines_writes(session):
        return await _settle_in_one_statement(session, post_id, outcome, values, now)
    settled = await update_one(session, Post, post_id, _settleable(), values)
    if settled:
        await _close_running_attempts(session, post_id, outcome, now)
        await record_post_event(session, post_id, _event_of(outcome), now=now)
    if settled and outcome.log_id:
        # Read after the guarded update, which already holds the row (and SQLite's write
        # lock): reading first could race the other side's commit.
        ids = await _with_log_id(session, post_id, outcome.log_id)
        await update_one(
            session, Post, post_id, Post.status == values["status"], {"platform_log_ids": ids}
        )
    return settled


async def _settle_in_one_statement(
    executor: Executor,
    post_id: int,
    outcome: PublishOutcome,
    values: dict[str, Any],
    now: datetime,
) -> bool:
    """Where `combines_writes` (PostgreSQL): the guarded update, the running attempts'
    close and the log id in one statement. The attempts follow the post's update (a
    data-modifying CTE), so they close only when this call settled the post, exactly as the
    separate statements do; so does its notification event. The statement is prebuilt per
    verdict (`_SETTLE`): building and compiling it per post cost more than the rest of the
    settle."""
    failed = outcome.state is OutcomeState.failed
    statement = _SETTLE[failed, outcome.log_id is not None]
    # Parameter names are never column names: Core would read those as extra SET values.
    params = {f"settle_{name}": values.get(name) for name in _VARYING[failed]} | {
        "settle_post_id": post_id,
        "settle_now": now,
        "settle_log_id": outcome.log_id,
        "settle_max_log_ids": MAX_LOG_IDS,
        "settle_outcome": str(outcome.state),
        "settle_error_code": outcome.fail_reason,
        "settle_error_message": outcome.message,
    }
    if isinstance(executor, AsyncSession):  # a webhook's request: its transaction
        executor = await executor.connection()
    assert isinstance(executor, AsyncConnection)
    rows = await statement.rows(executor, params)
    return bool(rows[0][0])


# The columns a verdict sets from the outcome (the rest of `_terminal_values` is fixed).
_VARYING = {
    False: ("platform_status", "platform_post_ids", "platform_post_id"),
    True: ("platform_status", "platform_fail_reason", "last_error", "last_error_code"),
}


def _prebuilt_settle(failed: bool, with_log_id: bool) -> FastStatement:
    now = bindparam("settle_now", type_=_posts.c.updated_at.type)
    fixed = _terminal_values(
        PublishOutcome(OutcomeState.failed if failed else OutcomeState.published), utc_now()
    )
    values: dict[str, Any] = {
        name: (
            bindparam(f"settle_{name}", type_=_posts.c[name].type)
            if name in _VARYING[failed]
            else value
        )
        for name, value in fixed.items()
    }
    if not failed:
        values["published_at"] = now
    if with_log_id:
        values["platform_log_ids"] = _PG_LOG_IDS_WITH
    settleable = or_(
        *(_posts.c.status == str(status) for status in SETTLEABLE),
        and_(_posts.c.status == PostStatus.failed, _posts.c.last_error_code == NOT_CONFIRMED_CODE),
    )
    settled = (
        update(_posts)
        .where(_posts.c.id == bindparam("settle_post_id"), settleable)
        .values(**values, updated_at=now)
        .returning(_posts.c.id, _posts.c.user_id, _posts.c.social_account_id, _posts.c.last_error)
        .cte("settled")
    )
    kind = EventType.post_failed if failed else EventType.post_published
    notified = post_event_from(settled, kind, now).cte("notified")
    closed = (
        update(_attempts)
        .where(
            _attempts.c.post_id.in_(select(settled.c.id)),
            _attempts.c.outcome == "running",
        )
        .values(
            outcome=bindparam("settle_outcome", type_=_attempts.c.outcome.type),
            finished_at=now,
            error_code=bindparam("settle_error_code", type_=_attempts.c.error_code.type),
            error_message=bindparam("settle_error_message", type_=_attempts.c.error_message.type),
        )
        .cte("closed")
    )
    return FastStatement(select(func.count()).select_from(settled).add_cte(closed, notified))


async def mark_unconfirmed(session: AsyncSession, post_id: int, message: str) -> bool:
    """Polling gave up: say so honestly instead of guessing published or failed."""
    values = {
        "status": PostStatus.unconfirmed,
        "last_error": message,
        "last_error_code": NOT_CONFIRMED_CODE,
    }
    marked = await update_one(session, Post, post_id, Post.status == PostStatus.publishing, values)
    if marked:
        await record_post_event(session, post_id, EventType.post_unconfirmed)
    return marked


def _event_of(outcome: PublishOutcome) -> EventType:
    failed = outcome.state is OutcomeState.failed
    return EventType.post_failed if failed else EventType.post_published


async def add_public_post_ids(session: AsyncSession, post_id: int, ids: Sequence[str]) -> bool:
    """TikTok made a published post public (its id arrives after moderation)."""
    published = Post.status == PostStatus.published
    current = await session.scalar(
        select(Post.platform_post_ids).where(Post.id == post_id, published)
    )
    if current is None:
        return False
    merged = list(dict.fromkeys([*current, *ids]))
    if merged == list(current):
        return False
    values = {"platform_post_ids": merged, "platform_post_id": merged[0]}
    return await update_one(session, Post, post_id, published, values)


async def note_platform_status(session: AsyncSession, post_id: int, platform_status: str) -> bool:
    """A published post's later news (an inbox draft posted, a post no longer public)."""
    values = {"platform_status": platform_status}
    return await update_one(session, Post, post_id, Post.status == PostStatus.published, values)


async def post_for_publish_id(session: AsyncSession, publish_id: str) -> tuple[int, str] | None:
    """(post id, status) of the post TikTok knows as `publish_id`."""
    row = (
        await session.execute(
            select(Post.id, Post.status).where(Post.platform_publish_id == publish_id)
        )
    ).first()
    return (int(row[0]), str(row[1])) if row is not None else None


def _settleable() -> ColumnElement[bool]:
    """`publishing`, `unconfirmed`, or a post failed only for want of the platform's answer."""
    return or_(
        Post.status.in_([str(s) for s in SETTLEABLE]),
        and_(Post.status == PostStatus.failed, Post.last_error_code == NOT_CONFIRMED_CODE),
    )


async def _close_running_attempts(
    session: Executor, post_id: int, outcome: PublishOutcome, now: datetime
) -> None:
    """A webhook can settle a post while the scheduler waits to check it: its running
    attempt ends with the same verdict (the scheduler's own settle writes it again)."""
    await session.execute(
        update(PostAttempt)
        .where(PostAttempt.post_id == post_id, PostAttempt.outcome == "running")
        .values(_closed_attempt(outcome, now))
        .execution_options(synchronize_session=False)
    )


def _closed_attempt(outcome: PublishOutcome, now: datetime) -> dict[str, Any]:
    return {
        "outcome": str(outcome.state),
        "finished_at": now,
        "error_code": outcome.fail_reason,
        "error_message": outcome.message,
    }


def _terminal_values(outcome: PublishOutcome, now: datetime) -> dict[str, Any]:
    # A settled post is nobody's job any more: the scheduler's claim goes with it.
    released = {
        "claimed_by": None,
        "lease_expires_at": None,
        "publish_stage": None,
        "publish_stage_at": None,
        "next_attempt_at": None,
    }
    if outcome.state is OutcomeState.failed:
        return released | {
            "status": PostStatus.failed,
            "platform_status": outcome.platform_status,
            "platform_fail_reason": outcome.fail_reason,
            "last_error": outcome.message,
            "last_error_code": outcome.fail_reason,
        }
    return released | {
        "status": PostStatus.published,
        "published_at": now,
        "platform_status": outcome.platform_status,  # the platform's words (it sets them)
        "platform_post_ids": list(outcome.post_ids),
        "platform_post_id": outcome.post_ids[0] if outcome.post_ids else None,
        "platform_fail_reason": None,
        "last_error": None,
        "last_error_code": None,
    }


async def _with_log_id(session: Executor, post_id: int, log_id: str) -> list[str]:
    current = await session.scalar(select(Post.platform_log_ids).where(Post.id == post_id))
    ids = [*(current or []), log_id]
    return list(dict.fromkeys(ids))[-MAX_LOG_IDS:]


_SETTLE = {
    (failed, with_log_id): _prebuilt_settle(failed, with_log_id)
    for failed in (False, True)
    for with_log_id in (False, True)
}
