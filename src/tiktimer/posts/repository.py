"""Post queries. Reads return plain row mappings: the ORM is for writes, not hot reads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.models import Post, PostMedia
from tiktimer.posts.schemas import PostRead

READ_COLUMNS = tuple(
    Post.__table__.c[name] for name in PostRead.model_fields if name != "media_ids"
)


def _owned(user_id: int) -> Select[Any]:
    return select(*READ_COLUMNS).where(Post.user_id == user_id)


async def get_owned(session: AsyncSession, user_id: int, post_id: int) -> dict[str, Any] | None:
    row = (await session.execute(_owned(user_id).where(Post.id == post_id))).mappings().first()
    if row is None:
        return None
    post = dict(row)
    post["media_ids"] = (await media_ids_for(session, [post_id]))[post_id]
    return post


async def list_owned(
    session: AsyncSession,
    user_id: int,
    *,
    status: str | None,
    platform: str | None,
    scheduled_from: datetime | None,
    scheduled_to: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """A page of the user's posts by scheduled time, and the total across pages."""
    where = [Post.user_id == user_id]
    if status is not None:
        where.append(Post.status == status)
    if platform is not None:
        where.append(Post.platform == platform)
    if scheduled_from is not None:
        where.append(Post.scheduled_time >= scheduled_from)
    if scheduled_to is not None:
        where.append(Post.scheduled_time <= scheduled_to)
    query = (
        select(*READ_COLUMNS, func.count().over().label("_total"))
        .where(*where)
        .order_by(Post.scheduled_time, Post.id)
        .limit(limit)
        .offset(offset)
    )
    rows = (await session.execute(query)).mappings().all()
    if rows:
        total = rows[0]["_total"]
    elif offset:
        total = await session.scalar(select(func.count()).select_from(Post).where(*where)) or 0
    else:
        total = 0
    media = await media_ids_for(session, [row["id"] for row in rows])
    posts = []
    for row in rows:
        post = dict(row)
        del post["_total"]
        post["media_ids"] = media[post["id"]]
        posts.append(post)
    return posts, total


async def media_ids_for(session: AsyncSession, post_ids: Sequence[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    if post_ids:
        rows = await session.execute(
            select(PostMedia.post_id, PostMedia.media_id)
            .where(PostMedia.post_id.in_(post_ids))
            .order_by(PostMedia.post_id, PostMedia.position)
        )
        for post_id, media_id in rows:
            found[post_id].append(media_id)
    return found


async def set_media(session: AsyncSession, post_id: int, media_ids: Sequence[str]) -> None:
    await session.execute(delete(PostMedia).where(PostMedia.post_id == post_id))
    if media_ids:
        await session.execute(
            insert(PostMedia),
            [{"post_id": post_id, "position": i, "media_id": m} for i, m in enumerate(media_ids)],
        )
