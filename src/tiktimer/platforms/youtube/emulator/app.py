"""`create_emulator_app`: the strict YouTube emulator as one ASGI app serving every
Google host's paths (accounts, oauth2, www.googleapis.com), standalone or mounted."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from . import routes
from .config import EmulatorConfig
from .emulator import BodyCut, YouTubeEmulator
from .errors import ApiError, OAuthError
from .middleware import FaultMiddleware
from .oauth import AuthorizeRefused
from .store import StateStore


def create_emulator_app(
    config: EmulatorConfig | None = None, *, store: StateStore | None = None
) -> FastAPI:
    emulator = YouTubeEmulator(config, store)
    app = FastAPI(
        title="YouTube emulator",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,
    )
    app.state.emulator = emulator
    app.include_router(routes.router)
    _add_exception_handlers(app)
    app.add_middleware(FaultMiddleware, emulator=emulator)
    return app


def _add_exception_handlers(app: FastAPI) -> None:
    async def api_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    async def oauth_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, OAuthError)
        body = {"error": exc.error, "error_description": exc.description}
        return JSONResponse(body, status_code=exc.status)

    async def refused(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, AuthorizeRefused)
        page = f"<!doctype html><title>Error 400: {exc.error}</title><p>{exc.description}</p>"
        return HTMLResponse(page, status_code=400)

    async def body_cut(_: Request, exc: Exception) -> Response:
        return Response(status_code=499)  # nobody reads it: the client is gone

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(OAuthError, oauth_error)
    app.add_exception_handler(AuthorizeRefused, refused)
    app.add_exception_handler(BodyCut, body_cut)
