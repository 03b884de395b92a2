"""Resumable (tus) uploads in progress: one row each, shared by every API machine.

The row is the upload's truth: who owns it, how many bytes are in (`upload_offset`), what
the storage backend needs to find them (`storage_state`), and who is writing right now.
A request writes only after a guarded `UPDATE … SET claim_token` took the row, so two
machines never append to the same upload at once; the claim is a lease (`claimed_until`)
that its holder renews, so a machine that dies mid-chunk blocks the upload only briefly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tiktimer.db.base import Model
from tiktimer.kit.time import utc_now


class ResumableUpload(Model):
    __tablename__ = "upload_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: The declared `Upload-Length`, if any.
    length: Mapped[int | None] = mapped_column(BigInteger)
    filename: Mapped[str | None] = mapped_column(String(255))
    upload_offset: Mapped[int] = mapped_column(BigInteger, default=0)
    #: The storage backend's bookkeeping (S3: multipart upload id, parts, tail object).
    storage_state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Set once the bytes were assembled for `complete`; no chunk is taken after it.
    assembled_at: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
