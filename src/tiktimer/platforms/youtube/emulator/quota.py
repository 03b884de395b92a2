"""Daily quota per Google project: the "Video uploads" bucket and the shared unit bucket.

Both reset at midnight Pacific Time (youtube-api.md §6.1), so the day is the Pacific date.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from .config import EmulatorConfig
from .errors import ApiError
from .models import QuotaDay, State

PACIFIC = ZoneInfo("America/Los_Angeles")
UPLOAD_BUCKET_MESSAGE = (
    "Quota exceeded for quota metric 'Video Uploads' and limit 'Video Uploads per day' "
    "of service 'youtube.googleapis.com'."
)
QUOTA_MESSAGE = "The request cannot be completed because you have exceeded your quota."


def today(state: State, project: str, now: datetime) -> QuotaDay:
    day = now.astimezone(PACIFIC).date()
    current = state.quota.get(project)
    if current is None or current.day != day:
        current = state.quota[project] = QuotaDay(day)
    return current


def charge_upload(state: State, config: EmulatorConfig, project: str, now: datetime) -> None:
    """One `videos.insert`: a call from the upload bucket, refused once the bucket is empty."""
    day = today(state, project, now)
    if day.upload_calls >= config.upload_calls_per_day:
        if config.upload_bucket_error_429:
            raise ApiError(429, "rateLimitExceeded", UPLOAD_BUCKET_MESSAGE)
        raise ApiError(403, "quotaExceeded", QUOTA_MESSAGE, domain="youtube.quota")
    day.upload_calls += 1


def charge_units(
    state: State, config: EmulatorConfig, project: str, now: datetime, units: int
) -> None:
    """A call from the shared bucket (every call costs, even one that fails later)."""
    day = today(state, project, now)
    if day.shared_units + units > config.shared_units_per_day:
        raise ApiError(403, "quotaExceeded", QUOTA_MESSAGE, domain="youtube.quota")
    day.shared_units += units
