"""The scheduler's part of GET /health: workers, due-and-unclaimed posts, oldest lag.

The figures take three queries, so each process computes them at most once a second
(`SUMMARY_TTL_SECONDS`, counted from the end of a computation) and callers in between get
the same summary, `as_of` the time it was computed. Concurrent callers share the one
computation in flight; a failed or timed-out one is not kept, so the next caller tries again.
This is `async-lru`'s `alru_cache(maxsize=1, ttl=...)` on a function of no arguments: it
awaits one shared task per key behind `asyncio.shield` (a caller that gives up leaves the
others waiting; the last one to give up cancels it), drops the entry when the task raised or
was cancelled, and starts the TTL when the task succeeded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from async_lru import alru_cache
from sqlalchemy.ext.asyncio import AsyncEngine

from tiktimer.kit.time import ensure_utc, utc_now
from tiktimer.posts.queue.stats import QueueStats, queue_stats

TIMEOUT_SECONDS = 2.0
# A worker that missed this many heartbeats is reported as not alive.
MISSED_BEATS = 3
# How old the summary may be when /health answers (the database check is never cached).
SUMMARY_TTL_SECONDS = 1.0


def scheduler_health(
    read_engine: AsyncEngine,
    *,
    heartbeat_seconds: float,
    in_process: bool,
    ttl: float = SUMMARY_TTL_SECONDS,
) -> Callable[[], Awaitable[dict[str, Any]]]:
    """The `/health` contributor of one process: a fresh cache per call of this function."""

    @alru_cache(maxsize=1, ttl=ttl)
    async def summary() -> dict[str, Any]:
        now = utc_now()
        async with asyncio.timeout(TIMEOUT_SECONDS):
            stats = await queue_stats(read_engine, now)
        return _summary(stats, now, heartbeat_seconds=heartbeat_seconds, in_process=in_process)

    async def contribute() -> dict[str, Any]:
        try:
            return {"scheduler": await summary()}
        except Exception as exc:  # the database check reports the outage itself
            return {"scheduler": {"ok": False, "error": type(exc).__name__}}

    return contribute


def _summary(
    stats: QueueStats, now: datetime, *, heartbeat_seconds: float, in_process: bool
) -> dict[str, Any]:
    workers = [_worker(row, now, heartbeat_seconds) for row in stats.workers]
    return {
        "ok": True,
        "as_of": now,
        "in_process": in_process,
        "workers": workers,
        "alive_workers": sum(1 for worker in workers if worker["alive"]),
        "due_unclaimed": stats.due_unclaimed,
        "oldest_due_lag_seconds": stats.oldest_due_lag_seconds,
        "publishing": stats.publishing,
        "in_flight": stats.in_flight,
        "awaiting_recovery": stats.awaiting_recovery,
    }


def _worker(row: dict[str, Any], now: datetime, heartbeat_seconds: float) -> dict[str, Any]:
    seen = ensure_utc(row["last_seen_at"])
    age = (now - seen).total_seconds()
    return {
        "worker_id": row["worker_id"],
        "hostname": row["hostname"],
        "pid": row["pid"],
        "concurrency": row["concurrency"],
        "in_flight": row["in_flight"],
        "started_at": ensure_utc(row["started_at"]),
        "last_heartbeat_at": seen,
        "last_heartbeat_age_seconds": round(age, 3),
        "alive": age <= heartbeat_seconds * MISSED_BEATS,
    }
