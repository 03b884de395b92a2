"""Post bodies. Status, owner and ids are never client input (no mass assignment)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from tiktimer.kit.schemas import DbCount, DbId, Schema, StorableTime, StrictInput

PrivacyLevel = Literal[
    "PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"
]
PostMode = Literal["direct", "inbox"]
MediaType = Literal["video", "photo"]
StatusName = Literal[
    "draft",
    "scheduled",
    "publishing",
    "published",
    "failed",
    "cancelled",
    "unconfirmed",
    "paused",
    "missed",
]
#: A week: the longest late-publish window a post may ask for.
LATE_PUBLISH_MAX_MINUTES = 7 * 24 * 60


class _PostFields(StrictInput):
    """Fields a client may set, shared by create and update."""

    content: str | None = Field(None, max_length=10_000, description="Caption (TikTok title)")
    title: str | None = Field(None, max_length=10_000, description="Photo post title")
    scheduled_time: StorableTime | None = Field(
        None,
        description="ISO 8601. With an offset it is taken as given; naive is read in the "
        "user's time zone.",
    )
    social_account_id: DbId | None = None
    post_mode: PostMode | None = None
    media_type: MediaType | None = None
    media_ids: list[str] | None = Field(None, max_length=35)
    privacy_level: PrivacyLevel | None = None
    allow_comment: bool | None = None
    allow_duet: bool | None = None
    allow_stitch: bool | None = None
    video_cover_timestamp_ms: DbCount | None = None
    photo_cover_index: DbCount | None = None
    brand_organic_toggle: bool | None = None
    brand_content_toggle: bool | None = None
    is_aigc: bool | None = None
    auto_add_music: bool | None = None
    late_publish_minutes: int | None = Field(
        None,
        ge=1,
        le=LATE_PUBLISH_MAX_MINUTES,
        description="Publish at most this many minutes late, else the post is `missed`; "
        "null: however late. Left out on create: TIKTIMER_LATE_PUBLISH_MINUTES.",
    )
    allow_duplicate: bool | None = Field(
        None, description="Schedule it although the same media and caption go to this account"
    )


class PostCreate(_PostFields):
    content: str = Field(default="", max_length=10_000, description="Caption (TikTok title)")
    scheduled_time: StorableTime
    platform: Literal["tiktok"] = "tiktok"
    media_id: str | None = Field(None, description="Shorthand for media_ids=[media_id]")
    draft: bool = Field(False, description="Save as a draft: not published, may be in the past")


class PostUpdate(_PostFields):
    draft: bool | None = Field(None, description="true: back to draft; false: schedule it")


class PostRead(Schema):
    id: int
    user_id: int
    social_account_id: int | None
    platform: str
    content: str
    title: str | None
    scheduled_time: datetime
    status: StatusName
    video_filename: str | None
    late_publish_minutes: int | None
    post_mode: PostMode
    media_type: MediaType
    media_ids: list[str]
    privacy_level: PrivacyLevel | None
    allow_comment: bool
    allow_duet: bool
    allow_stitch: bool
    video_cover_timestamp_ms: int | None
    photo_cover_index: int | None
    brand_organic_toggle: bool
    brand_content_toggle: bool
    is_aigc: bool
    auto_add_music: bool
    attempt_count: int
    last_error: str | None
    last_error_code: str | None
    next_attempt_at: datetime | None
    published_at: datetime | None
    platform_publish_id: str | None
    platform_post_id: str | None
    platform_status: str | None
    platform_fail_reason: str | None
    platform_post_ids: list[str]
    platform_log_ids: list[str] = Field(description="TikTok's log ids, for TikTok support")
    validation: dict[str, Any] = Field(
        description="The last pre-flight report: ok, errors and warnings ({field, code, "
        "message}), needs_media, needs_account, checked_at"
    )
    created_at: datetime
    updated_at: datetime
