"""Planning ahead: how far recurring series are made into posts, what the calendar feed holds."""

from __future__ import annotations

from pydantic import Field

from tiktimer.config._base import GroupSettings, env


class PlanningSettings(GroupSettings):
    # Occurrences of a recurring series exist as posts this far ahead.
    series_horizon_days: int = Field(
        14, ge=1, le=366, validation_alias=env("TIKTIMER_SERIES_HORIZON_DAYS")
    )
    series_interval_minutes: int = Field(
        10, ge=1, le=24 * 60, validation_alias=env("TIKTIMER_SERIES_INTERVAL_MINUTES")
    )
    feed_past_days: int = Field(30, ge=0, le=366, validation_alias=env("TIKTIMER_FEED_PAST_DAYS"))
    feed_ahead_days: int = Field(
        90, ge=1, le=3660, validation_alias=env("TIKTIMER_FEED_AHEAD_DAYS")
    )
