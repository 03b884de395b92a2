"""The HTTP server: where it listens and is reached, browsers, logs, server-side fetches."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from tiktimer.config._base import GroupSettings, env, split_list

if TYPE_CHECKING:
    from tiktimer.kit.safe_fetch import FetchPolicy

_ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+/?")


class ServerSettings(GroupSettings):
    host: str = Field("127.0.0.1", validation_alias=env("TIKTIMER_HOST"))
    port: int = Field(8000, ge=0, le=65535, validation_alias=env("TIKTIMER_PORT"))
    public_url: str | None = Field(None, validation_alias=env("TIKTIMER_PUBLIC_URL"))
    # Where TikTok fetches photo-post images from (defaults to the public URL)
    media_public_url: str | None = Field(None, validation_alias=env("TIKTIMER_MEDIA_PUBLIC_URL"))
    # Browser origins allowed to call the API (README "Browsers"); none by default.
    cors_origins_raw: str = Field("", validation_alias=env("TIKTIMER_CORS_ORIGINS"))
    otel: bool = Field(False, validation_alias=env("TIKTIMER_OTEL"))
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", validation_alias=env("TIKTIMER_LOG_LEVEL")
    )
    # text: one readable line per record; json: one JSON object per line, for log shippers
    log_format: Literal["text", "json"] = Field("text", validation_alias=env("TIKTIMER_LOG_FORMAT"))
    # Server-side fetches of user-influenced URLs (README "Server-side fetches")
    fetch_allow: str = Field("", validation_alias=env("TIKTIMER_FETCH_ALLOW"))

    @field_validator("fetch_allow")
    @classmethod
    def _check_fetch_allow(cls, value: str) -> str:
        from tiktimer.kit.safe_fetch import parse_allow_list

        parse_allow_list(value)  # ValueError names the bad entry
        return value

    @field_validator("cors_origins_raw")
    @classmethod
    def _check_cors_origins(cls, value: str) -> str:
        for origin in split_list(value):
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"{origin!r} is not an origin; write e.g. https://app.example.com "
                    "(scheme and host, optional port, no path), comma-separated"
                )
        return value

    @property
    def cors_origins(self) -> list[str]:
        return [origin.rstrip("/") for origin in split_list(self.cors_origins_raw)]

    @property
    def public_base_url(self) -> str:
        """Where browsers and TikTok reach this service (no trailing slash)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host  # noqa: S104
        return f"http://{host}:{self.port}"

    @property
    def media_public_base_url(self) -> str:
        """Where TikTok fetches photo-post images from (PULL_FROM_URL needs https)."""
        return (self.media_public_url or self.public_base_url).rstrip("/")

    @property
    def fetch_policy(self) -> FetchPolicy:
        """What server-side fetches of user-influenced URLs may reach (kit.safe_fetch)."""
        from tiktimer.kit.safe_fetch import FetchPolicy

        return FetchPolicy.from_allow_list(self.fetch_allow)
