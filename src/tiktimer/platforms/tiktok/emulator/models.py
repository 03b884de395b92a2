"""The emulator's mutable state; only `Emulator` touches it, under its lock.

Everything here is plain data (JSON-ready through pydantic), so a store can persist it and
another process can pick it up; running hashes of uploads stay outside (see `Emulator`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .chunks import ChunkPlan
from .config import CreatorSettings
from .enums import MediaType, PostMode, PrivacyLevel, Source


@dataclass
class Creator:
    settings: CreatorSettings
    # Timestamps of direct posts made outside the emulator (seeded by `posts_today`).
    seeded_post_times: list[float] = field(default_factory=list)
    # Last creator_info call per client_key.
    creator_info_at: dict[str, float] = field(default_factory=dict)

    @property
    def username(self) -> str:
        return self.settings.username


@dataclass
class AuthorizationCode:
    code_hash: str  # SHA-256 of the code: the code itself is never stored
    client_key: str
    username: str
    scopes: tuple[str, ...]
    redirect_uri: str
    code_challenge: str | None
    issued_at: float
    used: bool = False
    grant_id: int | None = None  # what the exchange produced, so a replay can revoke it


@dataclass
class Grant:
    """One user authorisation of one client: the family of its access and refresh tokens."""

    id: int
    client_key: str
    username: str
    scopes: tuple[str, ...]
    refresh_expires_at: float
    revoked: bool = False


@dataclass
class AccessToken:
    grant_id: int
    expires_at: float


@dataclass
class RefreshToken:
    grant_id: int
    expires_at: float
    rotated_at: float | None = None


@dataclass
class OAuthRecords:
    """Everything Login Kit remembers; codes and tokens are keyed by their SHA-256."""

    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    grants: dict[int, Grant] = field(default_factory=dict)
    access: dict[str, AccessToken] = field(default_factory=dict)
    refresh: dict[str, RefreshToken] = field(default_factory=dict)
    next_grant_id: int = 0


@dataclass
class Upload:
    """Progress of a FILE_UPLOAD: a running count, never the bytes."""

    upload_id: str
    plan: ChunkPlan
    expires_at: float
    received: int = 0
    # When the PUT being received began (None: no chunk in flight); a chunk whose process
    # died is abandoned after `uploads.CHUNK_ABANDONED_SECONDS`.
    chunk_started_at: float | None = None


@dataclass
class PublishTask:
    publish_id: str
    client_key: str
    username: str
    open_id: str
    media_type: MediaType
    mode: PostMode
    source: Source
    created_at: float
    title: str | None = None
    description: str | None = None
    privacy_level: PrivacyLevel | None = None
    requested_privacy_level: PrivacyLevel | None = None
    post_info: dict[str, Any] = field(default_factory=dict)
    post_info_ignored: bool = False
    creator_info_age: float | None = None
    upload: Upload | None = None
    pull_urls: tuple[str, ...] = ()
    downloaded_bytes: int = 0
    media_sha256: str | None = None
    transfer_done_at: float | None = None
    # A scripted outcome (fail_next_publish) applied when processing ends.
    scripted_fail_reason: str | None = None
    fail_reason: str | None = None
    failed_at: float | None = None
    user_posted_at: float | None = None
    user_post_privacy: PrivacyLevel | None = None
    post_id: int | None = None
    events_sent: set[str] = field(default_factory=set)

    @property
    def transferred_bytes(self) -> int:
        """Bytes received so far, by upload or by download."""
        return self.upload.received if self.upload is not None else self.downloaded_bytes


@dataclass
class PublishRecords:
    """Every publish task by publish_id, and which task each upload_id belongs to."""

    tasks: dict[str, PublishTask] = field(default_factory=dict)
    uploads: dict[str, str] = field(default_factory=dict)
