"""Wall-clock times in a zone, and the one rule for the times daylight saving breaks.

Slots and recurring series are wall-clock times: 09:00 stays 09:00 local across a DST
change, so its UTC instant moves by the hour. Two local times need a rule, and both follow
RFC 5545 (§3.3.5, the rule calendars use for DTSTART and RRULE occurrences):

- a time the spring-forward change skips (02:30 in Europe/Berlin on the last Sunday of
  March) is read with the offset before the gap, so it happens the same length of time
  after the jump: 03:30 local;
- a time the fall-back change repeats (01:30 in America/New_York on the first Sunday of
  November) is its first occurrence, the one still on daylight time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class UnknownZone(ValueError):
    """Not an IANA time zone name."""


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    if not name or len(name) > 64:
        raise UnknownZone("a time zone is an IANA name (e.g. Europe/Berlin)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownZone(f"{name!r} is not an IANA time zone (e.g. Europe/Berlin)") from None


def to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """A naive wall-clock time in `tz` as an aware UTC instant, by the rule above."""
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def slot_times(
    slots: Sequence[tuple[int, int]], tz: ZoneInfo, after: datetime, limit: int, days: int = 366
) -> Iterator[datetime]:
    """The UTC instants of weekly slots (weekday 0=Mon, minute of the day) strictly after
    `after`, in order, without duplicates, at most `limit` of them within `days` days.

    Two slots that land on one instant (02:30 pushed to 03:30 beside a 03:30 slot) are one.
    """
    by_day: dict[int, list[int]] = {}
    for weekday, minute in slots:
        by_day.setdefault(weekday, []).append(minute)
    if not by_day or limit <= 0:
        return
    first = after.astimezone(tz).date() - timedelta(days=1)  # a pushed slot of the day before
    given = 0
    last: datetime | None = None
    for offset in range(days + 2):
        day = first + timedelta(days=offset)
        for instant in _day_slots(day, sorted(by_day.get(day.weekday(), ())), tz):
            if instant <= after or (last is not None and instant <= last):
                continue
            yield instant
            last = instant
            given += 1
            if given >= limit:
                return


def _day_slots(day: date, minutes: list[int], tz: ZoneInfo) -> list[datetime]:
    local = (datetime.combine(day, time(m // 60, m % 60)) for m in minutes)
    return sorted(to_utc(moment, tz) for moment in local)


def parse_slot(text: str) -> tuple[int, int]:
    """`"mon 09:00"` → (0, 540)."""
    parts = text.strip().lower().split()
    if len(parts) != 2 or parts[0][:3] not in WEEKDAYS:
        raise ValueError(f"{text!r} is not a slot; write e.g. 'mon 09:00'")
    return WEEKDAYS.index(parts[0][:3]), parse_minute(parts[1])


def parse_minute(text: str) -> int:
    """`"18:30"` → 1110; the time of day as minutes after midnight."""
    try:
        hours, minutes = (int(part) for part in text.split(":"))
    except ValueError:
        raise ValueError(f"{text!r} is not a time of day; write HH:MM") from None
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ValueError(f"{text!r} is not a time of day; write HH:MM")
    return hours * 60 + minutes


def format_minute(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
