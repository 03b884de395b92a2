"""The `upload_sessions` statements: each one atomic, run in a transaction of its own.

Every write that depends on the upload's state says so in its WHERE clause (the claim, the
offset, the expiry), so two machines racing on one upload cannot both succeed: the loser
changes no row and learns why from a fresh read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, and_, delete, exists, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from tiktimer.models import ResumableUpload

_table = cast(Table, ResumableUpload.__table__)
_c = _table.c


def _unclaimed(now: datetime) -> ColumnElement[bool]:
    return or_(_c.claim_token.is_(None), _c.claimed_until <= now)


async def insert_row(engine: AsyncEngine, values: dict[str, Any]) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(_table).values(**values))


async def fetch(engine: AsyncEngine, upload_id: str) -> Row[Any] | None:
    async with engine.begin() as connection:
        result = await connection.execute(select(_table).where(_c.id == upload_id))
        return result.first()


async def known(engine: AsyncEngine, upload_id: str) -> bool:
    async with engine.begin() as connection:
        return bool(await connection.scalar(select(exists().where(_c.id == upload_id))))


async def claim(
    engine: AsyncEngine,
    upload_id: str,
    user_id: int,
    *,
    token: str,
    now: datetime,
    until: datetime,
    offset: int | None,
) -> Row[Any] | None:
    """Take the upload for one request; None if it is missing, taken, expired or elsewhere."""
    guards = [_c.id == upload_id, _c.user_id == user_id, _c.expires_at > now, _unclaimed(now)]
    if offset is not None:
        guards.append(_c.upload_offset == offset)
    statement = (
        update(_table)
        .where(and_(*guards))
        .values(claim_token=token, claimed_until=until)
        .returning(*_table.c)
    )
    async with engine.begin() as connection:
        return (await connection.execute(statement)).first()


async def renew(engine: AsyncEngine, upload_id: str, token: str, until: datetime) -> bool:
    return await _update_claimed(engine, upload_id, token, {"claimed_until": until})


async def save(
    engine: AsyncEngine, upload_id: str, token: str, values: dict[str, Any], *, release: bool
) -> bool:
    """Record new state while still holding the claim (and give it back if `release`)."""
    if release:
        values = {**values, "claim_token": None, "claimed_until": None}
    return await _update_claimed(engine, upload_id, token, values)


async def release(engine: AsyncEngine, upload_id: str, token: str) -> None:
    await _update_claimed(engine, upload_id, token, {"claim_token": None, "claimed_until": None})


async def delete_claimed(connection: AsyncConnection, upload_id: str, token: str) -> bool:
    """Remove the row under the claim, in the caller's transaction (with the media it became)."""
    statement = delete(_table).where(_c.id == upload_id, _c.claim_token == token)
    return (await connection.execute(statement)).rowcount == 1


async def delete_expired(engine: AsyncEngine, upload_id: str, now: datetime) -> Row[Any] | None:
    """Remove the row if it expired and nobody holds it; return it (for its bytes) if so."""
    statement = (
        delete(_table)
        .where(_c.id == upload_id, _c.expires_at <= now, _unclaimed(now))
        .returning(_c.id, _c.storage_state)
    )
    async with engine.begin() as connection:
        return cast("Row[Any] | None", (await connection.execute(statement)).first())


async def expired_ids(engine: AsyncEngine, now: datetime, limit: int) -> list[str]:
    statement = (
        select(_c.id).where(_c.expires_at <= now).order_by(_c.expires_at, _c.id).limit(limit)
    )
    async with engine.begin() as connection:
        return list((await connection.scalars(statement)).all())


async def _update_claimed(
    engine: AsyncEngine, upload_id: str, token: str, values: dict[str, Any]
) -> bool:
    statement = update(_table).where(_c.id == upload_id, _c.claim_token == token).values(**values)
    async with engine.begin() as connection:
        return (await connection.execute(statement)).rowcount == 1
