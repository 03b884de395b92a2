"""Every Google failure as the contract's `PublishError`, with the stage it happened in.

    YouTubeError(PublishError)       kind = retry | refresh | reauthorize | reinitialize | fail
      QuotaDeferred                  kind = retry, retry_after = until midnight Pacific:
                                     the project's daily quota is spent; the post waits

Matching is on `error` (token endpoint) or `errors[0].reason` (API), never on messages
(youtube-api.md §7). The stage (token, insert, chunk, list) goes into every message, so a
user can tell a refused refresh from a refused upload (Postiz #2011).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from tiktimer.platforms.contract import ErrorKind, PublishError
from tiktimer.platforms.youtube.quota_reset import next_reset, seconds_until_reset

RETRIABLE_STATUS = frozenset({500, 502, 503, 504})
CHANNEL_CAP_SECONDS = 24 * 3600.0
RATE_LIMIT_SECONDS = 60.0
REAUTHORIZE_REASONS = frozenset({"insufficientPermissions", "youtubeSignupRequired"})
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})


class YouTubeError(PublishError):
    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        stage: str,
        status: int | None = None,
        reason: str | None = None,
        retry_after: float | None = None,
        maybe_applied: bool = False,
    ) -> None:
        super().__init__(
            kind, message, code=reason, retry_after=retry_after, maybe_applied=maybe_applied
        )
        self.stage, self.status, self.reason = stage, status, reason


class QuotaDeferred(YouTubeError):
    """The Google project's daily YouTube quota is used up: not a failure, a wait."""

    def __init__(self, *, stage: str, status: int, reason: str, now: datetime) -> None:
        resets = next_reset(now)
        super().__init__(
            ErrorKind.retry,
            "YouTube's daily quota for this Google project is used up; the upload waits "
            f"until it resets at midnight Pacific time ({resets:%Y-%m-%d %H:%M %Z}).",
            stage=stage,
            status=status,
            reason=reason,
            retry_after=seconds_until_reset(now),
        )
        self.resets_at = resets


def network_error(stage: str, error: httpx.HTTPError) -> YouTubeError:
    return YouTubeError(
        ErrorKind.retry,
        f"YouTube could not be reached ({stage}: {type(error).__name__}); trying again later.",
        stage=stage,
        maybe_applied=True,  # the request may have arrived before the connection broke
    )


def token_error(response: httpx.Response) -> YouTubeError:
    """A refusal from Google's token or revoke endpoint (flat {"error": …})."""
    status = response.status_code
    error = str(_json(response).get("error") or "")
    if status in RETRIABLE_STATUS or status == 429:
        return YouTubeError(
            ErrorKind.retry,
            "Google's sign-in service is unavailable; trying again later.",
            stage="token",
            status=status,
            reason=error or None,
            retry_after=_retry_after(response),
        )
    if error == "invalid_grant":
        return YouTubeError(
            ErrorKind.reauthorize,
            "Google no longer accepts this YouTube connection (expired or revoked); "
            "reconnect the channel.",
            stage="token",
            status=status,
            reason=error,
        )
    if error in ("invalid_client", "unauthorized_client"):
        message = "Google refused TikTimer's OAuth client; check its client id and secret."
    else:
        message = f"Google refused the sign-in request ({error or status})."
    return YouTubeError(ErrorKind.fail, message, stage="token", status=status, reason=error)


def api_error(response: httpx.Response, stage: str, now: datetime) -> YouTubeError:
    """A refusal from the YouTube Data API or the upload host (the v1 error envelope)."""
    status = response.status_code
    errors = (_json(response).get("error") or {}).get("errors") or [{}]
    reason = str(errors[0].get("reason") or "") if isinstance(errors[0], dict) else ""
    message = str((_json(response).get("error") or {}).get("message") or "")
    if reason in QUOTA_REASONS or (status == 429 and "Video Uploads" in message):
        return QuotaDeferred(
            stage=stage, status=status, reason=reason or "rateLimitExceeded", now=now
        )
    if status in RETRIABLE_STATUS:
        return _error(
            ErrorKind.retry,
            "YouTube had a server error; trying again later.",
            stage,
            status,
            reason,
        )
    if reason in ("rateLimitExceeded", "userRateLimitExceeded") or status == 429:
        retry = _retry_after(response) or RATE_LIMIT_SECONDS
        return _error(
            ErrorKind.retry,
            "YouTube asked to slow down; trying again shortly.",
            stage,
            status,
            reason,
            retry,
        )
    if reason == "uploadLimitExceeded":
        text = "This channel reached YouTube's upload limit for 24 hours; the upload waits a day."
        return _error(ErrorKind.retry, text, stage, status, reason, CHANNEL_CAP_SECONDS)
    if reason in REAUTHORIZE_REASONS:
        text = "The YouTube connection lacks a permission TikTimer needs; reconnect the channel."
        return _error(ErrorKind.reauthorize, text, stage, status, reason)
    if status == 401:
        return _error(ErrorKind.refresh, "YouTube refused the access token.", stage, status, reason)
    if status in (404, 410) and stage == "chunk":
        text = "YouTube's upload session expired; the upload starts again in a new session."
        return _error(ErrorKind.reinitialize, text, stage, status, reason)
    return _error(
        ErrorKind.fail, f"YouTube refused the video ({reason or status}).", stage, status, reason
    )


def _error(
    kind: ErrorKind,
    message: str,
    stage: str,
    status: int,
    reason: str,
    retry_after: float | None = None,
) -> YouTubeError:
    return YouTubeError(
        kind, message, stage=stage, status=status, reason=reason or None, retry_after=retry_after
    )


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None
