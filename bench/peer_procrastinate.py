"""procrastinate's side of bench/noop_dispatch.py: one no-op task, seeding, a worker.

Its own module (not `__main__`) so the worker processes find the task by its import path,
as procrastinate recommends. Run as a script it is one worker: `peer_procrastinate.py DSN C`.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from typing import Any

import procrastinate
from sqlalchemy import text

from tiktimer.db.engine import create_engine

# procrastinate finds jobs scheduled for later by polling (LISTEN/NOTIFY only announces
# jobs deferred for now); 0.1 s is far tighter than its 5 s default, in its favour.
POLL_SECONDS = 0.1


def app_for(dsn: str) -> procrastinate.App:
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=dsn))

    @app.task(name="noop")
    async def noop() -> None:
        return None

    return app


async def seed(dsn: str, jobs: int, due: datetime) -> None:
    """procrastinate's schema, then `jobs` no-op jobs scheduled for `due`."""
    app = app_for(dsn)
    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        deferrer = app.tasks["noop"].configure(schedule_at=due)
        for start in range(0, jobs, 1000):
            await deferrer.batch_defer_async(*({} for _ in range(min(1000, jobs - start))))


def work(dsn: str, concurrency: int) -> None:
    app = app_for(dsn)

    async def run() -> None:
        async with app.open_async():
            await app.run_worker_async(
                concurrency=concurrency, fetch_job_polling_interval=POLL_SECONDS
            )

    asyncio.run(run())


async def query(dsn: str, sql: str) -> list[Any]:
    engine = create_engine(dsn.replace("postgresql://", "postgresql+asyncpg://"), pool_size=1)
    try:
        async with engine.connect() as connection:
            return list(await connection.execute(text(sql)))
    finally:
        await engine.dispose()


def done(dsn: str) -> int:
    sql = "SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'"
    return int(asyncio.run(query(dsn, sql))[0][0])


if __name__ == "__main__":
    work(sys.argv[1], int(sys.argv[2]))
