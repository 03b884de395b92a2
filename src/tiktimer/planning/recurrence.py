"""RFC 5545 recurrence rules, evaluated on wall-clock times (python-dateutil's `rrule`).

The rule runs on the series' start as a local time in its zone, so a 09:00 series stays
09:00 local across DST changes; each local occurrence becomes a UTC instant by the rule in
`planning.wallclock` (a skipped time moves past the gap, a repeated one is the first).

Evaluation is always bounded: dateutil walks a rule until it finds an occurrence, so a rule
that (almost) never matches (`FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30`) would walk to the year
9999. Here `COUNT` and `UNTIL` are taken out of the rule and applied by us, and every walk
runs on a copy ending at the window asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from tiktimer.planning.wallclock import to_utc

# Posts on TikTok: more often than hourly would only burn the daily cap and look like spam.
_REFUSED_FREQUENCIES = ("SECONDLY", "MINUTELY")
MAX_RULE_LENGTH = 500
MAX_COUNT = 10_000
MIN_GAP = timedelta(minutes=15)
_DAY = timedelta(days=1)


class BadRule(ValueError):
    """The text is not one RRULE this service evaluates; the message says why."""


@dataclass(frozen=True)
class Rule:
    base: rrule  # without COUNT and UNTIL
    start: datetime  # the local start, aware in `tz`
    tz: ZoneInfo
    count: int | None
    until: datetime | None  # UTC, inclusive


def parse_rule(text: str, dtstart: datetime, tz: ZoneInfo) -> Rule:
    """One `RRULE` (with or without the `RRULE:` prefix) from the local `dtstart`."""
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    if not body or len(body) > MAX_RULE_LENGTH or any(c in body for c in "\r\n"):
        raise BadRule("give one RRULE line, e.g. FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=9")
    parts = dict(_pair(part) for part in body.upper().split(";") if part)
    if "FREQ" not in parts:
        raise BadRule("the rule needs a FREQ (DAILY, WEEKLY, MONTHLY or YEARLY)")
    if parts["FREQ"] in _REFUSED_FREQUENCIES:
        raise BadRule(f"FREQ={parts['FREQ']} is too frequent for posts; use HOURLY or slower")
    count = _count(parts.pop("COUNT", None))
    until = _until(parts.pop("UNTIL", None), tz)
    if count is not None and until is not None:
        raise BadRule("give COUNT or UNTIL, not both")
    start = dtstart.replace(tzinfo=tz, fold=0)
    try:
        base = rrulestr(";".join(f"{k}={v}" for k, v in parts.items()), dtstart=start)
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise BadRule(f"not a valid RRULE: {exc}") from None
    if not isinstance(base, rrule):
        raise BadRule("give one RRULE line")
    return Rule(base=base, start=start, tz=tz, count=count, until=until)


def _pair(part: str) -> tuple[str, str]:
    name, _, value = part.partition("=")
    if not value:
        raise BadRule(f"{part!r} is not NAME=VALUE")
    return name.strip(), value.strip()


def _count(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or not 1 <= int(value) <= MAX_COUNT:
        raise BadRule(f"COUNT must be a whole number from 1 to {MAX_COUNT}")
    return int(value)


def _until(value: str | None, tz: ZoneInfo) -> datetime | None:
    """UNTIL as a UTC instant: `…Z` is UTC, a floating time or a date is local (a date
    includes its whole day)."""
    if value is None:
        return None
    try:
        if len(value) == 8:
            day = datetime.strptime(value, "%Y%m%d")
            return to_utc(day + _DAY - timedelta(microseconds=1), tz)
        moment = datetime.strptime(value.rstrip("Z"), "%Y%m%dT%H%M%S")
    except ValueError:
        raise BadRule("UNTIL must look like 20271231T235959Z or 20271231") from None
    return moment.replace(tzinfo=UTC) if value.endswith("Z") else to_utc(moment, tz)


def occurrences(rule: Rule, after: datetime, before: datetime, limit: int) -> Iterator[datetime]:
    """UTC instants of the rule's occurrences in (after, before], oldest first, at most
    `limit`; each local occurrence converted by the wall-clock rule."""
    end = before if rule.until is None else min(before, rule.until)
    if end <= after or limit <= 0:
        return
    # A day's margin both ways: a local time pushed by a gap may land across `after`.
    walk = rule.base.replace(until=(end + _DAY).astimezone(rule.tz).replace(tzinfo=rule.tz))
    if rule.count is not None:
        local_times: Iterator[datetime] = walk.xafter(rule.start, rule.count, inc=True)
    else:
        local_times = walk.xafter((after - _DAY).astimezone(rule.tz), inc=True)
    given = 0
    for local in local_times:
        instant = to_utc(local.replace(tzinfo=None), rule.tz)
        if after < instant <= end:
            yield instant
            given += 1
            if given >= limit:
                return


def first_after(rule: Rule, after: datetime, horizon_days: int = 3660) -> datetime:
    """The first occurrence after `after` within about ten years; BadRule if there is none,
    or if occurrences come closer together than MIN_GAP (BY… lists can make a DAILY rule
    fire every second: FREQ alone does not bound it)."""
    coming = list(occurrences(rule, after, after + timedelta(days=horizon_days), 100))
    if not coming:
        raise BadRule("the rule has no occurrence after now (within ten years)")
    if any(b - a < MIN_GAP for a, b in zip(coming, coming[1:], strict=False)):
        minutes = int(MIN_GAP.total_seconds() // 60)
        raise BadRule(f"occurrences must be at least {minutes} minutes apart")
    return coming[0]
