"""TikTok client errors → `PublishError` kinds, with messages written for the creator.

TikTokRetryableError (5xx, 429, network)  → retry (retry_after, maybe_applied kept)
TikTokTokenExpired                        → refresh
TikTokReauthorizeRequired, AccountUnusable → reauthorize
TikTokReinitRequired (upload URL 403/404) → reinitialize
TikTokRejected (invalid_param(s), caps…)  → fail
"""

from __future__ import annotations

from tiktimer.platforms.contract import ErrorKind, PublishError
from tiktimer.platforms.tiktok.errors import (
    TikTokError,
    TikTokReauthorizeRequired,
    TikTokReinitRequired,
    TikTokRejected,
    TikTokRetryableError,
    TikTokTokenExpired,
)
from tiktimer.platforms.tokens import AccountUnusable

_FIELD = "TikTok refused a setting of the post"
# What the creator reads in `last_error`, per TikTok error code (reference §6.2).
_REJECTIONS: dict[str, str] = {
    "invalid_param": f"{_FIELD}: {{detail}}",
    "invalid_params": f"{_FIELD}: {{detail}}",
    "spam_risk_too_many_posts": "The creator reached TikTok's daily limit of posts; "
    "schedule it again tomorrow.",
    "spam_risk_user_banned_from_posting": "TikTok has banned this account from posting.",
    "spam_risk_too_many_pending_share": "Too many drafts are waiting in the creator's TikTok "
    "inbox; post or delete some of them in the TikTok app first.",
    "reached_active_user_cap": "This TikTok app reached its daily limit of posting "
    "accounts; try again tomorrow.",
    "unaudited_client_can_only_post_to_private_accounts": "Until TikTok audits this app, "
    "the TikTok account itself must be private to post through it; make the account "
    "private in the TikTok app.",
    "url_ownership_unverified": "TikTok refused to fetch the media: the public media "
    "address is not verified for this app in TikTok's developer portal.",
    "privacy_level_option_mismatch": "TikTok no longer offers the chosen privacy level to "
    "this creator; choose it again.",
    "app_version_check_failed": "The creator's TikTok app is too old to receive drafts; "
    "they need to update it.",
}


def publish_error(exc: TikTokError | AccountUnusable, *, step: str) -> PublishError:
    """The `PublishError` for a failed TikTok call made while `step` (e.g. "init")."""
    if isinstance(exc, AccountUnusable):
        return PublishError(
            ErrorKind.reauthorize,
            f"The TikTok account must be reconnected: {exc.reason}.",
            code="account_unusable",
        )
    if isinstance(exc, TikTokRetryableError):
        return PublishError(
            ErrorKind.retry,
            f"TikTok is unavailable right now ({step}); trying again later.",
            code=exc.code,
            log_id=exc.log_id,
            retry_after=exc.retry_after,
            maybe_applied=exc.maybe_applied,
        )
    kind, message = _kind_and_message(exc)
    return PublishError(kind, message, code=exc.code, log_id=exc.log_id)


def _kind_and_message(exc: TikTokError) -> tuple[ErrorKind, str]:
    if isinstance(exc, TikTokTokenExpired):
        return ErrorKind.refresh, "The TikTok access token expired."
    if isinstance(exc, TikTokReauthorizeRequired):
        return (
            ErrorKind.reauthorize,
            "TikTok no longer accepts this account's permissions; reconnect the account.",
        )
    if isinstance(exc, TikTokReinitRequired):
        return ErrorKind.reinitialize, "TikTok's upload session ended; the upload starts over."
    return ErrorKind.fail, rejection_message(exc)


def rejection_message(exc: TikTokError) -> str:
    template = _REJECTIONS.get(exc.code or "")
    if template is not None:
        return template.format(detail=exc.message)
    hint = exc.hint if isinstance(exc, TikTokRejected) else None
    return f"TikTok refused the post: {exc.message}" + (f" ({hint})" if hint else "")
