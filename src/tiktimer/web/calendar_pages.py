"""The dashboard and the calendar (month, week, list), in the user's time zone.

Days are the user's local days: a day's bounds are its local midnights converted to UTC,
so days around a DST change are 23 or 25 hours long and every post lands on the right one.
The week view splits each day into wall-clock hours (`web.week`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from starlette.responses import Response

from tiktimer.db.session import SessionDep
from tiktimer.kit.time import utc_now
from tiktimer.web.reads import media_of, posts_between
from tiktimer.web.render import accounts_of, render
from tiktimer.web.session import APP_PATH, WebUser
from tiktimer.web.week import changes_offset, week_rows

router = APIRouter(prefix=APP_PATH)
View = Literal["month", "week", "list"]
ATTENTION = ("failed", "missed", "unconfirmed")


@dataclass
class Day:
    day: date
    in_month: bool
    today: bool
    posts: list[dict[str, Any]] = field(default_factory=list)


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The local midnight that starts `day`, as a UTC instant."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def local_day(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def grid(view: View, anchor: date, today: date) -> tuple[date, date]:
    """First and last day shown: whole weeks (Monday first) around the month or week."""
    if view == "week":
        first = anchor - timedelta(days=anchor.weekday())
        return first, first + timedelta(days=6)
    if view == "list":
        return anchor, anchor + timedelta(days=30)
    start = anchor.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    first = start - timedelta(days=start.weekday())
    last = following - timedelta(days=1)
    return first, last + timedelta(days=6 - last.weekday())


def shift(view: View, anchor: date, step: int) -> date:
    if view == "month":
        month = anchor.month - 1 + step
        return date(anchor.year + month // 12, month % 12 + 1, 1)
    return anchor + timedelta(days=7 * step if view == "week" else 30 * step)


def _parse_day(value: str | None, fallback: date) -> date:
    try:
        return date.fromisoformat(value) if value else fallback
    except ValueError:
        return fallback


@router.get("/calendar")
async def calendar_page(
    request: Request,
    user: WebUser,
    session: SessionDep,
    view: View = "month",
    start: str | None = None,
    account: int | None = None,
) -> Response:
    zone = ZoneInfo(user.timezone)
    today = local_day(utc_now(), zone)
    anchor = _parse_day(start, today)
    first, last = grid(view, anchor, today)
    posts = await posts_between(
        request, day_start(first, zone), day_start(last + timedelta(days=1), zone)
    )
    if account is not None:
        posts = [p for p in posts if p["social_account_id"] == account]
    days = [
        Day(first + timedelta(days=n), (first + timedelta(days=n)).month == anchor.month, False)
        for n in range((last - first).days + 1)
    ]
    by_day = {d.day: d for d in days}
    for post in posts:
        found = by_day.get(local_day(post["scheduled_time"], zone))
        if found is not None:
            found.posts.append(post)
    if today in by_day:
        by_day[today].today = True
    week = week_rows([d.day for d in days], posts, zone) if view == "week" else None
    return await render(
        request,
        "calendar.html",
        user=user,
        accounts=await accounts_of(request, session, user.id),
        view=view,
        anchor=anchor,
        days=days,
        account_filter=account,
        previous=shift(view, anchor, -1),
        following=shift(view, anchor, 1),
        today=today,
        week=week,
        dst_days={d.day for d in days if changes_offset(d.day, zone)},
    )


@router.get("/")
async def dashboard(request: Request, user: WebUser, session: SessionDep) -> Response:
    now = utc_now()
    upcoming = await posts_between(request, now, now + timedelta(days=7), status="scheduled")
    recent = await posts_between(request, now - timedelta(days=30), now, status="published")
    attention = [
        p for status in ATTENTION for p in await posts_between(request, None, None, status=status)
    ]
    accounts = await accounts_of(request, session, user.id)
    refused = [m for m in await media_of(request, user, limit=50) if not m["verdict"]["ok"]]
    return await render(
        request,
        "dashboard.html",
        refused_media=refused,
        user=user,
        accounts=accounts,
        next_day=[p for p in upcoming if p["scheduled_time"] <= now + timedelta(days=1)],
        next_week=[p for p in upcoming if p["scheduled_time"] > now + timedelta(days=1)],
        attention=attention,
        recent=list(reversed(recent))[:10],
        any_posts=bool(upcoming or recent or attention),
    )
