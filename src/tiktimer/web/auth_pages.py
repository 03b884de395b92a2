"""Sign up, sign in, sign out and the settings page (time zone, password).

Each form calls the service the JSON API calls (`UserService.register`, `AuthService.login`
behind the same login limits, `UserService.update_me`), so the rules are the API's.
"""

from __future__ import annotations

from typing import Annotated
from zoneinfo import available_timezones

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response

from tiktimer.auth.ratelimits import CredentialLimitsDep, client_address, limit_register
from tiktimer.auth.tokens import AccessTokens
from tiktimer.db.session import SessionDep
from tiktimer.errors import TiktimerError
from tiktimer.kit.state import services
from tiktimer.planning import feed as calendar_feed
from tiktimer.users.endpoints import UserServiceDep
from tiktimer.users.schemas import UserCreate, UserUpdate
from tiktimer.web.deps import AuthServiceDep
from tiktimer.web.render import field_messages, render
from tiktimer.web.session import (
    APP_PATH,
    CsrfChecked,
    MaybeWebUser,
    WebUser,
    end_session,
    start_session,
)

router = APIRouter(prefix=APP_PATH)
TIMEZONES = sorted(available_timezones())
Text = Annotated[str, Form(max_length=1024)]


def _safe_next(value: str | None) -> str:
    """Only our own app's paths: never an open redirect."""
    if value and value.startswith(APP_PATH) and not value.startswith("//"):
        return value
    return APP_PATH + "/"


def _pydantic_errors(exc: ValidationError) -> dict[str, list[str]]:
    return field_messages(
        [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors(include_input=False)]
    )


@router.get("/signup")
async def signup_form(request: Request, user: MaybeWebUser) -> Response:
    if user is not None:
        return RedirectResponse(APP_PATH + "/", status_code=303)
    return await render(request, "signup.html", user=None, timezones=TIMEZONES, errors={})


@router.post("/signup", dependencies=[CsrfChecked, Depends(limit_register)])
async def signup(
    request: Request,
    session: SessionDep,
    users: UserServiceDep,
    username: Text,
    email: Text,
    password: Text,
    timezone: Annotated[str, Form(max_length=64)] = "UTC",
) -> Response:
    values = {"username": username, "email": email, "timezone": timezone}
    try:
        data = UserCreate(password=password, **values)
        created = await users.register(session, data)
    except ValidationError as exc:
        errors = _pydantic_errors(exc)
    except TiktimerError as exc:
        errors = {"_": [str(exc.detail)]}
    else:
        response = RedirectResponse(APP_PATH + "/?welcome=1", status_code=303)
        start_session(response, request, created.id, created.token_version)
        return response
    return await render(
        request,
        "signup.html",
        user=None,
        timezones=TIMEZONES,
        errors=errors,
        values=values,
        status_code=422,
    )


@router.get("/signin")
async def signin_form(request: Request, user: MaybeWebUser, next: str | None = None) -> Response:
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return await render(request, "signin.html", user=None, next=_safe_next(next), error=None)


@router.post("/signin", dependencies=[CsrfChecked])
async def signin(
    request: Request,
    session: SessionDep,
    auth: AuthServiceDep,
    limits: CredentialLimitsDep,
    username: Text,
    password: Text,
    next: Annotated[str, Form(max_length=512)] = APP_PATH + "/",
) -> Response:
    """As `POST /token`: the per-address limit, then the login's own limits and audit."""
    address = client_address(request)
    try:
        await limits.login(address)
        pair = await auth.login(session, username, password, limits=limits, address=address)
    except TiktimerError as exc:
        await session.commit()  # the failure's audit and counters stay
        return await render(
            request,
            "signin.html",
            user=None,
            next=_safe_next(next),
            error=str(exc.detail),
            username=username,
            status_code=exc.status_code,
        )
    claims = services(request).provide(AccessTokens).decode(pair.access_token)
    response = RedirectResponse(_safe_next(next), status_code=303)
    start_session(response, request, claims.user_id, claims.token_version)
    return response


@router.post("/signout", dependencies=[CsrfChecked])
async def signout(
    request: Request, user: WebUser, session: SessionDep, auth: AuthServiceDep
) -> Response:
    """As `POST /auth/logout`: every session and token of the user ends."""
    await auth.logout(session, user.id, address=client_address(request))
    response = RedirectResponse(APP_PATH + "/signin", status_code=303)
    end_session(response, request)
    return response


@router.get("/settings")
async def settings_page(request: Request, user: WebUser, session: SessionDep) -> Response:
    feed_active = await calendar_feed.created_at(session, user.id) is not None
    return await render(
        request,
        "settings.html",
        user=user,
        session=session,
        timezones=TIMEZONES,
        errors={},
        feed_active=feed_active,
    )


@router.post("/settings", dependencies=[CsrfChecked])
async def save_settings(
    request: Request,
    user: WebUser,
    session: SessionDep,
    users: UserServiceDep,
    timezone: Annotated[str | None, Form(max_length=64)] = None,
    current_password: Annotated[str | None, Form(max_length=1024)] = None,
    password: Annotated[str | None, Form(max_length=1024)] = None,
) -> Response:
    """Time zone and/or a new password (which ends other sessions; this one is renewed)."""
    try:
        data = UserUpdate(
            timezone=timezone or None,
            password=password or None,
            current_password=current_password or None,
        )
        row = await users.get(session, user.id)
        updated = await users.update_me(session, row, data, address=client_address(request))
        await session.refresh(updated)
    except ValidationError as exc:
        errors = _pydantic_errors(exc)
    except TiktimerError as exc:
        await session.rollback()
        errors = {"current_password" if exc.status_code == 401 else "_": [str(exc.detail)]}
    else:
        response = RedirectResponse(APP_PATH + "/settings?saved=1", status_code=303)
        start_session(response, request, updated.id, updated.token_version)
        return response
    return await render(
        request,
        "settings.html",
        user=user,
        session=session,
        timezones=TIMEZONES,
        errors=errors,
        status_code=422,
    )
