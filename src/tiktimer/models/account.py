"""Connected TikTok accounts with their tokens encrypted at rest, and pending OAuth states."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tiktimer.db.base import Model
from tiktimer.kit.time import utc_now
from tiktimer.models._columns import Timestamped


class AccountStatus(enum.StrEnum):
    active = "active"
    reauth_required = "reauth_required"
    disconnected = "disconnected"


class SocialAccount(Timestamped, Model):
    __tablename__ = "social_accounts"
    __table_args__ = (UniqueConstraint("user_id", "platform", "open_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(32), default="tiktok")
    open_id: Mapped[str] = mapped_column(String(128))
    union_id: Mapped[str | None] = mapped_column(String(128))
    display_name: Mapped[str | None] = mapped_column(String(255))
    username: Mapped[str | None] = mapped_column(String(255))
    avatar_url: Mapped[str | None] = mapped_column(Text)
    # Fernet ciphertexts; see tiktimer.kit.crypto.
    access_token_encrypted: Mapped[str | None] = mapped_column(Text)
    refresh_token_encrypted: Mapped[str | None] = mapped_column(Text)
    access_token_expires_at: Mapped[datetime | None]
    refresh_token_expires_at: Mapped[datetime | None]
    scopes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(32), default=AccountStatus.active)
    status_reason: Mapped[str | None] = mapped_column(Text)
    is_sandbox: Mapped[bool] = mapped_column(default=False)
    # A lease so that only one process refreshes an account's token at a time.
    refresh_lock_until: Mapped[datetime | None]
    last_refreshed_at: Mapped[datetime | None]
    # Set while its owner holds the account's posts: due ones wait (posts.queue.tables).
    paused_at: Mapped[datetime | None]


class OAuthState(Model):
    """A server-side OAuth state bound to a user, with its PKCE verifier; usable once."""

    __tablename__ = "oauth_states"

    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_verifier_encrypted: Mapped[str] = mapped_column(Text)
    redirect_uri: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
