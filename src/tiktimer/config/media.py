"""Media rules: upload size and expiry, the video verdict, signed URLs, retention."""

from __future__ import annotations

from pydantic import Field

from tiktimer.config._base import GroupSettings, env


class MediaSettings(GroupSettings):
    max_upload_mb: int = Field(4096, ge=1, le=4096, validation_alias=env("TIKTIMER_MAX_UPLOAD_MB"))
    upload_expire_hours: int = Field(
        24, ge=1, le=24 * 30, validation_alias=env("TIKTIMER_UPLOAD_EXPIRE_HOURS")
    )
    max_duration_sec: float = Field(
        600, gt=0, le=600, validation_alias=env("TIKTIMER_MEDIA_MAX_DURATION_SEC")
    )
    # Lifetime of the signed image URLs handed to TikTok
    url_ttl_seconds: int = Field(
        7200, ge=600, le=7 * 24 * 3600, validation_alias=env("TIKTIMER_MEDIA_URL_TTL_SECONDS")
    )
    unused_ttl_hours: int = Field(72, ge=1, validation_alias=env("TIKTIMER_MEDIA_UNUSED_TTL_HOURS"))
    keep_published_days: int = Field(
        30, ge=0, validation_alias=env("TIKTIMER_MEDIA_KEEP_PUBLISHED_DAYS")
    )
    gc_interval_minutes: int = Field(
        60, ge=1, le=24 * 60, validation_alias=env("TIKTIMER_MEDIA_GC_INTERVAL_MINUTES")
    )

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024
