"""One row per publishing attempt: the history users see at GET /posts/{id}/attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tiktimer.db.base import Model
from tiktimer.kit.time import utc_now


class PostAttempt(Model):
    __tablename__ = "post_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    worker_id: Mapped[str | None] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(default=utc_now)
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(32), default="running")
    error_code: Mapped[str | None] = mapped_column(String(128))
    error_message: Mapped[str | None] = mapped_column(Text)
    publish_id: Mapped[str | None] = mapped_column(String(128))
    request_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
