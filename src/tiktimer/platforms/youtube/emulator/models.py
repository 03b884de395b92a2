"""The emulator's state: grants, codes, tokens, upload sessions, videos and quota days."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    login: str
    scopes: tuple[str, ...]
    offline: bool
    challenge: str | None
    challenge_method: str
    expires_at: datetime
    prompt_consent: bool = False
    used: bool = False


@dataclass
class Grant:
    """One consent of one channel to one client; a revoke ends it and all its tokens."""

    id: str
    client_id: str
    login: str
    scopes: tuple[str, ...]
    created_at: datetime
    offline: bool = False
    revoked: bool = False


@dataclass
class AccessToken:
    grant_id: str
    expires_at: datetime


@dataclass
class UploadSession:
    id: str
    grant_id: str
    project: str
    total: int
    content_type: str
    resource: dict[str, Any]
    parts: tuple[str, ...]
    expires_at: datetime
    received: bytearray = field(default_factory=bytearray)
    video_id: str | None = None
    stored_ranges: list[tuple[int, int]] = field(default_factory=list)  # inclusive
    bytes_offered: int = 0  # every body byte any PUT carried (a resent byte counts twice)


@dataclass
class Video:
    id: str
    login: str
    project: str
    resource: dict[str, Any]
    size: int
    digest: str
    uploaded_at: datetime
    # What processing will end in: ("processed", None) | ("failed", reason) | ("rejected", reason)
    verdict: tuple[str, str | None] = ("processed", None)
    deleted: bool = False


@dataclass
class QuotaDay:
    day: date
    upload_calls: int = 0
    shared_units: int = 0


@dataclass
class State:
    codes: dict[str, AuthCode] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # sha256 → grant id
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)  # sha256 → token
    sessions: dict[str, UploadSession] = field(default_factory=dict)
    videos: dict[str, Video] = field(default_factory=dict)
    quota: dict[str, QuotaDay] = field(default_factory=dict)  # project → today's use
    scripted_verdicts: list[tuple[str, str | None]] = field(default_factory=list)


def token_hash(token: str) -> str:
    """Tokens are kept by hash, as a real server would; the emulator never stores them."""
    return hashlib.sha256(token.encode()).hexdigest()
