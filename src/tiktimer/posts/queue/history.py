"""One post's attempt history (GET /posts/{id}/attempts), on the request's read connection."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from tiktimer.posts.queue.tables import attempts, posts


async def attempts_of(
    connection: AsyncConnection, user_id: int, post_id: int
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
