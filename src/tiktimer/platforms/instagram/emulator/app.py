"""`create_emulator_app`: the strict Instagram emulator as one ASGI app serving every
host's paths (www/api.instagram.com's OAuth, graph.instagram.com). Standalone for now;
mounting it in the sandbox (shared, persisted state) comes with a persisted store."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from .config import EmulatorConfig
from .emulator import Emulator
from .errors import AuthorizeRefused, GraphError
from .middleware import EmulatorMiddleware
from .routes import graph, oauth, rupload
from .store import StateStore


def create_emulator_app(
    config: EmulatorConfig | None = None, *, store: StateStore | None = None
) -> FastAPI:
    emulator = Emulator(config, store)
    app = FastAPI(title="Instagram emulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.emulator = emulator
    app.include_router(oauth.router)
    app.include_router(rupload.router)
    app.include_router(graph.router)  # last: its catch-all path takes what is left

    async def graph_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, GraphError)
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    async def authorize_refused(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, AuthorizeRefused)
        return HTMLResponse(f"<!doctype html><p>{exc.reason}</p>", status_code=400)

    app.add_exception_handler(GraphError, graph_error)
    app.add_exception_handler(AuthorizeRefused, authorize_refused)
    app.add_middleware(EmulatorMiddleware, emulator=emulator)
    return app
