"""Turning a series' coming occurrences into posts, a bounded horizon ahead, exactly once.

Every dispatcher process runs `materialise_all` periodically, and the API runs
`materialise_series` when a series is created or changed: several may work on one series
at once. The series row is locked first (one materialiser per series at a time on
PostgreSQL; SQLite has one writer), and each occurrence is claimed by inserting its
`(series_id, occurs_at)` row with `ON CONFLICT DO NOTHING`: the unique constraint is the
guarantee, the lock only saves work. The occurrence row and its post commit together.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tiktimer.config import Settings
from tiktimer.db.dialect import insert_for, row_lock
from tiktimer.db.session import session_scope
from tiktimer.errors import TiktimerError
from tiktimer.models import PostSeries, SeriesOccurrence, SeriesStatus
from tiktimer.planning.recurrence import occurrences, parse_rule
from tiktimer.planning.wallclock import zone
from tiktimer.posts.queue.wakeup import DueSignal
from tiktimer.posts.schemas import PostCreate
from tiktimer.posts.service import PostService

log = logging.getLogger("tiktimer.planning")
MAX_PER_RUN = 200  # occurrences one pass creates per series (HOURLY for 14 days is 336)


@dataclass(frozen=True, slots=True)
class Materialiser:
    """Creates occurrence posts through `PostService` without pre-flight's TikTok call
    (pre-flight runs again when each post publishes)."""

    posts: PostService
    horizon: timedelta

    async def series(self, session: AsyncSession, series_id: int, now: datetime) -> int:
        """Materialise one series in the caller's transaction; returns the posts created."""
        statement = row_lock(select(PostSeries).where(PostSeries.id == series_id))
        series = (await session.scalars(statement)).first()
        if series is None or series.status != SeriesStatus.active:
            return 0
        end = now + self.horizon
        if series.until_at is not None:
            end = min(end, series.until_at - timedelta(microseconds=1))
        tz = zone(series.timezone)
        rule = parse_rule(series.rrule, datetime.fromisoformat(series.dtstart), tz)
        known = set(
            await session.scalars(
                select(SeriesOccurrence.occurs_at).where(
                    SeriesOccurrence.series_id == series.id, SeriesOccurrence.occurs_at > now
                )
            )
        )
        created = 0
        for at in occurrences(rule, now, end, MAX_PER_RUN):
            if at not in known and await self._occurrence(session, series, at):
                created += 1
        series.materialised_until = max(end, series.materialised_until or end)
        return created

    async def _occurrence(self, session: AsyncSession, series: PostSeries, at: datetime) -> bool:
        claim = (
            insert_for(session, SeriesOccurrence.__table__)
            .values(series_id=series.id, occurs_at=at, held=False)
            .on_conflict_do_nothing(index_elements=["series_id", "occurs_at"])
            .returning(SeriesOccurrence.__table__.c.id)
        )
        occurrence_id = (await session.execute(claim)).scalar()
        if occurrence_id is None:
            return False  # another process made it
        values: dict[str, Any] = {}
        try:
            async with session.begin_nested():
                post = await self.posts.create(
                    session, series.user_id, series.timezone, occurrence_post(series, at)
                )
            values["post_id"] = post["id"]
        except TiktimerError as exc:
            values["skipped_reason"] = str(exc.detail)[:500]
            log.warning("series.occurrence.skipped series=%s at=%s", series.id, at.isoformat())
        await session.execute(
            update(SeriesOccurrence).where(SeriesOccurrence.id == occurrence_id).values(**values)
        )
        return True

    async def all(self, sessionmaker: async_sessionmaker[AsyncSession], now: datetime) -> int:
        """One pass over every active series, each in its own transaction."""
        async with sessionmaker() as session:
            ids = list(
                await session.scalars(
                    select(PostSeries.id).where(
                        PostSeries.status == SeriesStatus.active,
                        or_(PostSeries.until_at.is_(None), PostSeries.until_at > now),
                        or_(
                            PostSeries.materialised_until.is_(None),
                            PostSeries.materialised_until < now + self.horizon,
                        ),
                    )
                )
            )
        created = 0
        for series_id in ids:
            try:
                async with session_scope(sessionmaker) as session:
                    created += await self.series(session, series_id, now)
            except Exception:
                log.exception("series.materialise.failed series=%s", series_id)
        return created


def occurrence_post(series: PostSeries, at: datetime) -> PostCreate:
    """The post an occurrence starts as: the series' fields at the occurrence's time. A
    series repeats its video and caption by design: the duplicate guard does not apply."""
    fields = {**series.template, "scheduled_time": at, "draft": False, "allow_duplicate": True}
    return PostCreate.model_validate(fields)


def materialiser_for(settings: Settings, due_signal: DueSignal | None) -> Materialiser:
    """Occurrences are made without pre-flight's TikTok call; it runs again at publish."""
    return Materialiser(
        PostService(None, due_signal=due_signal),
        timedelta(days=settings.planning.series_horizon_days),
    )
