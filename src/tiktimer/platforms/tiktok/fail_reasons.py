"""TikTok's `fail_reason` values (reference §6.3) in words a creator understands.

The same words serve the status poll and the `post.publish.failed` webhook. Reasons TikTok
calls retryable (`internal`, the pull failures) start the upload over; `auth_removed`
needs the account's owner; every other reason is final for this post.
"""

from __future__ import annotations

from tiktimer.platforms.tiktok.errors import TikTokAction, fail_reason_action

_MEDIA = "TikTok could not accept the media"
_WORDS: dict[str, str] = {
    "file_format_check_failed": f"{_MEDIA}: its file format is not supported. Use an MP4 "
    "(H.264) video or JPEG/WebP photos.",
    "duration_check_failed": f"{_MEDIA}: the video is too long or too short for this creator.",
    "frame_rate_check_failed": f"{_MEDIA}: the frame rate must be between 23 and 60 fps.",
    "picture_size_check_failed": f"{_MEDIA}: the picture size is outside TikTok's limits "
    "(videos 360-4096 px a side, photos up to 1080p).",
    "internal": "TikTok had an internal problem processing the post; it is uploaded again.",
    "video_pull_failed": "TikTok could not download the video from TikTimer in time; it "
    "is uploaded again.",
    "photo_pull_failed": "TikTok could not download the photos from TikTimer's public media "
    "address in time; check that TIKTIMER_MEDIA_PUBLIC_URL is reachable from the internet.",
    "publish_cancelled": "The upload was cancelled before TikTok finished it.",
    "auth_removed": "The creator removed TikTimer's access to the TikTok account while the "
    "post was processing; reconnect the account, then schedule the post again.",
    "spam_risk_too_many_posts": "The creator reached TikTok's daily limit of posts; schedule "
    "it again tomorrow.",
    "spam_risk_user_banned_from_posting": "TikTok has banned this account from posting.",
    "spam_risk_text": "TikTok judged the caption as spam; change the caption before trying again.",
    "spam_risk": "TikTok judged this post as risky and refused it.",
}


def describe(fail_reason: str | None) -> str:
    """One sentence for the post's `last_error`."""
    if not fail_reason:
        return "TikTok refused the post without giving a reason."
    return _WORDS.get(fail_reason) or f"TikTok refused the post (reason: {fail_reason})."


def retryable(fail_reason: str | None) -> bool:
    """TikTok-side failures worth a new upload (`internal`, video/photo pull failures)."""
    return fail_reason_action(fail_reason) is TikTokAction.RETRY


def account_gone(fail_reason: str | None) -> bool:
    return fail_reason_action(fail_reason) is TikTokAction.REAUTHORIZE
