"""The scheduler's part of GET /health: workers, due-and-unclaimed posts, oldest lag."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tiktimer.kit.time import ensure_utc, utc_now
from tiktimer.scheduler.queue.stats import queue_stats

TIMEOUT_SECONDS = 2.0
# A worker that missed this many heartbeats is reported as not alive.
MISSED_BEATS = 3


def scheduler_health(
    read_engine: AsyncEngine, *, heartbeat_seconds: float, in_process: bool
) -> Callable[[], Awaitable[dict[str, Any]]]:
    async def contribute() -> dict[str, Any]:
        now = utc_now()
        try:
            async with asyncio.timeout(TIMEOUT_SECONDS):
                stats = await queue_stats(read_engine, now)
        except Exception as exc:  # the database check reports the outage itself
            return {"scheduler": {"ok": False, "error": type(exc).__name__}}
        workers = []
        for row in stats.workers:
            seen = ensure_utc(row["last_seen_at"])
            age = (now - seen).total_seconds()
            workers.append(
                {
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
            )
        return {
            "scheduler": {
                "ok": True,
                "in_process": in_process,
                "workers": workers,
                "alive_workers": sum(1 for worker in workers if worker["alive"]),
                "due_unclaimed": stats.due_unclaimed,
                "oldest_due_lag_seconds": stats.oldest_due_lag_seconds,
                "publishing": stats.publishing,
                "in_flight": stats.in_flight,
                "awaiting_recovery": stats.awaiting_recovery,
            }
        }

    return contribute
