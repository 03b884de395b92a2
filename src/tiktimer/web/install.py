"""Mounting the web app on the service: routers, static files, the browser's error pages."""

from __future__ import annotations

import inspect
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from tiktimer.errors import TiktimerError
from tiktimer.health.endpoints import wants_page
from tiktimer.web import (
    account_pages,
    admin_pages,
    api_token,
    auth_pages,
    calendar_pages,
    composer,
    import_pages,
    library_pages,
    notification_pages,
    planning_pages,
    post_pages,
)
from tiktimer.web.render import render
from tiktimer.web.session import APP_PATH, SignInRequired, optional_user

STATIC = Path(__file__).parent / "static"
ROUTERS = (
    auth_pages.router,
    api_token.router,
    account_pages.router,
    composer.router,
    post_pages.router,
    calendar_pages.router,
    library_pages.router,
    notification_pages.router,
    import_pages.router,
    admin_pages.router,
    planning_pages.router,
)


def install(app: FastAPI) -> None:
    for router in ROUTERS:
        app.include_router(router, include_in_schema=False)
    app.add_api_route("/favicon.ico", _favicon, include_in_schema=False)
    app.mount(APP_PATH + "/static", StaticFiles(directory=STATIC), name="web-static")
    app.add_exception_handler(SignInRequired, _to_sign_in)
    previous = app.exception_handlers[TiktimerError]

    async def page_or_json(request: Request, exc: Exception) -> Response:
        """A browser under /app (navigating or posting a form) gets a page; scripts and
        API clients keep the JSON."""
        if not (request.url.path.startswith(APP_PATH) and wants_page(request)):
            answer = previous(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        assert isinstance(exc, TiktimerError)
        user = await optional_user(request)
        return await render(
            request,
            "error.html",
            user=user,
            status_code=exc.status_code,
            code=exc.status_code,
            message=exc.detail,
        )

    app.add_exception_handler(TiktimerError, page_or_json)


async def _favicon() -> Response:
    """Browsers ask for it on every page without an icon link (the OAuth result pages)."""
    icon = STATIC / "icon.svg"
    return FileResponse(
        icon, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"}
    )


async def _to_sign_in(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    return RedirectResponse(f"{APP_PATH}/signin?next={quote(exc.next_path)}", status_code=303)
