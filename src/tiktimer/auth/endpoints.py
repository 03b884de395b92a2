"""`/token`, `/auth/refresh`, `/auth/logout`: the original's login plus rotation and logout."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from tiktimer.auth.dependencies import CurrentUser
from tiktimer.auth.ratelimits import (
    CredentialLimitsDep,
    client_address,
    limit_login,
    limit_refresh,
)
from tiktimer.auth.schemas import RefreshRequest, TokenPair
from tiktimer.auth.service import AuthService
from tiktimer.db.session import SessionDep
from tiktimer.kit.openapi import errors
from tiktimer.kit.state import provided

router = APIRouter(tags=["auth"])


AuthServiceDep = Annotated[AuthService, Depends(provided(AuthService))]


@router.post(
    "/token",
    response_model=TokenPair,
    dependencies=[Depends(limit_login)],
    responses=errors(401, 403, 413, 422, 429),
)
async def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    auth: AuthServiceDep,
    limits: CredentialLimitsDep,
) -> TokenPair:
    """Log in with username (or email) and password; returns an access and a refresh token."""
    address = client_address(request)
    return await auth.login(session, form.username, form.password, limits=limits, address=address)


@router.post(
    "/auth/refresh",
    response_model=TokenPair,
    dependencies=[Depends(limit_refresh)],
    responses=errors(400, 401, 413, 422, 429),
)
async def refresh(
    request: Request, body: RefreshRequest, session: SessionDep, auth: AuthServiceDep
) -> TokenPair:
    """Trade a refresh token for a new pair; the old refresh token stops working."""
    return await auth.refresh(session, body.refresh_token, address=client_address(request))


@router.post("/auth/logout", status_code=204, responses=errors(401))
async def logout(
    request: Request, user: CurrentUser, session: SessionDep, auth: AuthServiceDep
) -> Response:
    """End every session of the caller: all earlier access and refresh tokens stop working."""
    await auth.logout(session, user.id, address=client_address(request))
    return Response(status_code=204)
