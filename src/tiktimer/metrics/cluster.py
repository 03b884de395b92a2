"""The cluster's figures, read from the database at scrape time: the same from any process.

Several API processes and workers share nothing but the database, so what describes the
whole installation (the queue, the workers, what publishing did) is read from it when
Prometheus scrapes, in four statements on one connection plus the queue's own summary
(`posts.queue.stats`, three more):

- counts by label, one `UNION ALL` of `GROUP BY`s: posts by platform and status, accounts
  by platform and status, TikTok webhook events applied by event, notification deliveries
  by status;
- the publish-lag histogram: each post's first attempt (`post_attempts.number = 1`, not a
  `missed` one) started minus the post's scheduled time, bucketed in SQL (`GROUP BY` a
  `CASE`), so no row leaves the database, and only the attempts recorded since the
  process last folded them (`metrics.lag`);
- publish outcomes: attempts that ended, by platform, outcome and error code, also only
  those recorded or finished since the process last folded them (`metrics.outcomes`).

Both are counters that never go down in a process (see those modules).
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncEngine

from tiktimer.db.dialect import ids_only_grow
from tiktimer.metrics.lag import LagHistogram, LagTally
from tiktimer.metrics.outcomes import OutcomeKey, OutcomeTally
from tiktimer.metrics.settling import SETTLE_SECONDS
from tiktimer.models import NotificationDelivery, WebhookEvent
from tiktimer.posts.queue.stats import QueueStats, queue_stats
from tiktimer.posts.queue.tables import accounts, posts

webhook_events = WebhookEvent.__table__
deliveries = NotificationDelivery.__table__

Counts = dict[tuple[str, ...], int]


@dataclass(frozen=True, slots=True)
class ClusterSnapshot:
    now: datetime
    queue: QueueStats
    posts: Counts = field(default_factory=dict)  # (platform, status)
    accounts: Counts = field(default_factory=dict)  # (platform, status)
    webhook_events: Counts = field(default_factory=dict)  # (event,)
    deliveries: Counts = field(default_factory=dict)  # (status,)
    lag: dict[str, LagHistogram] = field(default_factory=dict)  # by platform
    outcomes: Counts = field(default_factory=dict)  # (platform, outcome, error_class)


@dataclass(slots=True)
class Tallies:
    """What a process keeps between scrapes of one database: its folded counts."""

    lag: LagTally = field(default_factory=LagTally)
    outcomes: OutcomeTally = field(default_factory=OutcomeTally)

    @classmethod
    def for_engine(
        cls, engine: AsyncEngine, clock: Callable[[], float] = time.monotonic
    ) -> Tallies:
        """Folding where ids only grow (PostgreSQL); on SQLite, which can hand a deleted
        row's id out again, every scrape counts every attempt (embedded: few rows)."""
        settle = SETTLE_SECONDS if ids_only_grow(engine) else math.inf
        return cls(LagTally(settle, clock), OutcomeTally(settle, clock))


async def read_cluster(engine: AsyncEngine, now: datetime, tallies: Tallies) -> ClusterSnapshot:
    """Every cluster-wide figure `/metrics` exports, as of `now`."""
    queue = await queue_stats(engine, now)
    async with engine.connect() as connection:
        counted = (await connection.execute(_COUNTS)).all()
        histograms = await tallies.lag.read(connection)
        outcome_counts = await tallies.outcomes.read(connection)
    grouped: dict[str, Counts] = defaultdict(dict)
    for family, first, second, count in counted:
        key = (str(first), str(second)) if second is not None else (str(first),)
        grouped[str(family)][key] = int(count)
    return ClusterSnapshot(
        now=now,
        queue=queue,
        posts=grouped["posts"],
        accounts=grouped["accounts"],
        webhook_events=grouped["webhook_events"],
        deliveries=grouped["deliveries"],
        lag=histograms,
        outcomes=_classed(outcome_counts),
    )


def error_class(code: Any) -> str:
    """An attempt's error code as a label: the platform's documented codes and ours
    (`missed`, `not_confirmed`, ...) are a bounded vocabulary; anything odd is `other`."""
    if code is None or code == "":
        return "none"
    text = str(code)
    if len(text) > 64 or not all(c.isalnum() or c in "._-" for c in text):
        return "other"
    return text


def _classed(counts: Counter[OutcomeKey]) -> Counts:
    classed: Counter[tuple[str, ...]] = Counter()
    for (platform, outcome, code), count in counts.items():
        classed[(platform, outcome, error_class(code))] += count
    return dict(classed)


def _counts_statement() -> Any:
    none = null()
    parts = [
        select(literal("posts"), posts.c.platform, posts.c.status, func.count()).group_by(
            posts.c.platform, posts.c.status
        ),
        select(literal("accounts"), accounts.c.platform, accounts.c.status, func.count()).group_by(
            accounts.c.platform, accounts.c.status
        ),
        select(literal("webhook_events"), webhook_events.c.event, none, func.count()).group_by(
            webhook_events.c.event
        ),
        select(literal("deliveries"), deliveries.c.status, none, func.count()).group_by(
            deliveries.c.status
        ),
    ]
    return union_all(*parts)


_COUNTS = _counts_statement()
