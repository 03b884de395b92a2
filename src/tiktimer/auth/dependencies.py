"""The `CurrentUser` alias: a valid bearer token of a live, active user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select

from tiktimer.auth.tokens import AccessTokens, InvalidAccessToken
from tiktimer.db.session import SessionDep
from tiktimer.errors import Forbidden, Unauthorized
from tiktimer.models import User

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/token", auto_error=False)

_PRINCIPAL_COLUMNS = (User.id, User.username, User.is_superuser, User.timezone)


@dataclass(frozen=True, slots=True)
class Principal:
    """What a request needs to know about its caller; cheaper than loading the ORM user."""

    id: int
    username: str
    is_superuser: bool
    timezone: str


async def get_principal(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    if not token:
        raise Unauthorized("Not authenticated")
    tokens: AccessTokens = request.app.state.access_tokens
    try:
        claims = tokens.decode(token)
    except InvalidAccessToken:
        raise Unauthorized() from None
    row = (
        await session.execute(
            select(*_PRINCIPAL_COLUMNS).where(
                User.id == claims.user_id,
                User.token_version == claims.token_version,
                User.is_active.is_(True),
            )
        )
    ).first()
    if row is None:
        raise Unauthorized()
    return Principal(*row)


CurrentUser = Annotated[Principal, Depends(get_principal)]


async def get_admin(principal: CurrentUser) -> Principal:
    if not principal.is_superuser:
        raise Forbidden("Admin privileges required")
    return principal


AdminUser = Annotated[Principal, Depends(get_admin)]
