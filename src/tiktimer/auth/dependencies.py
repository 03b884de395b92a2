"""The `CurrentUser` alias: a valid bearer token of a live, active user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tiktimer.auth.tokens import AccessTokens, InvalidAccessToken
from tiktimer.errors import Forbidden, Unauthorized
from tiktimer.models import User

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/token", auto_error=False)

_users = User.__table__
# Built once: the token's user, only while the token's version is current and the user active.
_PRINCIPAL_QUERY = select(
    _users.c.id, _users.c.username, _users.c.is_superuser, _users.c.timezone
).where(
    _users.c.id == bindparam("user_id"),
    _users.c.token_version == bindparam("token_version"),
    _users.c.is_active.is_(True),
)


@dataclass(frozen=True, slots=True)
class Principal:
    """What a request needs to know about its caller; cheaper than loading the ORM user."""

    id: int
    username: str
    is_superuser: bool
    timezone: str


async def get_principal(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    if not token:
        raise Unauthorized("Not authenticated")
    tokens: AccessTokens = request.app.state.access_tokens
    try:
        claims = tokens.decode(token)
    except InvalidAccessToken:
        raise Unauthorized() from None
    params = {"user_id": claims.user_id, "token_version": claims.token_version}
    # A connection of its own, returned at once: a request never holds two pooled
    # connections at the same time, so a busy pool cannot deadlock.
    engine: AsyncEngine = request.app.state.read_engine
    async with engine.connect() as connection:
        row = (await connection.execute(_PRINCIPAL_QUERY, params)).first()
    if row is None:
        raise Unauthorized()
    return Principal(*row)


CurrentUser = Annotated[Principal, Depends(get_principal)]


async def get_admin(principal: CurrentUser) -> Principal:
    if not principal.is_superuser:
        raise Forbidden("Admin privileges required")
    return principal


AdminUser = Annotated[Principal, Depends(get_admin)]
