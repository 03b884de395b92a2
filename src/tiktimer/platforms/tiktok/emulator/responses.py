"""Response bodies in TikTok's shapes, each carrying a `log_id` and the `x-tt-logid` header."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from . import ids


def envelope(
    data: dict[str, Any] | None,
    *,
    code: str = "ok",
    message: str = "",
    status: int = 200,
    include_data: bool = True,
) -> JSONResponse:
    """`{"data": …, "error": {"code", "message", "log_id"}}`; `data` is `{}` on errors."""
    log_id = ids.log_id()
    body: dict[str, Any] = {}
    if include_data:
        body["data"] = data if data is not None else {}
    body["error"] = {"code": code, "message": message, "log_id": log_id}
    return JSONResponse(body, status_code=status, headers={"x-tt-logid": log_id})


def oauth_error(error: str, description: str, status: int) -> JSONResponse:
    """The flat OAuth error: `{"error", "error_description", "log_id"}`."""
    log_id = ids.log_id()
    body = {"error": error, "error_description": description, "log_id": log_id}
    return JSONResponse(body, status_code=status, headers={"x-tt-logid": log_id})


def oauth_ok(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, headers={"x-tt-logid": ids.log_id(), "Cache-Control": "no-store"})
