"""The one place that reads the clock: every timestamp is timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def ensure_utc(value: datetime) -> datetime:
    """Naive datetimes from the database are UTC by convention; aware ones are converted."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class AmbiguousLocalTime(ValueError):
    """A wall-clock time that a DST change makes nonexistent or ambiguous."""


def local_to_utc(naive: datetime, tz_name: str) -> datetime:
    """Read a naive wall-clock time in `tz_name`; refuse times that DST skips or repeats."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz_name)
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    # A skipped time has two offsets too: test for it first, so each gets its own words.
    round_trip = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if round_trip != naive:
        raise AmbiguousLocalTime(
            f"{naive.isoformat()} does not exist in {tz_name} (a daylight-saving change skips "
            "it); give the time with an explicit UTC offset"
        )
    if first.utcoffset() != second.utcoffset():
        raise AmbiguousLocalTime(
            f"{naive.isoformat()} is ambiguous in {tz_name} (a daylight-saving change repeats "
            "it); give the time with an explicit UTC offset"
        )
    return first.astimezone(UTC)
