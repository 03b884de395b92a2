"""Publish now, retry, and the attempt history: all through the one dispatcher.

"Publish now" only makes the post due at once (`PostService.publish_now`, which the web app
calls too); the dispatcher publishes it like any other due post, so there is no second
publishing path that could post twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.auth.dependencies import CurrentUser
from tiktimer.db.read import ReadDep
from tiktimer.db.session import SessionDep
from tiktimer.errors import NotFound
from tiktimer.kit.jsonresp import JSONBytes
from tiktimer.kit.openapi import errors
from tiktimer.kit.schemas import Schema
from tiktimer.kit.state import provided
from tiktimer.posts import repository
from tiktimer.posts.dependencies import PostIdPath, PostServiceDep
from tiktimer.posts.queue.history import attempts_of
from tiktimer.posts.queue.wakeup import DueSignal
from tiktimer.posts.schemas import PostRead

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


async def read_post(
    session: AsyncSession, user_id: int, post_id: int, status_code: int
) -> Response:
    """The post as the request's session sees it (its writes included)."""
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
    post_id: PostIdPath, user: CurrentUser, session: SessionDep, posts: PostServiceDep
) -> Response:
    """Publish a draft, scheduled, paused, missed or cancelled post now (202: the scheduler
    takes it)."""
    await posts.publish_now(session, user.id, post_id)
    return await read_post(session, user.id, post_id, 202)


@router.post(
    "/posts/{post_id}/retry", response_model=PostRead, status_code=202, responses=errors(409)
)
async def retry_post(
    post_id: PostIdPath, user: CurrentUser, session: SessionDep, posts: PostServiceDep
) -> Response:
    """Queue a failed post again. An `unconfirmed` one is checked with TikTok again instead
    of being posted a second time."""
    await posts.retry(session, user.id, post_id)
    return await read_post(session, user.id, post_id, 202)


@router.get("/posts/{post_id}/attempts", response_model=list[AttemptRead])
async def list_attempts(post_id: PostIdPath, user: CurrentUser, connection: ReadDep) -> Response:
    """The post's publishing attempts, oldest first, with errors and TikTok log ids."""
    rows = await attempts_of(connection, user.id, post_id)
    if rows is None:
        raise NotFound("Post not found")
    return JSONBytes(rows)
