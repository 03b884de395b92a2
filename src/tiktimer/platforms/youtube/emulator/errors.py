"""The two error shapes Google answers with, raised by the routes and rendered by the app.

OAuthError   flat {"error", "error_description"} from /token and /revoke
ApiError     {"error": {"code", "message", "errors": [{domain, reason, message}]}}
"""

from __future__ import annotations

from typing import Any


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        *,
        domain: str = "global",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.reason, self.message, self.domain = status, reason, message, domain
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return api_error_body(self.status, self.reason, self.message, self.domain)


def api_error_body(status: int, reason: str, message: str, domain: str) -> dict[str, Any]:
    errors = [{"domain": domain, "reason": reason, "message": message}]
    return {"error": {"code": status, "message": message, "errors": errors}}


def invalid_grant() -> OAuthError:
    return OAuthError("invalid_grant", "Token has been expired or revoked.")


def unauthorized() -> ApiError:
    return ApiError(
        401,
        "authError",
        "Request had invalid authentication credentials.",
        headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
    )
