"""What the emulator knows before the first request: OAuth clients, channels and limits.

Numbers that Google changed over time (quota sizes, the private lock on unverified
projects) are configuration here, as the reference advises (youtube-api.md §6.1, §9).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

CHUNK_MULTIPLE = 256 * 1024
MAX_FILE_SIZE = 274_877_906_944  # 256 GB, the discovery document's maxSize


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """One OAuth client of one Google Cloud project."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    project: str = "project-1"
    # An unaudited project created after 2020-07-28 gets its uploads locked private
    # (the 2020 policy); False models the 2026-11-02 reversal.
    unverified: bool = False


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """A Google account with a YouTube channel that can sign in on the consent page."""

    login: str
    channel_id: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class EmulatorConfig:
    clients: tuple[ClientConfig, ...] = ()
    channels: tuple[ChannelConfig, ...] = ()
    access_token_seconds: int = 3599
    code_seconds: int = 600
    # None: refresh tokens live until revoked; 7 * 24 * 3600 models an app in "Testing".
    refresh_token_seconds: int | None = None
    session_seconds: int = 7 * 24 * 3600  # UNCONFIRMED for YouTube (Drive/GCS: one week)
    expired_session_status: int = 404  # 404 or 410: UNCONFIRMED
    # Quota (2026-06-01 onward): an upload bucket of calls and a shared bucket of units.
    upload_calls_per_day: int = 100
    shared_units_per_day: int = 10_000
    list_cost: int = 1
    # Exhausted upload bucket: 403 quotaExceeded (the docs) or 429 rateLimitExceeded (seen).
    upload_bucket_error_429: bool = False
    # The per-channel 24 h cap (its number is not published): None for no cap.
    channel_uploads_per_day: int | None = None
    strict_chunks: bool = True  # non-final chunks must be multiples of 256 KiB
    processing_seconds: float = 0.0
    public_base_url: str | None = None  # else the request's own base URL
    clock: Callable[[], datetime] = field(default=_utc_now, compare=False)

    def client(self, client_id: str) -> ClientConfig | None:
        return next((c for c in self.clients if c.client_id == client_id), None)

    def channel(self, login: str) -> ChannelConfig | None:
        return next((c for c in self.channels if c.login == login), None)
