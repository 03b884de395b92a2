"""Planning ahead: an account's posting queue, recurring series, the private calendar feed.

A queued post and a series' occurrence are ordinary posts (own status, attempts, edits);
these tables only say how they came to be and where they sit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tiktimer.db.base import Model
from tiktimer.kit.time import utc_now
from tiktimer.models._columns import Timestamped


class PostingQueue(Model):
    """An account's weekly slots: `[[weekday 0=Mon…6=Sun, minute of the day], …]`,
    wall-clock times in `timezone` (None: the owner's zone)."""

    __tablename__ = "posting_queues"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("social_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    timezone: Mapped[str | None] = mapped_column(String(64))
    slots: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class QueuedPost(Model):
    """A post that sits in an account's queue: re-flows may move its time."""

    __tablename__ = "queued_posts"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[int] = mapped_column(
        ForeignKey("social_accounts.id", ondelete="CASCADE"), index=True
    )
    queued_at: Mapped[datetime] = mapped_column(default=utc_now)


class SeriesStatus:
    active = "active"
    paused = "paused"
    ended = "ended"


class PostSeries(Timestamped, Model):
    """A recurring post: an RRULE from `dtstart` (wall-clock, in `timezone`), the post
    fields every occurrence starts with (`template`), and occurrences before `until_at`."""

    __tablename__ = "post_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    rrule: Mapped[str] = mapped_column(Text)
    # ISO 8601 without offset ("2027-03-01T09:00:00"): a wall-clock time, never converted.
    dtstart: Mapped[str] = mapped_column(String(19))
    timezone: Mapped[str] = mapped_column(String(64))
    until_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=SeriesStatus.active)
    template: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    materialised_until: Mapped[datetime | None]


class SeriesOccurrence(Model):
    """One occurrence of a series, materialised once: the unique (series, time) pair is what
    keeps two workers from creating it twice. It outlives its post (`post_id` NULL after a
    delete), so a deleted occurrence is not created again."""

    __tablename__ = "series_occurrences"
    __table_args__ = (UniqueConstraint("series_id", "occurs_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("post_series.id", ondelete="CASCADE"))
    occurs_at: Mapped[datetime]
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL"), index=True
    )
    # Cancelled by pausing the series: resuming schedules it again while it is still ahead.
    held: Mapped[bool] = mapped_column(default=False)
    skipped_reason: Mapped[str | None] = mapped_column(Text)


class CalendarFeed(Model):
    """A user's private iCalendar feed: only the SHA-256 of the URL's token is kept."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (Index("ix_calendar_feeds_token_hash", "token_hash", unique=True),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
