"""Input limits on every request (README "Input limits"): body size, stalls, header size."""

from __future__ import annotations

from pydantic import Field

from tiktimer.config._base import GroupSettings, env


class LimitSettings(GroupSettings):
    max_json_body_kb: int = Field(
        1024, ge=1, le=64 * 1024, validation_alias=env("TIKTIMER_MAX_JSON_BODY_KB")
    )
    body_timeout_seconds: float = Field(
        30, gt=0, le=3600, validation_alias=env("TIKTIMER_BODY_TIMEOUT_SECONDS")
    )
    max_header_kb: int = Field(16, ge=1, le=1024, validation_alias=env("TIKTIMER_MAX_HEADER_KB"))
    # Bulk import (POST /api/v1/posts/import, `tiktimer posts import`): one file's bounds.
    import_max_rows: int = Field(
        1000, ge=1, le=100_000, validation_alias=env("TIKTIMER_IMPORT_MAX_ROWS")
    )
    import_max_kb: int = Field(
        2048, ge=1, le=256 * 1024, validation_alias=env("TIKTIMER_IMPORT_MAX_KB")
    )
