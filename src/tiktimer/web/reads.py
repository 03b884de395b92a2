"""What the pages read: the JSON API's own read queries, with the session's claims.

`posts.repository` reads through `AuthedRead` (the caller's token checked in the same
statement); a web session carries the same claims, so the pages reuse those statements
as they are, and see exactly what `GET /posts/` would show.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import Request

from tiktimer.auth.dependencies import AuthedRead, Principal
from tiktimer.db.fairpool import fair_connect
from tiktimer.db.read import read_engine
from tiktimer.kit.time import ensure_utc
from tiktimer.media import repository as media_repository
from tiktimer.web.domain import attempts_of, post_repository
from tiktimer.web.session import claims_of

_JSON_FIELDS = ("validation", "probe", "verdict", "platform_post_ids", "platform_log_ids")
_TIMES = ("scheduled_time", "published_at", "created_at", "updated_at", "next_attempt_at")


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    for name in _JSON_FIELDS:
        if isinstance(row.get(name), str | bytes):
            row[name] = json.loads(row[name])
    for name in (*_TIMES, "started_at", "finished_at"):
        value = row.get(name)
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if isinstance(value, datetime):
            row[name] = ensure_utc(value)
    return row


async def posts_between(
    request: Request,
    start: datetime | None,
    end: datetime | None,
    *,
    status: str | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """The user's posts scheduled in [start, end], by time (as `GET /posts/` lists them)."""
    async with fair_connect(read_engine(request)) as connection:
        read = AuthedRead(claims_of(request), connection)
        rows, _ = await post_repository.list_callers(
            read,
            status=status,
            platform=None,
            scheduled_from=start,
            scheduled_to=end,
            limit=limit,
            offset=0,
        )
    return [_decoded(row) for row in rows]


async def post_of(request: Request, user: Principal, post_id: int) -> dict[str, Any] | None:
    async with fair_connect(read_engine(request)) as connection:
        read = AuthedRead(claims_of(request), connection)
        row = await post_repository.get_callers(read, post_id)
    return _decoded(row) if row is not None else None


async def attempts(request: Request, user: Principal, post_id: int) -> list[dict[str, Any]]:
    async with fair_connect(read_engine(request)) as connection:
        rows = await attempts_of(connection, user.id, post_id)
    return [_decoded(row) for row in rows or []]


async def media_of(request: Request, user: Principal, *, limit: int = 100) -> list[dict[str, Any]]:
    async with fair_connect(read_engine(request)) as connection:
        rows, _ = await media_repository.list_owned(connection, user.id, limit=limit, offset=0)
    return [_decoded(row) for row in rows]
