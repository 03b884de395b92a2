"""The fixed vocabularies of the Content Posting API (reference §4, §6.3)."""

from __future__ import annotations

from enum import StrEnum


class PrivacyLevel(StrEnum):
    PUBLIC_TO_EVERYONE = "PUBLIC_TO_EVERYONE"
    MUTUAL_FOLLOW_FRIENDS = "MUTUAL_FOLLOW_FRIENDS"
    FOLLOWER_OF_CREATOR = "FOLLOWER_OF_CREATOR"
    SELF_ONLY = "SELF_ONLY"


PUBLIC_ACCOUNT_OPTIONS = (
    PrivacyLevel.PUBLIC_TO_EVERYONE,
    PrivacyLevel.MUTUAL_FOLLOW_FRIENDS,
    PrivacyLevel.SELF_ONLY,
)
PRIVATE_ACCOUNT_OPTIONS = (
    PrivacyLevel.FOLLOWER_OF_CREATOR,
    PrivacyLevel.MUTUAL_FOLLOW_FRIENDS,
    PrivacyLevel.SELF_ONLY,
)


class PublishStatus(StrEnum):
    PROCESSING_UPLOAD = "PROCESSING_UPLOAD"
    PROCESSING_DOWNLOAD = "PROCESSING_DOWNLOAD"
    SEND_TO_USER_INBOX = "SEND_TO_USER_INBOX"
    PUBLISH_COMPLETE = "PUBLISH_COMPLETE"
    FAILED = "FAILED"


IN_FLIGHT_STATUSES = frozenset({PublishStatus.PROCESSING_UPLOAD, PublishStatus.PROCESSING_DOWNLOAD})


class PostMode(StrEnum):
    """Where a post lands: published directly, or sent to the creator's inbox as a draft."""

    DIRECT_POST = "DIRECT_POST"
    MEDIA_UPLOAD = "MEDIA_UPLOAD"


class Source(StrEnum):
    FILE_UPLOAD = "FILE_UPLOAD"
    PULL_FROM_URL = "PULL_FROM_URL"


class MediaType(StrEnum):
    VIDEO = "VIDEO"
    PHOTO = "PHOTO"


class FailReason(StrEnum):
    FILE_FORMAT_CHECK_FAILED = "file_format_check_failed"
    DURATION_CHECK_FAILED = "duration_check_failed"
    FRAME_RATE_CHECK_FAILED = "frame_rate_check_failed"
    PICTURE_SIZE_CHECK_FAILED = "picture_size_check_failed"
    INTERNAL = "internal"
    VIDEO_PULL_FAILED = "video_pull_failed"
    PHOTO_PULL_FAILED = "photo_pull_failed"
    PUBLISH_CANCELLED = "publish_cancelled"
    AUTH_REMOVED = "auth_removed"
    SPAM_RISK_TOO_MANY_POSTS = "spam_risk_too_many_posts"
    SPAM_RISK_USER_BANNED_FROM_POSTING = "spam_risk_user_banned_from_posting"
    SPAM_RISK_TEXT = "spam_risk_text"
    SPAM_RISK = "spam_risk"
