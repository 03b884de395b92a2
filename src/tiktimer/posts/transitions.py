"""Guarded writes of a post's state: a change names the states it may leave.

Every status change is one statement that checks and writes at once,

    UPDATE posts SET status = :to, … WHERE id = :id [AND user_id = :owner]
                                       AND status IN (:from, …) RETURNING id

so when a user's cancel and a claiming worker go for the same post, exactly one of them
finds the row in a state it may leave, and the other finds no row and changes nothing
(it reports a 409, or the worker drops the post). Reading the status in Python and then
writing would let both win. A from-state may name a publish stage, `status:stage`:
`publishing:claimed` is a post a worker claimed but has not sent to the platform, which
a user's action may still take back.

The winning write holds the row until its transaction ends (a row lock on PostgreSQL,
SQLite's write lock), so the rest of the request sees the post as it left it: a claim
skips a locked row, and a worker's own guarded writes wait, then find the state changed.
Callers own the transaction: nothing here commits.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, case, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.db.guarded import Executor
from tiktimer.models import Post, PostStatus

"""Where a guarded write runs: a request's session or a worker's connection."""

posts = cast(Table, Post.__table__)

#: Claimed by a worker that has not called the platform yet (`Stage.claimed` of the
#: scheduler): nothing was sent, so a user's action may take the post back.
UNSTARTED = f"{PostStatus.publishing}:claimed"


def released(now: datetime) -> dict[str, Any]:
    """The values that end a worker's claim on a post."""
    return {
        "claimed_by": None,
        "lease_expires_at": None,
        "publish_stage": None,
        "publish_stage_at": None,
        "updated_at": now,
    }


def in_states(states: Collection[str]) -> ColumnElement[bool]:
    """`status IN (…)`; a `status:stage` entry matches that status in that publish stage."""
    plain = [state for state in states if ":" not in state]
    staged = [state.split(":", 1) for state in states if ":" in state]
    conditions: list[ColumnElement[bool]] = [posts.c.status.in_(plain)] if plain else []
    conditions += [
        and_(posts.c.status == status, posts.c.publish_stage == stage) for status, stage in staged
    ]
    return or_(*conditions)


def guard(
    post_id: int, from_states: Collection[str], owner: int | None = None
) -> list[ColumnElement[bool]]:
    """This post, in one of `from_states` (and the owner's, when given)."""
    conditions = [posts.c.id == post_id, in_states(from_states)]
    if owner is not None:
        conditions.append(posts.c.user_id == owner)
    return conditions


async def transition(
    executor: Executor,
    post_id: int,
    from_states: Collection[str],
    to_state: str,
    *,
    owner: int | None = None,
    where: tuple[ColumnElement[bool], ...] = (),
    **values: Any,
) -> bool:
    """Move the post from one of `from_states` to `to_state` (with `values`) in one guarded
    write; False when it was in another state, or is not `owner`'s: nothing changed."""
    statement = (
        update(posts)
        .where(*guard(post_id, from_states, owner), *where)
        .values(status=to_state, **values)
        .returning(posts.c.id)
    )
    return (await executor.execute(statement)).first() is not None


async def hold(
    session: AsyncSession, post_id: int, from_states: Collection[str], *, owner: int, now: datetime
) -> Post | None:
    """The owner's post, held by this transaction for an edit, if it is in `from_states`.

    The guarded write keeps the status, except that an unstarted claim is taken back (the
    post is `scheduled` again and the worker's next write finds it gone). One statement:
    the row comes back with it.
    """
    taken_back = case(
        (posts.c.status == PostStatus.publishing, PostStatus.scheduled), else_=posts.c.status
    )
    statement = (
        update(Post)
        .where(*guard(post_id, from_states, owner))
        .values(status=taken_back, **released(now))
        .returning(Post)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).first()


async def remove(
    executor: Executor, post_id: int, from_states: Collection[str], *, owner: int
) -> bool:
    """Delete the owner's post if it is in one of `from_states` (its rows go with it)."""
    statement = delete(posts).where(*guard(post_id, from_states, owner)).returning(posts.c.id)
    return (await executor.execute(statement)).first() is not None


async def status_of(executor: Executor, post_id: int, *, owner: int) -> str | None:
    """The post's status, to say why a guarded write lost (None: not the owner's post)."""
    statement = select(posts.c.status).where(posts.c.id == post_id, posts.c.user_id == owner)
    status = (await executor.execute(statement)).scalar()
    return None if status is None else str(status)
