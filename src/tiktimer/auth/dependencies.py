"""The `CurrentUser` alias: a valid bearer token of a live, active user."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Select, bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncConnection

from tiktimer.auth.tokens import AccessClaims, AccessTokens, InvalidAccessToken
from tiktimer.db.fairpool import fair_connect
from tiktimer.db.fastread import FastQuery
from tiktimer.db.read import read_engine
from tiktimer.errors import Forbidden, Unauthorized
from tiktimer.kit.state import services
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
    tokens = services(request).provide(AccessTokens)
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


async def principal_of_claims(connection: AsyncConnection, claims: AccessClaims) -> Principal:
    """The claims' user while current and active, else Unauthorized (the web session's check)."""
    return await _principal_on(connection, claims)


async def get_principal(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    claims = _claims(request, token)
    # A connection of its own, returned at once: a request never holds two pooled
    # connections at the same time, so a busy pool cannot deadlock.
    async with fair_connect(read_engine(request)) as connection:
        return await _principal_on(connection, claims)


CurrentUser = Annotated[Principal, Depends(get_principal)]


# True while the token's user is active and the token's version current; evaluated once per
# statement (PostgreSQL runs an uncorrelated EXISTS as a one-time filter).
_TOKEN_IS_CURRENT = exists().where(
    _users.c.id == bindparam("user_id"),
    _users.c.token_version == bindparam("token_version"),
    _users.c.is_active.is_(True),
)


class CallerQuery(FastQuery):
    """A read of the caller's own rows that returns nothing once the caller's token is stale.

    The token check rides along in the statement, so an authenticated read is one round trip.
    The statement binds `user_id` (the token's user) wherever it needs it.
    """

    def __init__(self, statement: Select[Any]) -> None:
        super().__init__(statement.where(_TOKEN_IS_CURRENT))


@dataclass(frozen=True, slots=True)
class AuthedRead:
    """A read-only request's signed token and its one autocommit connection.

    The token's signature is checked, its user is not: read through `fetch`, whose query
    checks the user in the same statement, before anything else touches `connection`.
    """

    claims: AccessClaims
    connection: AsyncConnection

    @property
    def user_id(self) -> int:
        return self.claims.user_id

    async def fetch(self, query: CallerQuery, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        """The query's rows; a stale token, which yields none, is refused with 401."""
        claims = self.claims
        bound = {**params, "user_id": claims.user_id, "token_version": claims.token_version}
        rows = await query.fetch(self.connection, bound)
        if not rows:  # nothing of the caller's, or no valid caller: tell them apart
            await _principal_on(self.connection, claims)
        return rows


async def get_authed_read(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> AsyncIterator[AuthedRead]:
    """A verified token and one pooled connection; `AuthedRead.fetch` checks the token's user."""
    claims = _claims(request, token)
    async with fair_connect(read_engine(request)) as connection:
        yield AuthedRead(claims, connection)


AuthedReadDep = Annotated[AuthedRead, Depends(get_authed_read, scope="function")]


async def get_admin(principal: CurrentUser) -> Principal:
    if not principal.is_superuser:
        raise Forbidden("Admin privileges required")
    return principal


AdminUser = Annotated[Principal, Depends(get_admin)]
