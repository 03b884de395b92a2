"""Every error is JSON with `detail`; internals never leave the server."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tiktimer.errors import TiktimerError
from tiktimer.logging import request_id_var

log = logging.getLogger("tiktimer.errors")


async def _tiktimer_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TiktimerError)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for error in exc.errors():
        item = {
            "loc": list(error.get("loc", ())),
            "msg": error.get("msg"),
            "type": error.get("type"),
        }
        errors.append(item)  # input values are left out: they may be passwords
    return JSONResponse({"detail": errors}, status_code=422)


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    request_id = getattr(request.state, "request_id", None) or request_id_var.get()
    token = request_id_var.set(request_id)
    log.error(
        "request.unhandled method=%s path=%s error=%s",
        request.method,
        request.url.path,
        type(exc).__name__,
        exc_info=exc,
    )
    request_id_var.reset(token)
    # This response is built outside the request-id middleware, so the header is set here.
    return JSONResponse(
        {"detail": "Internal server error", "request_id": request_id},
        status_code=500,
        headers={"X-Request-ID": request_id},
    )


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse(
        {"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None)
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(TiktimerError, _tiktimer_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unhandled)
