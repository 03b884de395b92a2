"""The `CurrentUser` alias: a valid bearer token of a live, active user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tiktimer.auth.tokens import AccessClaims, AccessTokens, InvalidAccessToken
from tiktimer.db.fastread import FastQuery
from tiktimer.errors import Forbidden, Unauthorized
from tiktimer.models import User

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/token", auto_error=False)

_users = User.__table__
# Built once: the token's user, only while the token's version is current and the user active.
_PRINCIPAL_QUERY = FastQuery(
    select(_users.c.id, _users.c.username, _users.c.is_superuser, _users.c.timezone).where(
        _users.c.id == bindparam("user_id"),
        _users.c.token_version == bindparam("token_version"),
        _users.c.is_active.is_(True),
    )
)


@dataclass(frozen=True, slots=True)
class Principal:
    """What a request needs to know about its caller; cheaper than loading the ORM user."""

    id: int
    username: str
    is_superuser: bool
    timezone: str


def _claims(request: Request, token: str | None) -> AccessClaims:
    if not token:
        raise Unauthorized("Not authenticated")
    tokens: AccessTokens = request.app.state.access_tokens
    try:
        return tokens.decode(token)
    except InvalidAccessToken:
        raise Unauthorized() from None


async def _principal_on(connection: AsyncConnection, claims: AccessClaims) -> Principal:
    """The token's user, only while its version is current and the user active."""
    params = {"user_id": claims.user_id, "token_version": claims.token_version}
    rows = await _PRINCIPAL_QUERY.fetch(connection, params)
    if not rows:
        raise Unauthorized()
    return Principal(*rows[0])


async def get_principal(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    claims = _claims(request, token)
    # A connection of its own, returned at once: a request never holds two pooled
    # connections at the same time, so a busy pool cannot deadlock.
    engine: AsyncEngine = request.app.state.read_engine
    async with engine.connect() as connection:
        return await _principal_on(connection, claims)


CurrentUser = Annotated[Principal, Depends(get_principal)]


@dataclass(frozen=True, slots=True)
class AuthedRead:
    """A read-only request's caller and its one autocommit connection."""

    user: Principal
    connection: AsyncConnection


async def get_authed_read(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> AsyncIterator[AuthedRead]:
    """Authenticate and read on the same connection: one pool checkout per request."""
    claims = _claims(request, token)
    engine: AsyncEngine = request.app.state.read_engine
    async with engine.connect() as connection:
        yield AuthedRead(await _principal_on(connection, claims), connection)


AuthedReadDep = Annotated[AuthedRead, Depends(get_authed_read, scope="function")]


async def get_admin(principal: CurrentUser) -> Principal:
    if not principal.is_superuser:
        raise Forbidden("Admin privileges required")
    return principal


AdminUser = Annotated[Principal, Depends(get_admin)]
