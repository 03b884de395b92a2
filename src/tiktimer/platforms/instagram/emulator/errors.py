"""Graph API errors in the §10.1 envelope: `type`, `code`, `error_subcode`, `is_transient`.

Match on (code, subcode); messages follow Meta's wording where the reference quotes it.
Codes the reference leaves UNCONFIRMED are the emulator's choice and say so here.
"""

from __future__ import annotations

from typing import Any

from . import ids

# Codes Meta documents as transient (server errors, download timeouts).
_TRANSIENT_CODES = frozenset({-2, -1, 1, 2})

# Codes of our own choosing where the reference is silent (UNCONFIRMED there).
CONTAINER_CAP_CODE = 9  # §13.8: the 400-containers-per-24-h limit
TOKEN_TOO_NEW_CODE = 100  # refresh of a long-lived token younger than 24 h
PERMISSION_CODE = 10  # §10.2: permission missing, personal account


class GraphError(Exception):
    """One refusal, rendered by the app as the envelope with HTTP `status`."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        status: int = 400,
        error_type: str = "OAuthException",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.subcode = subcode
        self.message = message
        self.status = status
        self.error_type = error_type
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.subcode, self.error_type)


def error_body(
    code: int, message: str, subcode: int | None = None, error_type: str = "OAuthException"
) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": error_type, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["is_transient"] = code in _TRANSIENT_CODES
    error["fbtrace_id"] = ids.trace_id()
    return {"error": error}


def invalid_parameter(message: str, subcode: int | None = None) -> GraphError:
    return GraphError(100, message, subcode=subcode)


def expired_token() -> GraphError:
    return GraphError(190, "Error validating access token: Session has expired.", subcode=463)


def invalid_token() -> GraphError:
    return GraphError(190, "Invalid OAuth access token - Cannot parse access token", subcode=467)


class AuthorizeRefused(Exception):
    """The authorize request is wrong before any redirect can be trusted: an error page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
