"""A small iCalendar (RFC 5545) writer for the calendar feed: VEVENTs in UTC, nothing else.

Written by hand rather than with the `icalendar` package: the feed uses five properties
of one component, all times in UTC (no VTIMEZONE), so all it needs is text escaping
(§3.3.11), line folding at 75 octets without splitting a UTF-8 character (§3.1) and CRLF
line ends; that is this module, and a dependency would add more code than it saves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

MAX_OCTETS = 75


@dataclass(frozen=True, slots=True)
class Event:
    uid: str
    start: datetime
    minutes: int
    summary: str
    description: str
    url: str | None
    status: str  # TENTATIVE, CONFIRMED or CANCELLED (RFC 5545 §3.8.1.11)


def escape(text: str) -> str:
    """TEXT value escaping: backslash, semicolon, comma, and newlines as `\\n`."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def fold(line: str) -> str:
    """One content line, folded so no physical line exceeds 75 octets (continuation lines
    start with a space, which counts)."""
    pieces: list[str] = []
    current = ""
    size = 0
    for char in line:
        width = len(char.encode())
        limit = MAX_OCTETS if not pieces else MAX_OCTETS - 1
        if size + width > limit:
            pieces.append(current)
            current, size = "", 0
        current += char
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar(name: str, events: Iterable[Event], now: datetime) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//TikTimer//Scheduled posts//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(name)}",
    ]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{escape(event.uid)}",
            f"DTSTAMP:{_stamp(now)}",
            f"DTSTART:{_stamp(event.start)}",
            f"DURATION:PT{event.minutes}M",
            f"SUMMARY:{escape(event.summary)}",
            f"DESCRIPTION:{escape(event.description)}",
            f"STATUS:{event.status}",
        ]
        if event.url:
            lines.append(f"URL:{event.url}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
