"""`create_emulator_app`: the strict TikTok emulator as one ASGI app serving every host's paths.

It runs standalone at the root or mounted under a prefix (the main app mounts it at
`/sandbox/tiktok`); self-referencing URLs follow the request's mount point unless
`config.public_base_url` is set. With a `store`, its state is shared and persistent; when
the store cannot be reached, every endpoint answers 503 the way TikTok answers an outage.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from tiktimer.kit.scripted_faults import route_path

from .config import EmulatorConfig
from .emulator import Emulator
from .endpoints import Family, endpoint_for, family_of
from .errors import ApiError, AuthorizeRefused, OAuthError, UploadError
from .middleware import EmulatorMiddleware
from .responses import envelope, oauth_error
from .routes import admin, authorize, oauth, posting, upload, user
from .store import StateStore, StateUnavailable

UNAVAILABLE = "The service is temporarily unavailable. Retry later."


def create_emulator_app(
    config: EmulatorConfig | None = None, *, store: StateStore | None = None
) -> FastAPI:
    emulator = Emulator(config, store)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await emulator.aclose()

    app = FastAPI(
        title="TikTok emulator",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,  # TikTok paths end in "/"; a missing slash is a client bug
        lifespan=lifespan,
    )
    app.state.emulator = emulator
    for module in (authorize, oauth, user, posting, upload):
        app.include_router(module.router)
    if emulator.config.admin_enabled:
        app.include_router(admin.router)
    _add_exception_handlers(app, emulator)
    app.add_middleware(EmulatorMiddleware, emulator=emulator)
    return app


def _add_exception_handlers(app: FastAPI, emulator: Emulator) -> None:
    async def api_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return envelope(None, code=exc.code, message=exc.message, status=exc.status)

    async def oauth_failure(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, OAuthError)
        status = 200 if emulator.config.oauth_errors_http_200 else exc.status
        return oauth_error(exc.error, exc.description, status)

    async def upload_refused(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, UploadError)
        headers = {"Content-Range": exc.content_range} if exc.content_range else None
        return Response(exc.reason, status_code=exc.status, headers=headers)

    async def authorize_refused(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, AuthorizeRefused)
        return authorize.error_page(exc)

    async def state_unavailable(request: Request, _: Exception) -> Response:
        endpoint = endpoint_for(route_path(request.scope))
        family = family_of(endpoint) if endpoint else Family.API
        if family is Family.OAUTH:
            return oauth_error("temporarily_unavailable", UNAVAILABLE, 503)
        if family in (Family.UPLOAD, Family.PAGE):
            return Response(UNAVAILABLE, status_code=503, media_type="text/plain")
        return envelope(None, code="internal_error", message=UNAVAILABLE, status=503)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StateUnavailable, state_unavailable)
    app.add_exception_handler(OAuthError, oauth_failure)
    app.add_exception_handler(UploadError, upload_refused)
    app.add_exception_handler(AuthorizeRefused, authorize_refused)
