"""`/posts/…`: the original's post API, owner-scoped."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from tiktimer.auth.dependencies import AuthedReadDep, CurrentUser
from tiktimer.db.session import SessionDep
from tiktimer.errors import NotFound
from tiktimer.idempotency import KEY_HEADER, Replayed, digest_of, idempotent_request
from tiktimer.kit.jsonresp import JSONBytes
from tiktimer.kit.openapi import errors
from tiktimer.kit.schemas import DbCount, UtcTime
from tiktimer.posts import repository
from tiktimer.posts.dependencies import PostIdPath, PostServiceDep
from tiktimer.posts.schemas import PostCreate, PostRead, PostUpdate, StatusName

router = APIRouter(prefix="/posts", tags=["posts"], responses=errors(401, 422))

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=KEY_HEADER,
        max_length=255,
        description="Retrying with the same key and body within 24 hours returns the first "
        "answer and creates nothing; the same key with another body → 422",
    ),
]


async def _read(connection: AsyncConnection, user_id: int, post_id: int) -> Response:
    post = await repository.get_owned(connection, user_id, post_id)
    if post is None:
        raise NotFound("Post not found")
    return JSONBytes(post)


async def _flushed(session: AsyncSession) -> AsyncConnection:
    """The session's own connection, so a read sees the request's uncommitted writes."""
    await session.flush()
    return await session.connection()


@router.post("/", response_model=PostRead, status_code=201, responses=errors(400, 409, 413))
async def create_post(
    data: PostCreate,
    user: CurrentUser,
    session: SessionDep,
    posts: PostServiceDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Schedule a post (or save a draft with `draft: true`)."""
    # The body's digest only matters with a key: without one, no dump and no hash.
    key = (
        None
        if idempotency_key is None
        else idempotent_request(
            idempotency_key,
            user_id=user.id,
            scope="posts.create",
            digest=digest_of(data.model_dump(mode="json", exclude_unset=True)),
        )
    )
    try:
        post = await posts.create(session, user.id, user.timezone, data, idempotency=key)
    except Replayed as replay:
        return replay.response()
    response = JSONBytes(post, status_code=201)
    return response if key is None else await key.remember(session, response)


class PostFilters(BaseModel):
    """`GET /posts/`'s query: one model, validated in one pass (cheaper than six params)."""

    status: StatusName | None = None
    platform: str | None = None
    scheduled_from: UtcTime | None = None
    scheduled_to: UtcTime | None = None
    limit: int = Field(100, ge=1, le=500)
    offset: DbCount = 0


@router.get("/", response_model=list[PostRead])
async def list_posts(read: AuthedReadDep, query: Annotated[PostFilters, Query()]) -> Response:
    """The caller's posts by scheduled time, as a JSON array; the total is in `X-Total-Count`."""
    posts, total = await repository.list_callers(
        read,
        status=query.status,
        platform=query.platform,
        scheduled_from=query.scheduled_from,
        scheduled_to=query.scheduled_to,
        limit=query.limit,
        offset=query.offset,
    )
    return JSONBytes(posts, headers={"X-Total-Count": str(total)})


@router.get("/{post_id}", response_model=PostRead, responses=errors(404))
async def get_post(post_id: PostIdPath, read: AuthedReadDep) -> Response:
    """One of the caller's posts."""
    post = await repository.get_callers(read, post_id)
    if post is None:
        raise NotFound("Post not found")
    return JSONBytes(post)


@router.patch("/{post_id}", response_model=PostRead, responses=errors(400, 404, 409, 413))
async def update_post(
    post_id: PostIdPath,
    data: PostUpdate,
    user: CurrentUser,
    session: SessionDep,
    posts: PostServiceDep,
) -> Response:
    """Change a post; one that is publishing or published → 409."""
    await posts.update(session, user.id, user.timezone, post_id, data)
    return await _read(await _flushed(session), user.id, post_id)


@router.delete("/{post_id}", status_code=204, responses=errors(404, 409))
async def delete_post(
    post_id: PostIdPath, user: CurrentUser, session: SessionDep, posts: PostServiceDep
) -> Response:
    """Delete a post; one being published → 409."""
    await posts.delete(session, user.id, post_id)
    return Response(status_code=204)


@router.post("/{post_id}/cancel", response_model=PostRead, responses=errors(404, 409))
async def cancel_post(
    post_id: PostIdPath, user: CurrentUser, session: SessionDep, posts: PostServiceDep
) -> Response:
    """Stop a draft or scheduled post from being published; it stays in the history."""
    await posts.cancel(session, user.id, post_id)
    return await _read(await _flushed(session), user.id, post_id)
