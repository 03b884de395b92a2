"""Taking an idempotency key for one request, and remembering or replaying its answer."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import orjson
from fastapi import Response
from sqlalchemy import Table, and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from tiktimer.db.dialect import insert_for
from tiktimer.errors import Unprocessable
from tiktimer.kit.time import utc_now
from tiktimer.models import IdempotencyKey

KEY_HEADER = "Idempotency-Key"
#: How long a key's first answer is replayed; after that the key is free again.
KEY_LIFETIME = timedelta(hours=24)
_MAX_KEY = 255
_keys = cast(Table, IdempotencyKey.__table__)


class Replayed(Exception):
    """The key answered this request before: send `response` again, create nothing."""

    def __init__(self, status_code: int, body: str) -> None:
        super().__init__(status_code)
        self.status_code = status_code
        self.body = body

    def response(self) -> Response:
        return Response(
            self.body.encode(),
            status_code=self.status_code,
            media_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )


def digest_of(*parts: Any) -> str:
    """SHA-256 of the request's meaning (parsed fields, file hashes), not of its bytes."""
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _header_error(message: str) -> Unprocessable:
    return Unprocessable(
        [{"loc": ["header", KEY_HEADER], "msg": message, "type": "idempotency_key"}]
    )


def _checked_key(key: str) -> str:
    if not 1 <= len(key) <= _MAX_KEY or not key.isascii() or not key.isprintable():
        raise _header_error(f"must be 1 to {_MAX_KEY} printable ASCII characters")
    return key


@dataclass(slots=True)
class IdempotentRequest:
    """One request's key: `take` it before writing, `remember` the answer after."""

    user_id: int
    scope: str
    key: str
    digest: str
    row_id: int | None = None

    def _this_key(self) -> Any:
        return and_(
            _keys.c.user_id == self.user_id, _keys.c.scope == self.scope, _keys.c.key == self.key
        )

    async def take(self, session: AsyncSession, now: datetime | None = None) -> None:
        """Insert the key's row (it commits with the request), or raise `Replayed` with
        the first answer; the same key with another request → 422."""
        now = now or utc_now()
        await session.execute(
            delete(_keys).where(self._this_key(), _keys.c.created_at <= now - KEY_LIFETIME)
        )
        inserted = await session.execute(
            insert_for(session, _keys)
            .values(
                user_id=self.user_id,
                scope=self.scope,
                key=self.key,
                request_hash=self.digest,
                status_code=0,
                response_body="",
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["user_id", "scope", "key"])
            .returning(_keys.c.id)
        )
        self.row_id = inserted.scalar()
        if self.row_id is None:
            await self._replay(session, now)
            raise AssertionError("the key's row vanished while it was being read")

    async def replay_if_known(self, connection: AsyncConnection) -> None:
        """Before any write: `Replayed` when the key already answered (422 for another
        request); for steps that must not run twice (an upload that is gone once used)."""
        await self._replay(connection, utc_now())

    async def _replay(self, bind: AsyncSession | AsyncConnection, now: datetime) -> None:
        first = (
            await bind.execute(
                select(_keys.c.request_hash, _keys.c.status_code, _keys.c.response_body).where(
                    self._this_key(), _keys.c.created_at > now - KEY_LIFETIME
                )
            )
        ).first()
        if first is None:
            return
        if first.request_hash != self.digest:
            raise _header_error("this key was used for another request in the last 24 hours")
        raise Replayed(first.status_code, first.response_body)

    async def remember(self, session: AsyncSession, response: Response) -> Response:
        """Store the answer with the key, in the request's transaction."""
        assert self.row_id is not None, "remember() follows a successful take()"
        await session.execute(
            update(_keys)
            .where(_keys.c.id == self.row_id)
            .values(status_code=response.status_code, response_body=bytes(response.body).decode())
        )
        return response


def idempotent_request(
    key: str | None, *, user_id: int, scope: str, digest: str
) -> IdempotentRequest | None:
    """The request's key (None without the header); a malformed key → 422."""
    if key is None:
        return None
    return IdempotentRequest(user_id, scope, _checked_key(key), digest)


async def prune_expired(sessionmaker: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Forget keys past their lifetime (run beside media retention); returns how many."""
    async with sessionmaker() as session, session.begin():
        result = await session.execute(
            delete(_keys).where(_keys.c.created_at <= now - KEY_LIFETIME)
        )
    return int(getattr(result, "rowcount", 0) or 0)
