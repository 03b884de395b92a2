"""Refusals in the three shapes TikTok uses: API envelope, flat OAuth error, bare upload status.

Routes raise these; the app's exception handlers render them (see `responses`).
"""

from __future__ import annotations

# HTTP status of each documented `error.code` (reference §6.2); creator_info overrides the
# 403s with 200 on purpose.
API_ERROR_STATUS: dict[str, int] = {
    "access_token_invalid": 401,
    "scope_not_authorized": 401,
    "scope_permission_missed": 400,
    "invalid_params": 400,
    "invalid_param": 400,
    "invalid_file_upload": 400,
    "rate_limit_exceeded": 429,
    "internal_error": 500,
    "spam_risk_too_many_posts": 403,
    "spam_risk_user_banned_from_posting": 403,
    "spam_risk_too_many_pending_share": 403,
    "reached_active_user_cap": 403,
    "unaudited_client_can_only_post_to_private_accounts": 403,
    "url_ownership_unverified": 403,
    "privacy_level_option_mismatch": 403,
    "app_version_check_failed": 400,
    "invalid_publish_id": 400,
    "token_not_authorized_for_specified_publish_id": 400,
    "publish_not_cancellable": 400,
}

OAUTH_ERROR_STATUS: dict[str, int] = {
    "access_denied": 403,
    "invalid_client": 401,
    "invalid_grant": 400,
    "invalid_request": 400,
    "invalid_scope": 400,
    "unauthorized_client": 400,
    "unsupported_grant_type": 400,
    "unsupported_response_type": 400,
}


class ApiError(Exception):
    """A `{data: {}, error: {code, message, log_id}}` response."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status if status is not None else API_ERROR_STATUS.get(code, 400)


class OAuthError(Exception):
    """A flat `{error, error_description, log_id}` response from the OAuth endpoints."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = OAUTH_ERROR_STATUS.get(error, 400)


class UploadError(Exception):
    """A bare status from the upload host (§5.3), with the progress header when known."""

    def __init__(self, status: int, reason: str, content_range: str | None = None) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason
        self.content_range = content_range


class AuthorizeRefused(Exception):
    """TikTok shows its own error page instead of redirecting (bad client, redirect_uri…)."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


class NotFoundError(LookupError):
    """An admin or test-hook lookup for something the emulator does not have."""


MISSING_PARAMETER = "The request is missing a required parameter."
MALFORMED_PARAMETERS = "The request parameters are malformed."
BAD_PKCE = "Code verifier or code challenge is invalid."
CHUNK_SIZE_INVALID = "The chunk size is invalid"
