"""Workers: someone is publishing. Each dispatcher beats into `worker_heartbeats`.

With the scheduler in `tiktimer serve` (`TIKTIMER_RUN_SCHEDULER=true`, the default) the
service itself publishes; otherwise at least one `tiktimer worker` must be alive, by the
rule `/health` uses (a heartbeat within `MISSED_BEATS` intervals).
"""

from __future__ import annotations

from sqlalchemy import select

from tiktimer.doctor.context import DoctorContext
from tiktimer.doctor.result import CheckResult, fail, ok, warn
from tiktimer.kit.time import ensure_utc, utc_now
from tiktimer.models import WorkerHeartbeat
from tiktimer.posts.dispatch.health import MISSED_BEATS

CHECK = "workers"


async def check_workers(ctx: DoctorContext) -> list[CheckResult]:
    assert ctx.settings is not None
    scheduler = ctx.settings.scheduler
    if scheduler.in_process:
        return [ok(CHECK, "the scheduler runs inside `tiktimer serve` (TIKTIMER_RUN_SCHEDULER)")]
    if not ctx.database_ok or ctx.engine is None:
        return [warn(CHECK, "not checked: the database is not reachable", "fix the database first")]
    async with ctx.engine.connect() as connection:
        seen = (await connection.execute(select(WorkerHeartbeat.last_seen_at))).scalars().all()
    limit = scheduler.heartbeat_seconds * MISSED_BEATS
    now = utc_now()
    ages = [(now - ensure_utc(at)).total_seconds() for at in seen]
    alive = [age for age in ages if age <= limit]
    if alive:
        stale = len(ages) - len(alive)
        note = f", {stale} stale" if stale else ""
        return [ok(CHECK, f"{len(alive)} worker(s) alive{note}")]
    if ages:
        problem = (
            f"no live worker: the newest heartbeat is {min(ages):.0f} s old (limit {limit:.0f} s)"
        )
    else:
        problem = "no worker has ever sent a heartbeat, and the scheduler is not in `serve`"
    return [fail(CHECK, problem, "start `tiktimer worker` (or set TIKTIMER_RUN_SCHEDULER=true)")]
