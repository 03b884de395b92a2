"""The reads `PostService` makes before it writes: the caller's account and media as
pre-flight sees them, and a post's status; what is not the caller's is a 422 or 404."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.db.dialect import row_lock
from tiktimer.errors import NotFound, Unprocessable
from tiktimer.models import Media, Post
from tiktimer.platforms.tiktok import facts as load
from tiktimer.platforms.tiktok.preflight import AccountFacts, MediaFacts


def field_error(field: str, message: str) -> list[dict[str, Any]]:
    return [{"loc": ["body", field], "msg": message, "type": "value_error"}]


async def owned_account_facts(
    session: AsyncSession, user_id: int, account_id: int | None
) -> AccountFacts | None:
    """The caller's account as pre-flight sees it; one that is not theirs → 422."""
    if account_id is None:
        return None
    account = await load.load_account(session, user_id, account_id)
    if account is None:
        raise Unprocessable(field_error("social_account_id", "no such connected account"))
    return account


async def lock_media(session: AsyncSession, user_id: int, media_ids: list[str]) -> list[MediaFacts]:
    """The caller's ready media in the order given, share-locked until commit: a concurrent
    delete or gc cannot retire media that a post is attaching. Unknown or repeated → 422."""
    if not media_ids:
        return []
    rows = await session.scalars(
        row_lock(
            select(Media).where(
                Media.id.in_(media_ids), Media.user_id == user_id, Media.status == "ready"
            ),
            read=True,
        )
    )
    owned = {media.id: load.media_facts(media) for media in rows}
    missing = [m for m in media_ids if m not in owned]
    if missing:
        raise Unprocessable(field_error("media_ids", f"unknown media: {', '.join(missing)}"))
    if len(set(media_ids)) != len(media_ids):
        raise Unprocessable(field_error("media_ids", "the same media is listed twice"))
    return [owned[m] for m in media_ids]


async def status_and_account(
    session: AsyncSession, user_id: int, post_id: int
) -> tuple[str, int | None]:
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
