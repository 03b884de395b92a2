"""Errors that carry their HTTP status; one handler renders them all as `{"detail": …}`.

TiktimerError
├── BadRequest (400)
├── Unauthorized (401, with WWW-Authenticate: Bearer)
├── Forbidden (403)
├── NotFound (404)
├── Conflict (409)
├── PayloadTooLarge (413)
├── Unprocessable (422)
└── TooManyRequests (429, with Retry-After)
"""

from __future__ import annotations

from typing import Any


class TiktimerError(Exception):
    status_code = 500
    headers: dict[str, str] | None = None

    def __init__(self, detail: Any = None) -> None:
        self.detail = detail if detail is not None else self.default_detail
        super().__init__(str(self.detail))

    default_detail: Any = "Internal server error"


class BadRequest(TiktimerError):
    status_code = 400
    default_detail = "Bad request"


class Unauthorized(TiktimerError):
    status_code = 401
    default_detail = "Could not validate credentials"
    headers = {"WWW-Authenticate": "Bearer"}


class Forbidden(TiktimerError):
    status_code = 403
    default_detail = "Forbidden"


class NotFound(TiktimerError):
    status_code = 404
    default_detail = "Not found"


class Conflict(TiktimerError):
    status_code = 409
    default_detail = "Conflict"


class PayloadTooLarge(TiktimerError):
    status_code = 413
    default_detail = "Payload too large"


class Unprocessable(TiktimerError):
    status_code = 422
    default_detail = "Unprocessable entity"


class TooManyRequests(TiktimerError):
    status_code = 429
    default_detail = "Too many requests"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many requests; try again in {retry_after} seconds")
        self.headers = {"Retry-After": str(retry_after)}
