"""Recurring posts: create a series, change "this and all following", pause, resume, end.

"Edit this one" is an ordinary `PATCH /posts/{id}` on the occurrence's post: it is its own
post, and the series never overwrites it. "This and all following" splits the series at
that occurrence: the old series ends before it, a new one (the changed rule or fields)
starts there, and the old series' posts from there on that have not started publishing are
deleted and made again by the new series. Posts being published or done are never touched.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.auth.dependencies import Principal
from tiktimer.db.dialect import row_lock
from tiktimer.errors import Conflict, NotFound, Unprocessable
from tiktimer.models import Post, PostSeries, PostStatus, SeriesOccurrence, SeriesStatus
from tiktimer.planning.materialise import Materialiser
from tiktimer.planning.recurrence import BadRule, first_after, parse_rule
from tiktimer.planning.wallclock import UnknownZone, to_utc, zone
from tiktimer.posts import transitions
from tiktimer.posts.schemas import PostCreate
from tiktimer.posts.service import PostService

# An occurrence's post that nothing has started on: a split or an end may remove it.
UNSTARTED_POSTS = (PostStatus.draft, PostStatus.scheduled, PostStatus.cancelled)
TEMPLATE_EXCLUDED = {"scheduled_time", "draft"}
# Rules are walked from their start: one from long ago would cost every evaluation.
OLDEST_START = timedelta(days=366)


def template_of(data: PostCreate) -> dict[str, Any]:
    return data.model_dump(mode="json", exclude=TEMPLATE_EXCLUDED, exclude_none=True)


def checked_zone(timezone: str) -> ZoneInfo:
    try:
        return zone(timezone)
    except UnknownZone as exc:
        raise Unprocessable(_field("timezone", str(exc))) from None


def checked_rule(rrule: str, dtstart: datetime, timezone: str, now: datetime) -> datetime:
    """The rule's first occurrence after `now`; 422 naming the field when it is unusable."""
    tz = checked_zone(timezone)
    if to_utc(dtstart, tz) < now - OLDEST_START:
        raise Unprocessable(_field("dtstart", "must be less than a year ago"))
    try:
        return first_after(parse_rule(rrule, dtstart, tz), now)
    except BadRule as exc:
        raise Unprocessable(_field("rrule", str(exc))) from None


async def create(
    session: AsyncSession,
    posts: PostService,
    materialiser: Materialiser,
    user: Principal,
    *,
    rrule: str,
    dtstart: datetime,
    timezone: str | None,
    post: PostCreate,
    now: datetime,
) -> PostSeries:
    """A series whose first occurrence is created with full pre-flight (so a post TikTok
    would refuse is refused now, 422); the rest of the horizon follows."""
    tz_name = timezone or user.timezone
    checked_zone(tz_name)
    local_start = _local(dtstart, tz_name)
    first = checked_rule(rrule, local_start, tz_name, now)
    series = PostSeries(
        user_id=user.id,
        rrule=rrule.strip(),
        dtstart=local_start.isoformat(timespec="seconds"),
        timezone=tz_name,
        status=SeriesStatus.active,
        template=template_of(post),
    )
    return await _start(session, posts, materialiser, series, first, now)


async def _start(
    session: AsyncSession,
    posts: PostService,
    materialiser: Materialiser,
    series: PostSeries,
    first: datetime,
    now: datetime,
) -> PostSeries:
    """Save the series with its first occurrence's post, made through the full
    `PostService.create` (pre-flight included), then fill the horizon."""
    data = PostCreate.model_validate({**series.template, "scheduled_time": first})
    first_post = await posts.create(session, series.user_id, series.timezone, data)
    session.add(series)
    await session.flush()
    session.add(SeriesOccurrence(series_id=series.id, occurs_at=first, post_id=first_post["id"]))
    await session.flush()
    await materialiser.series(session, series.id, now)
    return series


async def owned(
    session: AsyncSession, user_id: int, series_id: int, *, lock: bool = True
) -> PostSeries:
    """The user's series (404 otherwise), held for a change unless `lock` is off."""
    statement = select(PostSeries).where(PostSeries.id == series_id, PostSeries.user_id == user_id)
    if lock:
        statement = row_lock(statement)
    series: PostSeries | None = (await session.scalars(statement)).first()
    if series is None:
        raise NotFound("Series not found")
    return series


async def split(
    session: AsyncSession,
    posts: PostService,
    materialiser: Materialiser,
    user: Principal,
    series_id: int,
    *,
    from_post_id: int,
    rrule: str | None,
    dtstart: datetime | None,
    changes: dict[str, Any],
    now: datetime,
) -> PostSeries:
    """ "This and all following": a new series from the occurrence of `from_post_id`."""
    series = await owned(session, user.id, series_id)
    if series.status != SeriesStatus.active:
        raise Conflict(f"The series is {series.status}")
    occurrence = await _occurrence_of(session, series.id, from_post_id)
    status = await transitions.status_of(session, from_post_id, owner=user.id)
    if occurrence.occurs_at <= now or status not in UNSTARTED_POSTS:
        raise Conflict("That occurrence is past or publishing; choose a coming one")
    tz = zone(series.timezone)
    local_start = (
        _local(dtstart, series.timezone)
        if dtstart is not None
        else occurrence.occurs_at.astimezone(tz).replace(tzinfo=None)
    )
    new_rule = (rrule or series.rrule).strip()
    first = checked_rule(new_rule, local_start, series.timezone, _before(occurrence.occurs_at))
    cut = min(first, occurrence.occurs_at)
    await _drop_unstarted(session, series, after=cut, inclusive=True)
    series.until_at = cut
    successor = PostSeries(
        user_id=user.id,
        rrule=new_rule,
        dtstart=local_start.isoformat(timespec="seconds"),
        timezone=series.timezone,
        status=series.status,
        template={**series.template, **changes},
    )
    session.add(successor)
    await session.flush()
    # Posts that had started stay, owned by the successor: it never makes their time again.
    await session.execute(
        update(SeriesOccurrence)
        .where(SeriesOccurrence.series_id == series.id, SeriesOccurrence.occurs_at >= cut)
        .values(series_id=successor.id)
    )
    return await _start(session, posts, materialiser, successor, first, now)


async def end(session: AsyncSession, user: Principal, series_id: int, now: datetime) -> None:
    """No more occurrences; the coming ones that have not started are deleted."""
    series = await owned(session, user.id, series_id)
    await _drop_unstarted(session, series, after=now, inclusive=False)
    series.status = SeriesStatus.ended
    series.until_at = min(series.until_at or now, now)


async def pause(session: AsyncSession, user: Principal, series_id: int, now: datetime) -> int:
    """Hold the series: nothing new is made and its coming scheduled posts are cancelled
    (marked held, so `resume` schedules them again). Returns how many were held."""
    series = await owned(session, user.id, series_id)
    if series.status != SeriesStatus.active:
        raise Conflict(f"The series is {series.status}")
    series.status = SeriesStatus.paused
    held = 0
    for occurrence in await _coming(session, series.id, now):
        if occurrence.post_id is not None and await transitions.transition(
            session,
            occurrence.post_id,
            (PostStatus.scheduled, transitions.UNSTARTED),
            PostStatus.cancelled,
            **transitions.released(now),
        ):
            occurrence.held = True
            held += 1
    return held


async def resume(
    session: AsyncSession,
    posts: PostService,
    materialiser: Materialiser,
    user: Principal,
    series_id: int,
    now: datetime,
) -> int:
    """Schedule again the held posts still ahead (one whose time passed stays cancelled:
    never published late), then fill the horizon. Returns how many came back."""
    series = await owned(session, user.id, series_id)
    if series.status != SeriesStatus.paused:
        raise Conflict(f"The series is {series.status}")
    series.status = SeriesStatus.active
    back = 0
    for occurrence in await _coming(session, series.id, now):
        if occurrence.held and occurrence.post_id is not None:
            occurrence.held = False
            back += await transitions.transition(
                session, occurrence.post_id, (PostStatus.cancelled,), PostStatus.scheduled
            )
    await session.flush()
    await materialiser.series(session, series.id, now)
    if back and posts.due_signal is not None:
        await posts.due_signal.post_due(session, now)
    return back


async def occurrences_of(
    session: AsyncSession, series_id: int, limit: int = 100
) -> list[tuple[SeriesOccurrence, str | None]]:
    rows = await session.execute(
        select(SeriesOccurrence, Post.status)
        .outerjoin(Post, Post.id == SeriesOccurrence.post_id)
        .where(SeriesOccurrence.series_id == series_id)
        .order_by(SeriesOccurrence.occurs_at.desc())
        .limit(limit)
    )
    return sorted(((o, s) for o, s in rows), key=lambda pair: pair[0].occurs_at)


async def _coming(session: AsyncSession, series_id: int, now: datetime) -> list[SeriesOccurrence]:
    rows = await session.scalars(
        select(SeriesOccurrence).where(
            SeriesOccurrence.series_id == series_id, SeriesOccurrence.occurs_at > now
        )
    )
    return list(rows)


async def _occurrence_of(session: AsyncSession, series_id: int, post_id: int) -> SeriesOccurrence:
    found = await session.scalar(
        select(SeriesOccurrence).where(
            SeriesOccurrence.series_id == series_id, SeriesOccurrence.post_id == post_id
        )
    )
    if found is None:
        raise NotFound("That post is not an occurrence of this series")
    return found


async def _drop_unstarted(
    session: AsyncSession, series: PostSeries, *, after: datetime, inclusive: bool
) -> None:
    """Delete the series' coming posts nobody started, with their occurrence rows (so a
    successor may make its own); started or finished ones stay where they are."""
    for occurrence in await _coming(session, series.id, after if not inclusive else _before(after)):
        if occurrence.post_id is None or await transitions.remove(
            session, occurrence.post_id, UNSTARTED_POSTS, owner=series.user_id
        ):
            await session.delete(occurrence)
    await session.flush()


def _before(moment: datetime) -> datetime:
    return moment - timedelta(microseconds=1)


def _local(value: datetime, tz_name: str) -> datetime:
    """The series' start as a wall-clock time (an aware value is converted to the zone)."""
    if value.tzinfo is not None:
        return value.astimezone(zone(tz_name)).replace(tzinfo=None, microsecond=0)
    return value.replace(microsecond=0)


def _field(field: str, message: str) -> list[dict[str, Any]]:
    return [{"loc": ["body", field], "msg": message, "type": "value_error"}]
