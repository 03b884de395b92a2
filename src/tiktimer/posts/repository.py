"""Post reads as plain row mappings on a Core connection: the ORM is for writes.

Statements are built once per filter combination and reused with bound parameters, and a
post's media come in the same round trip as the post (a LEFT JOIN on the page of posts). The
caller's reads (`*_callers`) also check the caller's token in that same statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import JSON, Select, Table, bindparam, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from tiktimer.auth.dependencies import AuthedRead, CallerQuery
from tiktimer.db.fastread import FastQuery, raw_json
from tiktimer.models import Post, PostMedia
from tiktimer.posts.schemas import PostRead

_posts = Post.__table__
_post_media = PostMedia.__table__
# JSON columns pass through as their stored text: these rows only ever become response bodies.
READ_COLUMNS = tuple(
    raw_json(column) if isinstance(column.type, JSON) else column
    for column in (_posts.c[name] for name in PostRead.model_fields if name != "media_ids")
)
_FILTERS = {
    "status": lambda: _posts.c.status == bindparam("status"),
    "platform": lambda: _posts.c.platform == bindparam("platform"),
    "scheduled_from": lambda: _posts.c.scheduled_time >= bindparam("scheduled_from"),
    "scheduled_to": lambda: _posts.c.scheduled_time <= bindparam("scheduled_to"),
}


def _with_media(page: Select[Any]) -> Select[Any]:
    sub = page.subquery("page")
    return (
        select(sub, _post_media.c.media_id)
        .select_from(sub.outerjoin(_post_media, _post_media.c.post_id == sub.c.id))
        .order_by(sub.c.scheduled_time, sub.c.id, _post_media.c.position)
    )


@lru_cache(maxsize=32)
def _list_query(filters: tuple[str, ...]) -> CallerQuery:
    return CallerQuery(_list_statement(filters))


def _list_statement(filters: tuple[str, ...]) -> Select[Any]:
    page = (
        select(*READ_COLUMNS, func.count().over().label("_total"))
        .where(_posts.c.user_id == bindparam("user_id"), *(_FILTERS[f]() for f in filters))
        .order_by(_posts.c.scheduled_time, _posts.c.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    return _with_media(page)


def _one_statement() -> Select[Any]:
    return _with_media(
        select(*READ_COLUMNS).where(
            _posts.c.user_id == bindparam("user_id"), _posts.c.id == bindparam("post_id")
        )
    )


_ONE_QUERY = FastQuery(_one_statement())
_CALLERS_ONE_QUERY = CallerQuery(_one_statement())


@lru_cache(maxsize=32)
def _count_statement(filters: tuple[str, ...]) -> Select[Any]:
    return select(func.count()).where(
        _posts.c.user_id == bindparam("user_id"), *(_FILTERS[f]() for f in filters)
    )


def _group(keys: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """Fold the joined rows (one per media item) back into one dict per post.

    Plain tuples zipped with the keys read once: building a RowMapping per row costs more
    than the query itself on a page of fifty posts.
    """
    assert keys[-1] == "media_id", "the joined media column comes last"
    post_keys = keys[:-1]  # zip stops there: the media column is left out for free
    id_at = list(keys).index("id")
    posts: list[dict[str, Any]] = []
    last_id = None
    for row in rows:
        media_id = row[-1]
        if row[id_at] == last_id:
            posts[-1]["media_ids"].append(media_id)
            continue
        last_id = row[id_at]
        post = dict(zip(post_keys, row))  # noqa: B905
        post["media_ids"] = [media_id] if media_id is not None else []
        posts.append(post)
    return posts


async def get_owned(
    connection: AsyncConnection, user_id: int, post_id: int
) -> dict[str, Any] | None:
    params = {"user_id": user_id, "post_id": post_id}
    posts = _group(_ONE_QUERY.keys, await _ONE_QUERY.fetch(connection, params))
    return posts[0] if posts else None


async def get_callers(read: AuthedRead, post_id: int) -> dict[str, Any] | None:
    """One of the caller's posts, read with the token check in the same round trip."""
    posts = _group(
        _CALLERS_ONE_QUERY.keys, await read.fetch(_CALLERS_ONE_QUERY, {"post_id": post_id})
    )
    return posts[0] if posts else None


async def list_callers(
    read: AuthedRead,
    *,
    status: str | None,
    platform: str | None,
    scheduled_from: datetime | None,
    scheduled_to: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """A page of the user's posts by scheduled time, and the total across pages."""
    values = {
        "status": status,
        "platform": platform,
        "scheduled_from": scheduled_from,
        "scheduled_to": scheduled_to,
    }
    filters = tuple(name for name, value in values.items() if value is not None)
    params: dict[str, Any] = {name: values[name] for name in filters}
    query = _list_query(filters)
    keys = query.keys
    rows = await read.fetch(query, {**params, "limit": limit, "offset": offset})
    if rows:
        total = int(rows[0][keys.index("_total")])
    elif offset:
        count = _count_statement(filters)
        params["user_id"] = read.user_id
        total = int((await read.connection.execute(count, params)).scalar_one())
    else:
        total = 0
    posts = _group(keys, rows)
    for post in posts:
        del post["_total"]
    return posts, total


# A new post comes back as the read path's columns from the INSERT itself (RETURNING).
_INSERT = insert(cast(Table, _posts)).returning(*READ_COLUMNS)


async def insert_post(
    session: AsyncSession, values: dict[str, Any], media_ids: Sequence[str]
) -> dict[str, Any]:
    """Insert a post and its media; the post as `PostRead` fields, without a read back."""
    result = await session.execute(_INSERT, values)
    post = dict(zip(result.keys(), result.one(), strict=True))
    await set_media(session, post["id"], media_ids, replace=False)
    post["media_ids"] = list(media_ids)
    return post


async def set_media(
    session: AsyncSession, post_id: int, media_ids: Sequence[str], *, replace: bool = True
) -> None:
    """The post's media, in order; `replace=False` for a post inserted in this transaction
    (it has none yet: no DELETE round trip)."""
    if replace:
        await session.execute(delete(PostMedia).where(PostMedia.post_id == post_id))
    if media_ids:
        await session.execute(
            insert(PostMedia),
            [{"post_id": post_id, "position": i, "media_id": m} for i, m in enumerate(media_ids)],
        )
