"""The calendar's week view: one slot per wall-clock hour of each local day.

A slot is a wall-clock hour in the user's zone, so dropping a post on it keeps the post's
minutes and sends that wall-clock time to the API, which reads it in the user's zone and
refuses what a DST change skips or repeats (`kit.time.local_to_utc`), as for any client.
The slots say so beforehand: an hour the clocks skip is marked, one they repeat too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

HOURS = range(24)


@dataclass
class Slot:
    day: date
    hour: int
    #: "skipped": the clocks jump over this hour; "repeated": it happens twice.
    dst: str | None = None
    posts: list[dict[str, Any]] = field(default_factory=list)


def hour_kind(day: date, hour: int, zone: ZoneInfo) -> str | None:
    """Whether DST skips or repeats the wall-clock hour `hour:00–hour:59` of `day`."""
    for minute in (0, 30):
        naive = datetime.combine(day, time(hour, minute))
        first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
        if first.utcoffset() != second.utcoffset():
            back = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
            return "skipped" if back != naive else "repeated"
    return None


def changes_offset(day: date, zone: ZoneInfo) -> bool:
    """Whether the zone's UTC offset changes during `day` (its times then show their zone)."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day, time(23, 59), tzinfo=zone)
    return start.utcoffset() != end.utcoffset()


def week_rows(days: list[date], posts: list[dict[str, Any]], zone: ZoneInfo) -> list[list[Slot]]:
    """Rows of hours, each with one slot per day; every post in its local day and hour."""
    rows = [[Slot(day, hour, hour_kind(day, hour, zone)) for day in days] for hour in HOURS]
    column = {day: index for index, day in enumerate(days)}
    for post in posts:
        local = post["scheduled_time"].astimezone(zone)
        index = column.get(local.date())
        if index is not None:
            rows[local.hour][index].posts.append(post)
    return rows
