"""Notifications: what happened to a user's posts and accounts, and where it is sent.

`notification_events` is the outbox and the in-app list at once: a row is written in the
transaction that made the change (a post settled, failed, went missing or unconfirmed, an
account lost its access). `notification_endpoints` are the user's outgoing webhooks; their
secret signs each delivery, so it is kept encrypted (the token cipher), never hashed.
`notification_deliveries` holds one row per (event, endpoint), unique, leased by the
worker that sends it, so several workers never send one event twice to one endpoint.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tiktimer.db.base import Model
from tiktimer.kit.time import utc_now


class NotificationEndpoint(Model):
    __tablename__ = "notification_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    #: The signing secret under the token cipher (TIKTIMER_TOKEN_KEYS); shown once at create.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    #: The event types this endpoint receives (`post.published`, …).
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class NotificationEvent(Model):
    __tablename__ = "notification_events"
    __table_args__ = (Index("ix_notification_events_unrouted", "routed", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(40))
    post_id: Mapped[int | None] = mapped_column(Integer)
    account_id: Mapped[int | None] = mapped_column(Integer)
    #: Why, in words (the post's error, the account's reason); never a secret.
    detail: Mapped[str | None] = mapped_column(Text)
    #: 0 until the worker made its deliveries (one per subscribed endpoint).
    routed: Mapped[int] = mapped_column(Integer, default=0)
    #: A test event goes to this one endpoint only, and is not listed in the app.
    endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification_endpoints.id", ondelete="CASCADE")
    )
    read_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class NotificationDelivery(Model):
    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id"),
        Index("ix_notification_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("notification_events.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("notification_endpoints.id", ondelete="CASCADE"), index=True
    )
    #: pending → delivered, or failed once every attempt was used.
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
