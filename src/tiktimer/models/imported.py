"""Rows of imported CSV files, remembered by fingerprint so that importing them again is a no-op."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tiktimer.db.base import Model
from tiktimer.kit.time import utc_now


class ImportedRow(Model):
    """One CSV row that became a post. It lives as long as its post: delete the post and the
    same row may be imported again."""

    __tablename__ = "imported_rows"
    __table_args__ = (UniqueConstraint("user_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
