"""The publish-lag histogram, folded as attempts settle, so a scrape reads only new rows.

Bucketing every first attempt ever made on each scrape costs a scan of `post_attempts`
(about 0.6 s at 200,000 rows on a small machine): too much every 15 seconds once an
installation is old. A first attempt's lag never changes once its row exists (its start
is written with it, and `missed` rows are inserted as such), so each process keeps the
counts of attempts up to an id (`upto`) and each scrape buckets only the rows after it,
an index range on the primary key.

`upto` only moves to an id that has settled (`metrics.settling`), so a row committed late
under a smaller id is still read. A process's first scrapes read the whole table once.
Only where ids only grow (PostgreSQL; `cluster.Tallies.for_engine`): SQLite hands a
deleted newest row's id out again, so there every scrape reads every first attempt.

Because the folded counts are the process's own, they never go down: a deleted post's
first attempt stays counted by processes that folded it, while one started later does not
count it; the dashboards and alerts take `max` across API processes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection

from tiktimer.db.dialect import seconds_between
from tiktimer.metrics.settling import SETTLE_SECONDS, SettledIds
from tiktimer.posts.queue.records import AttemptOutcome
from tiktimer.posts.queue.tables import attempts, posts

# Seconds; the last bucket (+Inf) is implicit.
LAG_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
NO_END = 2**31 - 1  # the id column is an INTEGER


@dataclass(frozen=True, slots=True)
class LagHistogram:
    """Cumulative bucket counts per `LAG_BUCKETS` bound (and +Inf last), count and sum."""

    buckets: list[int]
    count: int
    sum: float


@dataclass(slots=True)
class _Bins:
    counts: list[int] = field(default_factory=lambda: [0] * (len(LAG_BUCKETS) + 1))
    total: float = 0.0

    def add(self, index: int, count: int, total: float) -> None:
        self.counts[index] += count
        self.total += total


class LagTally:
    """One process's folded lag counts for one database (see the module's docstring)."""

    def __init__(
        self,
        settle_seconds: float = SETTLE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settled = SettledIds(settle_seconds, clock)
        self.upto = 0
        self.folded: dict[str, _Bins] = {}
        self._lock = asyncio.Lock()

    async def read(self, connection: AsyncConnection) -> dict[str, LagHistogram]:
        """The histogram of every first attempt, by platform, reading only new rows."""
        async with self._lock:
            settled = self.settled.advance((await connection.execute(NEWEST)).scalar())
            if settled is not None and settled > self.upto:
                rows = await connection.execute(_RANGE, {"after": self.upto, "upto": settled})
                _add(self.folded, rows.all())
                self.upto = settled
            tail: dict[str, _Bins] = {}
            rows = await connection.execute(_RANGE, {"after": self.upto, "upto": NO_END})
            _add(tail, rows.all())
            return _cumulative(self.folded, tail)


def _add(bins: dict[str, _Bins], rows: Iterable[Any]) -> None:
    for platform, index, count, total in rows:
        bins.setdefault(str(platform), _Bins()).add(int(index), int(count), float(total or 0))


def _cumulative(*parts: dict[str, _Bins]) -> dict[str, LagHistogram]:
    result = {}
    for platform in sorted({p for part in parts for p in part}):
        running, cumulative, total = 0, [], 0.0
        for index in range(len(LAG_BUCKETS) + 1):
            running += sum(part[platform].counts[index] for part in parts if platform in part)
            cumulative.append(running)
        total = sum(part[platform].total for part in parts if platform in part)
        result[platform] = LagHistogram(cumulative, running, total)
    return result


def _range_statement() -> Any:
    lag = seconds_between(attempts.c.started_at, posts.c.scheduled_time)
    # Numbers inline, not bound: PostgreSQL matches the GROUP BY to the selected CASE only
    # when both are the same text, and each bound parameter would be a new one.
    bucket = case(
        *(
            (lag <= literal_column(repr(bound)), literal_column(str(index)))
            for index, bound in enumerate(LAG_BUCKETS)
        ),
        else_=literal_column(str(len(LAG_BUCKETS))),
    )
    # A post rescheduled after its first try would count negative.
    clamped = case((lag < literal_column("0"), literal_column("0.0")), else_=lag)
    return (
        select(posts.c.platform, bucket, func.count(), func.sum(clamped))
        .select_from(attempts.join(posts, posts.c.id == attempts.c.post_id))
        .where(
            attempts.c.id > bindparam("after"),
            attempts.c.id <= bindparam("upto"),
            attempts.c.number == 1,
            attempts.c.outcome != AttemptOutcome.missed,
        )
        .group_by(posts.c.platform, bucket)
    )


NEWEST = select(func.max(attempts.c.id))
_RANGE = _range_statement()
