"""Every error is JSON with `detail`; internals never leave the server."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tiktimer.browser.headers import base_headers
from tiktimer.db.availability import DATABASE_ERROR_TYPES, database_unavailable
from tiktimer.errors import TiktimerError
from tiktimer.inputs.errors import JSON_TOO_DEEP, bounded_errors, path_id_not_found
from tiktimer.logging import request_id_var
from tiktimer.storage import InvalidRange, ObjectNotFound, StorageError

log = logging.getLogger("tiktimer.errors")
DATABASE_RETRY_AFTER_SECONDS = 5
STORAGE_RETRY_AFTER_SECONDS = 30


async def _tiktimer_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TiktimerError)
    detail = exc.detail
    if exc.status_code == 422 and isinstance(detail, list):
        detail = bounded_errors(detail)
    return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    not_found = path_id_not_found(errors)  # an id in the path that cannot exist
    if not_found is not None:
        return JSONResponse({"detail": not_found}, status_code=404)
    # A bounded excerpt: loc, msg and type only (inputs may be passwords), cut short.
    return JSONResponse({"detail": bounded_errors(errors)}, status_code=422)


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
        # uvicorn closes the connection after an unhandled exception: say so to the client.
        headers={"X-Request-ID": request_id, "Connection": "close", **dict(base_headers())},
    )


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """The database is away (restart, failover, full pool): 503, the client may retry."""
    if not database_unavailable(exc):
        raise exc  # a bug: on to the 500 handler, as if this one did not exist
    log.warning(
        "request.db_unavailable method=%s path=%s error=%s",
        request.method,
        request.url.path,
        type(exc).__name__,
    )
    return JSONResponse(
        {"detail": "The database is unavailable right now; try again in a few seconds"},
        status_code=503,
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


async def _storage_error(request: Request, exc: Exception) -> JSONResponse:
    """The media store (S3, disk) failed: 503, nothing was recorded; the client may retry."""
    if isinstance(exc, (ObjectNotFound, InvalidRange)):  # answered where they are raised
        raise exc
    log.warning(
        "request.storage_unavailable method=%s path=%s error=%s",
        request.method,
        request.url.path,
        exc,
    )
    return JSONResponse(
        {"detail": "Media storage is unavailable right now; nothing was saved, try again later"},
        status_code=503,
        headers={"Retry-After": str(STORAGE_RETRY_AFTER_SECONDS)},
    )


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, RecursionError):
        # FastAPI's "error parsing the body" for JSON nested deeper than json.loads goes.
        return JSONResponse({"detail": [JSON_TOO_DEEP]}, status_code=422)
    return JSONResponse(
        {"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None)
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(TiktimerError, _tiktimer_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # Handled inside the app (not by the outermost 500 handler), so the connection stays usable.
    for error_type in DATABASE_ERROR_TYPES:
        app.add_exception_handler(error_type, _database_error)
    app.add_exception_handler(StorageError, _storage_error)
    app.add_exception_handler(Exception, _unhandled)
