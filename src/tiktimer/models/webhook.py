"""Webhook deliveries already applied, so a replayed delivery is a no-op."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from tiktimer.db.base import Model
from tiktimer.kit.time import utc_now


class WebhookEvent(Model):
    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    event: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=utc_now)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
