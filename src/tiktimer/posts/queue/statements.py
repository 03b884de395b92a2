"""The hot statements of one post's steps, built once: a post's steps run thousands of times
a minute under load."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    and_,
    bindparam,
    cast,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.types import JSON

from tiktimer.db.dialect import json_append
from tiktimer.models import PostStatus
from tiktimer.posts.queue.records import AttemptOutcome, Stage
from tiktimer.posts.queue.tables import attempts, posts

_HELD = and_(
    posts.c.id == bindparam("post_id"),
    posts.c.status == PostStatus.publishing,
    posts.c.claimed_by == bindparam("worker_id"),
)
START = (
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
NEW_ATTEMPT = (
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

_started = START.cte("started")
START_WITH_ATTEMPT = (
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
"""Where `combines_writes`: `START` and `NEW_ATTEMPT` in one statement (no row: the claim
was lost)."""


@lru_cache(maxsize=2)
def publish_id_statement_combined(with_log: bool) -> Any:
    """Where `combines_writes` (PostgreSQL): the post's publish id and its attempt's in one
    statement; the attempt follows the guarded update (a data-modifying CTE). Returns 1 when
    stored, else 0."""
    store, note = publish_id_statements(with_log)
    stored = store.cte("stored")
    # Parameters named like a column are added to an UPDATE's SET when executed, which a
    # statement inside a CTE cannot bind: set those columns explicitly (same values).
    noted = (
        note.where(attempts.c.post_id.in_(select(stored.c.id)))
        .values(post_id=bindparam("post_id"), worker_id=bindparam("worker_id"))
        .cte("noted")
    )
    return select(func.count()).select_from(stored).add_cte(noted)


@lru_cache(maxsize=2)
def publish_id_statements(with_log: bool) -> tuple[Any, Any]:
    def logged(column: Any) -> Any:
        return json_append(column, bindparam("log_id")) if with_log else column

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
def release_until(uploaded: bool) -> Any:
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
