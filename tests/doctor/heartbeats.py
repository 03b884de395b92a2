"""Write a worker heartbeat row as a dispatcher would, `age` ago."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import insert

from tiktimer.db.engine import create_engine
from tiktimer.kit.time import utc_now
from tiktimer.models import WorkerHeartbeat


def beat(url: str, worker_id: str, *, age: timedelta) -> None:
    async def write() -> None:
        engine = create_engine(url, one_off=True)
        seen = utc_now() - age
        async with engine.begin() as connection:
            await connection.execute(
                insert(WorkerHeartbeat).values(
                    worker_id=worker_id,
                    hostname="elsewhere",
                    pid=1,
                    concurrency=1,
                    in_flight=0,
                    started_at=seen,
                    last_seen_at=seen,
                )
            )

    asyncio.run(write())
