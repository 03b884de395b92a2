"""Every lifetime, limit and switch of the emulator, with defaults from the reference.

Where the reference is ambiguous the default is the *strictest* reading, so a client that
passes here is safe on the real API (reference §12).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

import httpx

from .enums import PrivacyLevel
from .scopes import ALL_SCOPES
from .url_rules import (
    MAX_REDIRECT_URIS,
    Platform,
    redirect_uri_problem,
    verified_prefix_problem,
)

SANDBOX_CLIENT_KEY = "sbawtiktimeremulator"
USERNAME_PATTERN = re.compile(r"[a-z0-9._]{2,24}")


class ConfigError(ValueError):
    """A registered client or creator would be refused by TikTok's developer portal."""


@dataclass(frozen=True, kw_only=True)
class ClientConfig:
    """An app registered in the (emulated) developer portal.

    `verified_url_prefixes` are URL-prefix properties (`https://host/path/`), and
    `verified_domains` are domain properties that also cover subdomains (§5.5).
    """

    client_key: str
    client_secret: str
    redirect_uris: tuple[str, ...] = ()
    audited: bool = False
    approved_scopes: tuple[str, ...] = ALL_SCOPES
    verified_url_prefixes: tuple[str, ...] = ()
    verified_domains: tuple[str, ...] = ()
    pkce_required: bool = True
    platform: Platform = "web"
    # Distinct creators allowed to direct-post per rolling 24 h; None = unlimited
    # (audited) or `EmulatorConfig.unaudited_active_user_cap` (unaudited).
    active_user_cap: int | None = None
    # Refuse what the portal refuses (https-only web URIs, prefixes without IP hosts…).
    check_registration_rules: bool = True
    # Lets tests pull media from plain-http loopback fixture servers.
    allow_insecure_pull_urls: bool = False

    def __post_init__(self) -> None:
        if not self.check_registration_rules:
            return
        if len(self.redirect_uris) > MAX_REDIRECT_URIS:
            raise ConfigError(f"{self.client_key}: at most {MAX_REDIRECT_URIS} redirect URIs")
        for uri in self.redirect_uris:
            if problem := redirect_uri_problem(uri, self.platform):
                raise ConfigError(f"{self.client_key}: redirect URI {uri!r} {problem}")
        for prefix in self.verified_url_prefixes:
            if problem := verified_prefix_problem(prefix, self.allow_insecure_pull_urls):
                raise ConfigError(f"{self.client_key}: URL prefix {prefix!r} {problem}")


@dataclass(frozen=True, kw_only=True)
class CreatorSettings:
    """A sandbox TikTok account and the settings creator_info reports for it."""

    username: str
    display_name: str | None = None
    is_private: bool = False
    # None derives the options from `is_private` (§4.1); set to override.
    privacy_level_options: tuple[PrivacyLevel, ...] | None = None
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_video_post_duration_sec: int = 300
    banned: bool = False
    # Direct posts already made in the current 24 h (count toward the daily cap).
    posts_today: int = 0
    bio_description: str = ""
    is_verified: bool = False
    follower_count: int = 0
    following_count: int = 0
    likes_count: int = 0
    video_count: int = 0

    def __post_init__(self) -> None:
        if not USERNAME_PATTERN.fullmatch(self.username):
            raise ConfigError(f"username {self.username!r}: 2-24 of a-z, 0-9, '.', '_'")
        if self.posts_today < 0 or self.max_video_post_duration_sec <= 0:
            raise ConfigError("posts_today must be >= 0 and max_video_post_duration_sec > 0")


@dataclass(frozen=True, kw_only=True)
class RateLimits:
    """Per-access-token sliding-window limits (§7); None disables a limit."""

    window_seconds: float = 60.0
    init: int | None = 6
    creator_info: int | None = 20
    status: int | None = 30
    user_info: int | None = 600
    cancel: int | None = None
    # Whether video/init, inbox/video/init and content/init share one bucket (undocumented;
    # sharing is the stricter reading).
    shared_init_bucket: bool = True


def _sandbox_client() -> ClientConfig:
    """The default app; its secret is random (never a constant anyone could sign with)."""
    return ClientConfig(client_key=SANDBOX_CLIENT_KEY, client_secret=secrets.token_urlsafe(32))


@dataclass(frozen=True, kw_only=True)
class EmulatorConfig:
    clients: tuple[ClientConfig, ...] = field(default_factory=lambda: (_sandbox_client(),))
    creators: tuple[CreatorSettings, ...] = ()
    # Base for self-referencing URLs (upload_url, consent form action); None = the
    # request's own base URL, including any mount prefix.
    public_base_url: str | None = None
    # Base for upload URLs when they should point at another host than the API.
    upload_base_url: str | None = None
    # Signs upload tokens; random per process unless fixed (processes sharing a store must
    # share it).
    signing_secret: str = field(default_factory=lambda: secrets.token_hex(32))

    code_lifetime_seconds: float = 60.0
    access_token_lifetime_seconds: int = 7_200
    refresh_token_lifetime_seconds: int = 15_552_000
    # Whether a rotated refresh token gets a fresh lifetime or keeps the original expiry.
    refresh_restarts_lifetime: bool = False
    # How long a rotated-out refresh token still works (0 = dies at once).
    refresh_grace_seconds: float = 0.0
    # Presenting a rotated-out refresh token again revokes the whole grant (trust nothing).
    refresh_reuse_revokes_grant: bool = True
    # Some reports see OAuth errors with HTTP 200; clients must read the body either way.
    oauth_errors_http_200: bool = False

    upload_url_lifetime_seconds: float = 3_600.0
    processing_seconds: float = 1.5
    # Delay after PUBLISH_COMPLETE before a public post id appears.
    moderation_seconds: float = 0.0
    pull_timeout_seconds: float = 3_600.0
    # Transport for PULL_FROM_URL downloads (tests pass an ASGI or mock transport).
    pull_transport: httpx.AsyncBaseTransport | None = None

    rate_limits: RateLimits = field(default_factory=RateLimits)
    daily_post_cap: int = 15
    pending_share_cap: int = 5
    unaudited_active_user_cap: int = 5
    # Unaudited clients see only SELF_ONLY in creator_info (one source says so).
    unaudited_self_only_options: bool = True

    max_video_bytes: int = 4 * 1024**3
    min_chunk_bytes: int = 5_242_880
    max_chunk_bytes: int = 64_000_000
    max_final_chunk_bytes: int = 128_000_000
    max_chunks: int = 1_000

    # Unknown JSON fields are errors (e.g. video_cover_timestamp_ms inside source_info).
    reject_unknown_fields: bool = True
    # Enforce the UX rules as API errors: branded content cannot be SELF_ONLY, and
    # interactions the creator disabled must be sent as disabled.
    strict_ux_rules: bool = True

    admin_enabled: bool = True
    # When set, admin calls need the header `X-Emulator-Admin-Token: <admin_token>`.
    admin_token: str | None = None
    max_recorded_requests: int = 100_000

    # Optional webhook receiver for post.publish.* events, signed with the client secret.
    webhook_url: str | None = None
    webhook_transport: httpx.AsyncBaseTransport | None = None
