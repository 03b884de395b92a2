"""Reads TikTok's answers: its two error shapes, log ids, ``Retry-After``, and the models.

Every parse failure becomes a typed error that names fields only, never their (possibly
secret) values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from tiktimer.platforms.tiktok.errors import TikTokNetworkError, TikTokUnexpectedResponse

_M = TypeVar("_M", bound=BaseModel)


def json_body(response: httpx.Response) -> Any:
    """The JSON body (ints stay exact: stdlib ``json``), or None if absent/invalid."""
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def text(value: Any) -> str | None:
    """``value`` if it is a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def find_error(body: Any) -> tuple[str, str | None] | None:
    """``(code, message)`` from either error shape, or None when the body says ok."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, str) and error:  # OAuth: {"error", "error_description", "log_id"}
        return error, text(body.get("error_description"))
    if isinstance(error, dict):  # data API: {"data", "error": {"code", "message", "log_id"}}
        code = text(error.get("code"))
        if code and code != "ok":
            return code, text(error.get("message"))
    return None


def log_id_of(body: Any, response: httpx.Response) -> str | None:
    """TikTok's request id, from the body or the ``x-tt-logid`` header."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and text(error.get("log_id")):
            return str(error["log_id"])
        if text(body.get("log_id")):
            return str(body["log_id"])
    return response.headers.get("x-tt-logid") or None


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the ``Retry-After`` header asks for (delta or HTTP date), or None."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def envelope_data(
    body: Any, response: httpx.Response, endpoint: str
) -> tuple[dict[str, Any], str | None]:
    """``data`` of a ``{data, error}`` envelope whose ``error.code`` is ``ok``."""
    log_id = log_id_of(body, response)
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or error.get("code") != "ok":
        raise TikTokUnexpectedResponse(
            f"{endpoint} response without the error.code=ok envelope",
            code="unexpected_response",
            log_id=log_id,
            http_status=response.status_code,
        )
    data = body.get("data")
    if data is None:
        return {}, log_id
    if not isinstance(data, dict):
        raise TikTokUnexpectedResponse(
            f"{endpoint} response data is not an object",
            code="unexpected_response",
            log_id=log_id,
        )
    return data, log_id


def parse(model: type[_M], payload: Mapping[str, Any], *, endpoint: str, log_id: str | None) -> _M:
    """``payload`` as ``model``, or a typed error naming the bad fields."""
    try:
        return model.model_validate({**payload, "log_id": log_id})
    except ValidationError as exc:
        # Only field names: pydantic's own message would echo the (secret) input.
        fields = sorted(
            {".".join(str(p) for p in e["loc"]) for e in exc.errors(include_input=False)}
        )
    # Raised outside the except block so the ValidationError is not even its __context__.
    raise TikTokUnexpectedResponse(
        f"unexpected {endpoint} response: invalid or missing {', '.join(fields)}",
        code="unexpected_response",
        log_id=log_id,
    )


def network_error(
    exc: httpx.RequestError, endpoint: str, *, idempotent: bool
) -> TikTokNetworkError:
    """The typed error for a transport failure, saying whether TikTok may have acted."""
    # Failing to connect means nothing was sent; any later failure may have been applied.
    not_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    return TikTokNetworkError(
        f"network error calling TikTok {endpoint}: {type(exc).__name__}",
        code="timeout" if isinstance(exc, httpx.TimeoutException) else "network_error",
        maybe_applied=not idempotent and not not_sent,
    )
