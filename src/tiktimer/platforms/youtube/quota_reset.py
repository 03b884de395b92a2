"""When YouTube's daily quota comes back: midnight Pacific Time (youtube-api.md §6.1)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

PACIFIC = ZoneInfo("America/Los_Angeles")
MARGIN = timedelta(minutes=1)  # Google's reset is not to the second


def next_reset(now: datetime) -> datetime:
    """The next midnight in Los Angeles (DST-aware), as an aware datetime."""
    local = now.astimezone(PACIFIC)
    tomorrow = local.date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=PACIFIC)


def seconds_until_reset(now: datetime) -> float:
    return (next_reset(now) - now + MARGIN).total_seconds()
