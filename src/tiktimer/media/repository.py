"""Media rows through SQLAlchemy Core: plain mappings for reads, guarded statements for writes.

Only `ready` media exist for the API; `deleted` rows stay (posts keep their links to them)
but are never shown. The retention rules are SQL predicates here, so the candidate query
and the guarded UPDATE that deletes test exactly the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Row,
    Table,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from tiktimer.db.dialect import insert_for, row_lock
from tiktimer.media.schemas import MediaRead
from tiktimer.models import Media, Post, PostMedia, PostStatus

READY = "ready"
DELETED = "deleted"
#: A post in these states is about to be published, or may still be (`unconfirmed`: TikTok
#: has not said yet): its media may not go away.
POST_STATES_NEEDING_MEDIA = (
    PostStatus.scheduled,
    PostStatus.paused,
    PostStatus.publishing,
    PostStatus.unconfirmed,
)

_media = cast(Table, Media.__table__)
_post_media = cast(Table, PostMedia.__table__)
_posts = cast(Table, Post.__table__)
READ_COLUMNS = tuple(_media.c[name] for name in MediaRead.model_fields)
_OWNED = and_(_media.c.user_id == bindparam("user_id"), _media.c.status == READY)
_CONTENT_COLUMNS = tuple(
    _media.c[name] for name in ("storage_key", "size", "content_type", "sha256", "created_at")
)
_GC_COLUMNS = (_media.c.id, _media.c.user_id, _media.c.size, _media.c.storage_key)


async def get_owned(
    connection: AsyncConnection, user_id: int, media_id: str
) -> dict[str, Any] | None:
    return await _one(connection, READ_COLUMNS, user_id, media_id)


async def content_of(
    connection: AsyncConnection, user_id: int, media_id: str
) -> dict[str, Any] | None:
    """What serving the bytes needs: storage key, size, type, hash (the ETag)."""
    return await _one(connection, _CONTENT_COLUMNS, user_id, media_id)


async def owned_any_status(
    connection: AsyncConnection, user_id: int, media_id: str
) -> dict[str, Any] | None:
    """Storage key, hash and status of the user's media, deleted too (a post's calendar
    entry keeps pointing at media that retention removed)."""
    statement = select(_media.c.storage_key, _media.c.sha256, _media.c.status).where(
        _media.c.user_id == user_id, _media.c.id == media_id
    )
    row = (await connection.execute(statement)).mappings().first()
    return dict(row) if row is not None else None


async def _one(
    connection: AsyncConnection, columns: Sequence[Any], user_id: int, media_id: str
) -> dict[str, Any] | None:
    statement = select(*columns).where(_OWNED, _media.c.id == bindparam("media_id"))
    params = {"user_id": user_id, "media_id": media_id}
    row = (await connection.execute(statement, params)).mappings().first()
    return dict(row) if row is not None else None


async def list_owned(
    connection: AsyncConnection, user_id: int, *, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of the user's media, newest first, and the total across pages."""
    statement = (
        select(*READ_COLUMNS, func.count().over().label("_total"))
        .where(_OWNED)
        .order_by(_media.c.created_at.desc(), _media.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    rows = (await connection.execute(statement, {"user_id": user_id})).mappings().all()
    if rows:
        total = int(rows[0]["_total"])
    elif offset:
        count = select(func.count()).select_from(_media).where(_OWNED)
        total = int((await connection.execute(count, {"user_id": user_id})).scalar_one())
    else:
        total = 0
    media = [dict(row) for row in rows]
    for item in media:
        del item["_total"]
    return media, total


async def find_ready(connection: AsyncConnection, user_id: int, sha256: str) -> str | None:
    """The id of the user's ready media with these bytes, if any."""
    statement = select(_media.c.id).where(_OWNED, _media.c.sha256 == bindparam("sha256"))
    found = await connection.scalar(statement, {"user_id": user_id, "sha256": sha256})
    return str(found) if found is not None else None


async def insert_ready(connection: AsyncConnection, values: dict[str, Any]) -> bool:
    """Insert a ready media row; False if the user already has ready media with its hash.

    The partial unique index on (user_id, sha256) WHERE status = 'ready' settles a race
    between two uploads of the same file without aborting the transaction.
    """
    statement = (
        insert_for(connection, _media)
        .values(**values, status=READY)
        .on_conflict_do_nothing(
            # A literal predicate: PostgreSQL cannot match a bound parameter to the index.
            index_elements=["user_id", "sha256"],
            index_where=text(f"status = '{READY}'"),
        )
        .returning(_media.c.id)
    )
    return (await connection.execute(statement)).first() is not None


async def lock_owned(connection: AsyncConnection, user_id: int, media_id: str) -> str | None:
    """Lock the user's ready media row (FOR UPDATE) and return its storage key."""
    statement = row_lock(
        select(_media.c.storage_key).where(_OWNED, _media.c.id == bindparam("media_id"))
    )
    key = await connection.scalar(statement, {"user_id": user_id, "media_id": media_id})
    return str(key) if key is not None else None


async def count_posts_needing(connection: AsyncConnection, media_id: str) -> int:
    statement = (
        select(func.count())
        .select_from(_post_media.join(_posts, _posts.c.id == _post_media.c.post_id))
        .where(
            _post_media.c.media_id == media_id,
            _posts.c.status.in_([str(s) for s in POST_STATES_NEEDING_MEDIA]),
        )
    )
    return int((await connection.execute(statement)).scalar_one())


async def mark_deleted(connection: AsyncConnection, media_id: str, now: datetime) -> None:
    statement = (
        update(_media)
        .where(_media.c.id == media_id, _media.c.status == READY)
        .values(status=DELETED, deleted_at=now)
    )
    await connection.execute(statement)


# Retention


def unused_since(cutoff: datetime) -> ColumnElement[bool]:
    """Ready media that no post references, uploaded before `cutoff`."""
    referenced = exists().where(_post_media.c.media_id == _media.c.id)
    return and_(_media.c.status == READY, _media.c.created_at < cutoff, ~referenced)


def published_before(cutoff: datetime) -> ColumnElement[bool]:
    """Ready media whose posts are all published, the last of them before `cutoff`."""
    links = _post_media.join(_posts, _posts.c.id == _post_media.c.post_id)
    still_needed = (
        exists()
        .select_from(links)
        .where(
            _post_media.c.media_id == _media.c.id,
            or_(
                _posts.c.status != str(PostStatus.published),
                _posts.c.published_at.is_(None),
                _posts.c.published_at >= cutoff,
            ),
        )
    )
    referenced = exists().where(_post_media.c.media_id == _media.c.id)
    return and_(_media.c.status == READY, referenced, ~still_needed)


async def gc_candidates(
    connection: AsyncConnection, rule: ColumnElement[bool], limit: int
) -> list[str]:
    statement = (
        select(_media.c.id).where(rule).order_by(_media.c.created_at, _media.c.id).limit(limit)
    )
    return [str(media_id) for media_id in (await connection.execute(statement)).scalars()]


async def delete_if(
    connection: AsyncConnection, media_ids: Sequence[str], rule: ColumnElement[bool], now: datetime
) -> list[Row[Any]]:
    """Mark deleted those of `media_ids` that still match `rule`; return id, owner, size, key.

    The rows are locked first (in id order, so two collectors cannot deadlock) and the rule is
    tested again under the lock, so media that a post started using meanwhile are kept.
    """
    lock = select(_media.c.id).where(_media.c.id.in_(media_ids)).order_by(_media.c.id)
    await connection.execute(row_lock(lock))
    statement = (
        update(_media)
        .where(_media.c.id.in_(media_ids), rule)
        .values(status=DELETED, deleted_at=now)
        .returning(*_GC_COLUMNS)
    )
    return list((await connection.execute(statement)).all())
