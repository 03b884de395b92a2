"""The emulated Instagram's records: accounts, codes, tokens, containers, media, call log.

Plain data; the operations on it live in `oauth`, `containers` and `publishing`. Secrets
are keyed by their SHA-256 (`ids.secret_hash`), never kept in the clear.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .config import AccountType


class TokenKind(enum.StrEnum):
    SHORT = "short"
    LONG = "long"


class ContainerStatus(enum.StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    FINISHED = "FINISHED"
    PUBLISHED = "PUBLISHED"
    ERROR = "ERROR"
    EXPIRED = "EXPIRED"


@dataclass
class Account:
    user_id: str  # the IG user id publishing uses (§2.4)
    scoped_id: str  # `id` on /me: app-scoped, refused as a publishing id (strict)
    username: str
    account_type: AccountType


@dataclass
class AuthCode:
    app_id: str
    redirect_uri: str
    user_id: str
    permissions: tuple[str, ...]
    expires_at: float
    used: bool = False


@dataclass
class Token:
    app_id: str
    user_id: str
    kind: TokenKind
    permissions: tuple[str, ...]
    issued_at: float
    expires_at: float
    revoked: bool = False


@dataclass(frozen=True)
class VideoFacts:
    """What processing learns from the fetched bytes; `error_subcode` None means fine."""

    size: int
    duration_ms: int | None
    error_subcode: int | None


@dataclass
class Upload:
    """A rupload in progress: the bytes received so far (the head kept for processing)."""

    file_size: int | None = None
    received: int = 0
    head: bytearray = field(default_factory=bytearray)
    busy: bool = False  # one request at a time writes the bytes


@dataclass
class Container:
    id: str
    user_id: str
    app_id: str
    created_at: float
    ready_at: float
    video_url: str | None
    caption: str
    share_to_feed: bool | None
    thumb_offset: int | None
    cover_url: str | None
    facts: VideoFacts
    upload: Upload | None = None  # a resumable container, until its bytes are in
    media_id: str | None = None
    status_polls: int = 0


@dataclass
class Media:
    id: str
    user_id: str
    container_id: str
    caption: str
    share_to_feed: bool | None
    thumb_offset: int | None
    cover_url: str | None
    published_at: float


@dataclass
class State:
    accounts: dict[str, Account] = field(default_factory=dict)  # by user_id
    codes: dict[str, AuthCode] = field(default_factory=dict)  # by hash
    tokens: dict[str, Token] = field(default_factory=dict)  # by hash
    containers: dict[str, Container] = field(default_factory=dict)
    media: dict[str, Media] = field(default_factory=dict)
    calls: dict[str, list[float]] = field(default_factory=dict)  # (app:user) → call times

    def account_named(self, username: str) -> Account | None:
        return next((a for a in self.accounts.values() if a.username == username), None)
