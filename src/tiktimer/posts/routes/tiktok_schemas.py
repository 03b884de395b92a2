"""What the publishing API shows: pre-flight reports and what the composer needs (§8.3)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from tiktimer.kit.schemas import Schema
from tiktimer.media.verdict import MAX_PHOTOS_PER_POST
from tiktimer.platforms.tiktok.preflight import (
    PHOTO_DESCRIPTION_MAX,
    PHOTO_TITLE_MAX,
    VIDEO_CAPTION_MAX,
    PreflightReport,
)


class IssueRead(Schema):
    field: str = Field(description="The request field to change")
    code: str = Field(description="Stable machine-readable reason")
    message: str = Field(description="One plain sentence for the user")


class PreflightReportRead(Schema):
    ok: bool = Field(description="Publishable as it stands")
    errors: list[IssueRead]
    warnings: list[IssueRead]
    needs_media: bool = Field(description="Saved, but no media yet: it cannot publish")
    needs_account: bool = Field(description="Saved, but no TikTok account chosen yet")
    checked_at: datetime

    @classmethod
    def of(cls, report: PreflightReport) -> PreflightReportRead:
        return cls.model_validate(report.as_json())


class ComposerRules(Schema):
    """TikTok's posting UX rules as data, so a UI can follow them without API changes."""

    caption_max_utf16: int = Field(
        VIDEO_CAPTION_MAX, description="Video caption (`content`) limit in UTF-16 code units"
    )
    photo_title_max_utf16: int = PHOTO_TITLE_MAX
    photo_description_max_utf16: int = PHOTO_DESCRIPTION_MAX
    max_photos: int = MAX_PHOTOS_PER_POST
    photo_content_types: list[str] = ["image/jpeg", "image/webp"]
    privacy_level_default: None = Field(
        None, description="No default: the user picks from `privacy_level_options`"
    )
    interactions_default: bool = Field(False, description="Comment/Duet/Stitch start off")
    video_interactions: list[str] = ["allow_comment", "allow_duet", "allow_stitch"]
    photo_interactions: list[str] = ["allow_comment"]
    commercial_content_prompt: str = (
        "You need to indicate if your content promotes yourself, a third party, or both."
    )
    brand_organic_label: str = "Promotional content"
    brand_content_label: str = "Paid partnership"
    branded_content_private_message: str = "Branded content visibility cannot be set to private."
    declaration: str = "By posting, you agree to TikTok's Music Usage Confirmation."
    declaration_branded: str = (
        "By posting, you agree to TikTok's Branded Content Policy and Music Usage Confirmation."
    )
    processing_notice: str = (
        "After publishing, TikTok may take a few minutes to process the post before it "
        "appears on the profile."
    )
    inbox_notice: str = (
        "Drafts go to the creator's TikTok inbox; they finish and post them in the TikTok app."
    )


class CreatorInfoRead(Schema):
    """creator_info for the composer, asked of TikTok on every call (UX rule 1)."""

    account_id: int
    creator_nickname: str | None = Field(description="Show it: the account posted to")
    creator_username: str | None
    creator_avatar_url: str | None = Field(description="Expires after about 2 hours")
    privacy_level_options: list[str] = Field(description="The privacy dropdown, in order")
    comment_disabled: bool = Field(description="Grey out allow_comment")
    duet_disabled: bool = Field(description="Grey out allow_duet (videos)")
    stitch_disabled: bool = Field(description="Grey out allow_stitch (videos)")
    max_video_post_duration_sec: int | None = Field(description="Longer videos are refused")
    can_post: bool = Field(description="False: stop and ask the user to try later")
    cannot_post_reason: str | None
    error_code: str | None = Field(description="TikTok's reason code when it cannot post")
    can_direct_post: bool = Field(description="The account granted video.publish")
    can_upload_drafts: bool = Field(description="The account granted video.upload")
    daily_post_cap: int
    daily_posts_remaining: int = Field(
        description="Direct posts that fit in the next 24 hours besides those scheduled"
    )
    rules: ComposerRules = Field(default_factory=ComposerRules)
