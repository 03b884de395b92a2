"""Publish now, retry, and the attempt history: all through the one dispatcher.

"Publish now" only makes the post due at once; the dispatcher publishes it like any other
due post, so there is no second publishing path that could post twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.auth.dependencies import CurrentUser
from tiktimer.db.read import ReadDep
from tiktimer.db.session import SessionDep
from tiktimer.errors import Conflict, NotFound, Unprocessable
from tiktimer.kit.jsonresp import JSONBytes
from tiktimer.kit.openapi import errors
from tiktimer.kit.schemas import Schema
from tiktimer.kit.state import provided
from tiktimer.kit.time import utc_now
from tiktimer.models import Post
from tiktimer.posts import repository
from tiktimer.posts.dependencies import PostIdPath
from tiktimer.posts.schemas import PostRead
from tiktimer.scheduler.events import state_changed
from tiktimer.scheduler.queue.history import attempts_of
from tiktimer.scheduler.queue.user_actions import make_due_now, requeue
from tiktimer.scheduler.wakeup import DueSignal

router = APIRouter(tags=["publishing"], responses=errors(401, 404, 422))


class AttemptRead(Schema):
    id: int
    number: int
    worker_id: str | None
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    error_code: str | None
    error_message: str | None
    publish_id: str | None
    request_ids: list[str]


SignalDep = Annotated[DueSignal, Depends(provided(DueSignal))]


async def _status_of(session: AsyncSession, user_id: int, post_id: int) -> tuple[str, int | None]:
    row = (
        await session.execute(
            select(Post.status, Post.social_account_id).where(
                Post.id == post_id, Post.user_id == user_id
            )
        )
    ).first()
    if row is None:
        raise NotFound("Post not found")
    return str(row[0]), row[1]


async def _read(session: AsyncSession, user_id: int, post_id: int, status_code: int) -> Response:
    await session.flush()
    post = await repository.get_owned(await session.connection(), user_id, post_id)
    if post is None:
        raise NotFound("Post not found")
    return JSONBytes(post, status_code=status_code)


@router.post(
    "/posts/{post_id}/publish", response_model=PostRead, status_code=202, responses=errors(409)
)
@router.post(
    "/api/v1/tiktok/posts/{post_id}/publish",
    response_model=PostRead,
    status_code=202,
    responses=errors(409),
)
async def publish_now(
    post_id: PostIdPath, user: CurrentUser, session: SessionDep, signal: SignalDep
) -> Response:
    """Publish a draft, scheduled or cancelled post now (202: the scheduler takes it)."""
    status, account_id = await _status_of(session, user.id, post_id)
    if status == "publishing":
        return await _read(session, user.id, post_id, 202)  # already on its way
    if status in ("failed", "unconfirmed"):
        raise Conflict(f"Post is {status}; POST /posts/{post_id}/retry queues it again")
    if status == "published":
        raise Conflict("Post is already published")
    if account_id is None:
        raise Unprocessable(
            [
                {
                    "loc": ["body", "social_account_id"],
                    "msg": "connect a TikTok account to the post before publishing it",
                    "type": "value_error",
                }
            ]
        )
    now = utc_now()
    if not await make_due_now(session, post_id, user.id, now):
        raise Conflict("Post changed while being queued; try again")
    await signal.post_due(session, now)
    state_changed(post_id, status, "scheduled", "publish_now")
    return await _read(session, user.id, post_id, 202)


@router.post(
    "/posts/{post_id}/retry", response_model=PostRead, status_code=202, responses=errors(409)
)
async def retry_post(
    post_id: PostIdPath, user: CurrentUser, session: SessionDep, signal: SignalDep
) -> Response:
    """Queue a failed post again. An `unconfirmed` one is checked with TikTok again instead
    of being posted a second time."""
    status, _ = await _status_of(session, user.id, post_id)
    now = utc_now()
    target = await requeue(session, post_id, user.id, now)
    if target is None:
        raise Conflict(f"Post is {status}; only failed or unconfirmed posts can be retried")
    await signal.post_due(session, now)
    state_changed(post_id, status, str(target), "retry_requested")
    return await _read(session, user.id, post_id, 202)


@router.get("/posts/{post_id}/attempts", response_model=list[AttemptRead])
async def list_attempts(post_id: PostIdPath, user: CurrentUser, connection: ReadDep) -> Response:
    """The post's publishing attempts, oldest first, with errors and TikTok log ids."""
    rows = await attempts_of(connection, user.id, post_id)
    if rows is None:
        raise NotFound("Post not found")
    return JSONBytes(rows)
