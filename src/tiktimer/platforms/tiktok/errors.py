"""Typed errors raised by the TikTok client.

Every error tells the caller what to do next through its ``action``::

    TikTokError                          (base; action, code, log_id, http_status)
    ├── TikTokRetryableError             action=RETRY; retry_after, maybe_applied
    │   ├── TikTokRateLimited            429 / rate_limit_exceeded
    │   ├── TikTokServerError            5xx / internal_error
    │   └── TikTokNetworkError           connect/read/write errors and timeouts
    ├── TikTokTokenExpired               action=REFRESH_TOKEN (access_token_invalid)
    ├── TikTokReauthorizeRequired        action=REAUTHORIZE (invalid_grant, missing scopes, ...)
    ├── TikTokReinitRequired             action=REINITIALIZE (upload URL expired/unknown, lost sync)
    └── TikTokRejected                   action=GIVE_UP; code + human message + hint
        ├── TikTokLimitReached           daily/pending caps: give up for now, not a bug
        ├── TikTokUnexpectedResponse     body TikTok should never send (protocol drift)
        └── TikTokUploadSourceError      read_range yielded the wrong number of bytes

Messages are built only from TikTok's ``error``/``message`` text and our own wording;
they never contain tokens, secrets, authorization codes or upload URLs.
"""

from __future__ import annotations

import enum
from typing import TypedDict, Unpack

__all__ = [
    "TikTokAction",
    "TikTokError",
    "TikTokLimitReached",
    "TikTokNetworkError",
    "TikTokRateLimited",
    "TikTokReauthorizeRequired",
    "TikTokReinitRequired",
    "TikTokRejected",
    "TikTokRetryableError",
    "TikTokServerError",
    "TikTokTokenExpired",
    "TikTokUnexpectedResponse",
    "TikTokUploadSourceError",
    "error_for_code",
    "fail_reason_action",
]

# The documented window of every TikTok rate limit is a sliding minute: once 60 s have
# passed, every earlier request has left the window, so this wait is always enough.
RATE_LIMIT_WINDOW_SECONDS = 60.0


class TikTokAction(enum.StrEnum):
    """What the caller should do about a failed TikTok call."""

    RETRY = "retry"
    """Transient: try the same call again later (after ``retry_after`` when set)."""
    REFRESH_TOKEN = "refresh_token"
    """The access token is no longer valid: refresh it once, then retry the call."""
    REAUTHORIZE = "reauthorize"
    """The user must connect the account again (consent page)."""
    REINITIALIZE = "reinitialize"
    """The upload task is gone: start a new init to get a fresh ``upload_url``."""
    GIVE_UP = "give_up"
    """Retrying will not help: record the failure and tell the user ``message``."""


class TikTokError(Exception):
    """Base class of every error raised by :mod:`tiktimer.platforms.tiktok`."""

    action: TikTokAction = TikTokAction.GIVE_UP

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        log_id: str | None = None,
        http_status: int | None = None,
        uploaded_bytes: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        """TikTok's error code (``error.code`` or OAuth ``error``), or our own label."""
        self.log_id = log_id
        """TikTok's ``log_id`` (body or ``x-tt-logid`` header); quote it to TikTok support."""
        self.http_status = http_status
        self.uploaded_bytes = uploaded_bytes
        """Set by ``upload_file``: bytes TikTok confirmed before the failure."""

    def __str__(self) -> str:
        parts = [self.message]
        if self.code:
            parts.append(f"code={self.code}")
        if self.http_status is not None:
            parts.append(f"http_status={self.http_status}")
        if self.log_id:
            parts.append(f"log_id={self.log_id}")
        return " ".join(parts) if len(parts) == 1 else f"{parts[0]} ({', '.join(parts[1:])})"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, code={self.code!r}, log_id={self.log_id!r})"
        )


class ErrorDetails(TypedDict, total=False):
    """What TikTok said about a failure, as the subclasses pass it on."""

    code: str | None
    log_id: str | None
    http_status: int | None
    uploaded_bytes: int | None


class TikTokRetryableError(TikTokError):
    """A transient failure: the same call may succeed later."""

    action = TikTokAction.RETRY

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        maybe_applied: bool = False,
        **details: Unpack[ErrorDetails],
    ) -> None:
        super().__init__(message, **details)
        self.retry_after = retry_after
        """Seconds to wait before retrying, when TikTok (or its documented window) says so."""
        self.maybe_applied = maybe_applied
        """True when a non-idempotent call (init, token exchange/refresh, revoke, cancel)
        may have taken effect before failing: a blind retry can create a duplicate post or
        use a refresh token that was already rotated."""


class TikTokRateLimited(TikTokRetryableError):
    """HTTP 429 / ``rate_limit_exceeded`` (sliding one-minute windows, see reference §7)."""


class TikTokServerError(TikTokRetryableError):
    """HTTP 5xx / ``internal_error`` on TikTok's side."""


class TikTokNetworkError(TikTokRetryableError):
    """No usable response: connection failure, timeout, broken connection."""


class TikTokTokenExpired(TikTokError):
    """``access_token_invalid``: refresh the access token once, then retry."""

    action = TikTokAction.REFRESH_TOKEN


class TikTokReauthorizeRequired(TikTokError):
    """The grant is unusable (revoked, expired refresh token, scopes missing)."""

    action = TikTokAction.REAUTHORIZE


class TikTokReinitRequired(TikTokError):
    """The upload task behind ``upload_url`` is expired, unknown or out of reach."""

    action = TikTokAction.REINITIALIZE


class TikTokRejected(TikTokError):
    """TikTok refused the request for a reason retrying will not fix."""

    action = TikTokAction.GIVE_UP

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        **details: Unpack[ErrorDetails],
    ) -> None:
        super().__init__(message, **details)
        self.hint = hint
        """What a human can do about it (shown to the user / operator)."""


class TikTokLimitReached(TikTokRejected):
    """A business cap (daily posts, active users, pending drafts): not now, maybe later."""


class TikTokUnexpectedResponse(TikTokRejected):
    """A response that does not follow the documented shape."""


class TikTokUploadSourceError(TikTokRejected):
    """``read_range`` produced more or fewer bytes than the chunk plan asked for."""


_Factory = tuple[type[TikTokError], str]

# Every code of reference §6.2 plus the OAuth ``error`` values of §1.8. The text is the
# hint: what to do about it.
_CODES: dict[str, _Factory] = {
    # §6.2 data API codes
    "access_token_invalid": (TikTokTokenExpired, "refresh the access token once, then retry"),
    "scope_not_authorized": (
        TikTokReauthorizeRequired,
        "the user did not grant a required scope; connect the account again",
    ),
    "scope_permission_missed": (
        TikTokReauthorizeRequired,
        "some requested fields need scopes the user did not grant; connect again",
    ),
    "invalid_params": (TikTokRejected, "a request field is invalid; see the message"),
    "invalid_param": (TikTokRejected, "a request field is invalid; see the message"),
    "invalid_file_upload": (TikTokRejected, "the upload request is invalid"),
    "rate_limit_exceeded": (TikTokRateLimited, "wait for the one-minute window to pass"),
    "internal_error": (TikTokServerError, "TikTok-side error; retry later"),
    "spam_risk_too_many_posts": (
        TikTokLimitReached,
        "the creator reached TikTok's daily post cap; try again tomorrow",
    ),
    "spam_risk_user_banned_from_posting": (
        TikTokRejected,
        "TikTok banned this creator from posting",
    ),
    "spam_risk_too_many_pending_share": (
        TikTokLimitReached,
        "too many drafts wait in the creator's inbox; they must post or delete some first",
    ),
    "reached_active_user_cap": (
        TikTokLimitReached,
        "this app reached its daily cap of posting users; try again tomorrow",
    ),
    "unaudited_client_can_only_post_to_private_accounts": (
        TikTokRejected,
        "unaudited app: the TikTok account must be private (or the app must pass audit)",
    ),
    "url_ownership_unverified": (
        TikTokRejected,
        "the media URL's domain or prefix is not verified in the TikTok developer portal",
    ),
    "privacy_level_option_mismatch": (
        TikTokRejected,
        "the privacy level is not offered to this creator; query creator info and choose again",
    ),
    "app_version_check_failed": (
        TikTokRejected,
        "the creator's TikTok app is too old for drafts; they must update it",
    ),
    "invalid_publish_id": (TikTokRejected, "unknown publish_id"),
    "token_not_authorized_for_specified_publish_id": (
        TikTokRejected,
        "this publish_id belongs to another user",
    ),
    "publish_not_cancellable": (TikTokRejected, "the publish can no longer be cancelled"),
    # §1.8 OAuth codes
    "invalid_grant": (
        TikTokReauthorizeRequired,
        "the code or refresh token is invalid, expired, revoked or already used; "
        "connect the account again",
    ),
    "access_denied": (TikTokReauthorizeRequired, "the user did not give consent"),
    "invalid_client": (TikTokRejected, "check the client key and client secret"),
    "invalid_request": (TikTokRejected, "the OAuth request is malformed (client bug)"),
    "invalid_scope": (TikTokRejected, "a requested scope is not approved for this app"),
    "unauthorized_client": (TikTokRejected, "this app may not use this grant type"),
    "unsupported_grant_type": (TikTokRejected, "unsupported grant_type (client bug)"),
    "unsupported_response_type": (TikTokRejected, "unsupported response_type (client bug)"),
}

KNOWN_ERROR_CODES: frozenset[str] = frozenset(_CODES)


def error_for_code(
    code: str | None,
    message: str | None,
    *,
    http_status: int | None = None,
    log_id: str | None = None,
    retry_after: float | None = None,
    maybe_applied: bool = False,
) -> TikTokError:
    """Build the typed error for a TikTok error ``code`` and/or HTTP status.

    A known code decides the class; otherwise the HTTP status does (429 → rate limited,
    5xx/408 → server error, 401 → token expired, anything else → rejected).
    """
    text = (message or "").strip() or (code or f"HTTP {http_status}")
    cls: type[TikTokError]
    hint: str | None
    if code in _CODES:
        cls, hint = _CODES[code]
    elif http_status == 429:
        cls, hint = TikTokRateLimited, "wait before retrying"
    elif http_status is not None and (http_status >= 500 or http_status == 408):
        cls, hint = TikTokServerError, "TikTok-side error; retry later"
    elif http_status == 401:
        cls, hint = TikTokTokenExpired, "refresh the access token once, then retry"
    else:
        cls, hint = TikTokRejected, None
    if cls is TikTokRateLimited and retry_after is None:
        retry_after = RATE_LIMIT_WINDOW_SECONDS
    if issubclass(cls, TikTokRetryableError):
        return cls(
            text,
            retry_after=retry_after,
            # 429 means TikTok refused before doing anything.
            maybe_applied=maybe_applied and cls is not TikTokRateLimited,
            code=code,
            log_id=log_id,
            http_status=http_status,
        )
    if issubclass(cls, TikTokRejected):
        return cls(text, hint=hint, code=code, log_id=log_id, http_status=http_status)
    return cls(text, code=code, log_id=log_id, http_status=http_status)


# Reference §6.3. Anything not listed (or new) is final.
_FAIL_REASON_ACTIONS: dict[str, TikTokAction] = {
    "internal": TikTokAction.RETRY,
    "video_pull_failed": TikTokAction.RETRY,
    "photo_pull_failed": TikTokAction.RETRY,
    "auth_removed": TikTokAction.REAUTHORIZE,
}


def fail_reason_action(fail_reason: str | None) -> TikTokAction:
    """What to do about a ``FAILED`` publish with this ``fail_reason`` (reference §6.3).

    ``internal`` and the pull failures are retryable (a new init; check the media URL is
    still reachable for pulls); ``auth_removed`` means the user disconnected the app;
    format, duration, spam and cancellation reasons are final.
    """
    return _FAIL_REASON_ACTIONS.get(fail_reason or "", TikTokAction.GIVE_UP)
