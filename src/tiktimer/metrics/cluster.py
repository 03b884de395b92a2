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
- publish outcomes: attempts that ended, by platform, outcome and error code.

The outcome counts grow as attempts are recorded; deleting posts (and their attempts, by
cascade) makes them shrink, which Prometheus reads as a counter reset.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncEngine

from tiktimer.metrics.lag import LagHistogram, LagTally
from tiktimer.models import NotificationDelivery, WebhookEvent
from tiktimer.posts.queue.records import AttemptOutcome
from tiktimer.posts.queue.stats import QueueStats, queue_stats
from tiktimer.posts.queue.tables import accounts, attempts, posts

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


async def read_cluster(engine: AsyncEngine, now: datetime, lag: LagTally) -> ClusterSnapshot:
    """Every cluster-wide figure `/metrics` exports, as of `now`."""
    queue = await queue_stats(engine, now)
    async with engine.connect() as connection:
        counted = (await connection.execute(_COUNTS)).all()
        histograms = await lag.read(connection)
        outcome_rows = (await connection.execute(_OUTCOMES)).all()
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
        outcomes={
            (str(platform), str(outcome), error_class(code)): int(count)
            for platform, outcome, code, count in outcome_rows
        },
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


def _outcomes_statement() -> Any:
    return (
        select(posts.c.platform, attempts.c.outcome, attempts.c.error_code, func.count())
        .select_from(attempts.join(posts, posts.c.id == attempts.c.post_id))
        .where(attempts.c.outcome != AttemptOutcome.running)
        .group_by(posts.c.platform, attempts.c.outcome, attempts.c.error_code)
    )


_COUNTS = _counts_statement()
_OUTCOMES = _outcomes_statement()
