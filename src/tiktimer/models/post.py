"""Scheduled posts: the posts table is also the publishing queue."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tiktimer.db.base import Model
from tiktimer.models._columns import Timestamped


class PostStatus(enum.StrEnum):
    draft = "draft"
    scheduled = "scheduled"
    publishing = "publishing"
    published = "published"
    failed = "failed"
    cancelled = "cancelled"
    # Polling gave up before TikTok said published or failed: honest, and a late webhook
    # can still settle it (see tiktimer.posts.queue.outcomes).
    unconfirmed = "unconfirmed"
    # Held by its owner: it waits, and `resume` puts it back in the queue.
    paused = "paused"
    # Due too long ago for its late-publish window (tiktimer.posts.queue.lateness).
    missed = "missed"


class Post(Timestamped, Model):
    __tablename__ = "posts"
    __table_args__ = (
        Index("ix_posts_status_scheduled_time", "status", "scheduled_time"),
        Index("ix_posts_user_scheduled_time", "user_id", "scheduled_time"),
        Index("ix_posts_account_scheduled_time", "social_account_id", "scheduled_time"),
        Index("ix_posts_status_lease", "status", "lease_expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    social_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("social_accounts.id", ondelete="SET NULL")
    )
    platform: Mapped[str] = mapped_column(String(32), default="tiktok")
    content: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str | None] = mapped_column(Text)
    scheduled_time: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=PostStatus.scheduled)
    video_filename: Mapped[str | None] = mapped_column(String(255))
    # How late the scheduler may still publish it; None: however late (posts.queue.lateness).
    late_publish_minutes: Mapped[int | None] = mapped_column(Integer)

    # TikTok post settings (shared/tiktok-api.md §4.2, §8.3)
    post_mode: Mapped[str] = mapped_column(String(16), default="direct")  # direct | inbox
    media_type: Mapped[str] = mapped_column(String(16), default="video")  # video | photo
    # Private and with interactions off unless the user chooses otherwise (TikTok UX, §8.3).
    privacy_level: Mapped[str | None] = mapped_column(String(64), default="SELF_ONLY")
    allow_comment: Mapped[bool] = mapped_column(default=False)
    allow_duet: Mapped[bool] = mapped_column(default=False)
    allow_stitch: Mapped[bool] = mapped_column(default=False)
    video_cover_timestamp_ms: Mapped[int | None] = mapped_column(Integer)
    photo_cover_index: Mapped[int | None] = mapped_column(Integer)
    brand_organic_toggle: Mapped[bool] = mapped_column(default=False)
    brand_content_toggle: Mapped[bool] = mapped_column(default=False)
    is_aigc: Mapped[bool] = mapped_column(default=False)
    auto_add_music: Mapped[bool] = mapped_column(default=False)

    # Publishing state
    attempt_count: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_code: Mapped[str | None] = mapped_column(String(128))
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None]
    publish_stage: Mapped[str | None] = mapped_column(String(32))
    publish_stage_at: Mapped[datetime | None]  # when publish_stage last changed
    published_at: Mapped[datetime | None]
    platform_publish_id: Mapped[str | None] = mapped_column(String(128), index=True)
    platform_post_id: Mapped[str | None] = mapped_column(String(64))
    platform_status: Mapped[str | None] = mapped_column(String(64))
    platform_fail_reason: Mapped[str | None] = mapped_column(String(128))
    platform_post_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    platform_log_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    validation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PostMedia(Model):
    """The media of a post, in order: one video, or up to 35 photos."""

    __tablename__ = "post_media"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    media_id: Mapped[str] = mapped_column(ForeignKey("media.id", ondelete="RESTRICT"), index=True)
