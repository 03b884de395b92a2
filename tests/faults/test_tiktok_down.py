"""TikTok down or slow: posts retry and then succeed, each published exactly once.

The TikTok emulator runs as its own process (`tiktimer emulator`) and a `tiktimer worker`
publishes to it while the emulator's admin API scripts outages: 5xx answers on every
step (creator_info, init, upload, status), an init whose answer is lost after TikTok
created the task, an init that hangs until its connection drops, and slow uploads.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from tests.faults.rig import wait_until
from tests.fixtures.databases import sqlite_url
from tests.scheduler.stage import WorkerPool, emulator_process, seed, worker_env
from tiktimer.db import migrate
from tiktimer.db.engine import create_engine
from tiktimer.kit.time import utc_now
from tiktimer.models import Post, PostAttempt

pytestmark = pytest.mark.slow

POSTS = 4

FAULTS = [
    {"endpoint": "creator_info", "kind": "http_error", "status": 500, "times": 1},
    {"endpoint": "video_init", "kind": "http_error", "status": 503, "times": 2},
    # TikTok created the task, the answer was lost: that task never gets bytes.
    {"endpoint": "video_init", "kind": "http_error", "status": 502, "phase": "after"},
    {"endpoint": "video_init", "kind": "hang", "seconds": 2.0},  # then the connection drops
    {"endpoint": "upload", "kind": "http_error", "status": 500, "times": 1},
    {"endpoint": "upload", "kind": "latency", "seconds": 0.5, "times": None},
    {"endpoint": "status", "kind": "http_error", "status": 500, "times": 2},
    {"endpoint": "status", "kind": "latency", "seconds": 1.0, "times": 3},
]


async def scalar_rows(url: str, statement: object) -> list[tuple[object, ...]]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in await connection.execute(statement)]  # type: ignore[call-overload]
    finally:
        await engine.dispose()


def test_posts_ride_out_tiktok_errors_hangs_and_latency(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    migrate.upgrade(url)
    keys = Fernet.generate_key().decode()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with emulator_process(tmp_path) as emulator:
        for fault in FAULTS:
            emulator.add_fault(**fault)
        env = worker_env(
            url,
            data_dir,
            keys,
            emulator,
            TIKTIMER_SCHEDULER_POLL_SECONDS="0.5",
            TIKTIMER_PUBLISH_RETRY_BASE_SECONDS="0.5",
            TIKTIMER_PUBLISH_RETRY_CAP_SECONDS="2",
            TIKTIMER_STATUS_POLL_FIRST_SECONDS="0.5",
            TIKTIMER_STATUS_POLL_MAX_SECONDS="1",
            TIKTIMER_PUBLISH_MAX_ATTEMPTS="10",
        )
        seeded = asyncio.run(
            seed(
                url,
                data_dir,
                keys,
                emulator,
                accounts=POSTS,
                posts_per_account=1,
                due_at=utc_now() + timedelta(seconds=1),
                prefix="faulty",
            )
        )
        pool = WorkerPool(tmp_path, env, concurrency=10)
        pool.start(0)
        started = time.monotonic()

        def statuses() -> Counter[str]:
            rows = asyncio.run(
                scalar_rows(url, select(Post.status, func.count()).group_by(Post.status))
            )
            return Counter({str(status): int(str(n)) for status, n in rows})

        try:
            wait_until(lambda: statuses()["published"] == POSTS, 60, "every post published")
        finally:
            exit_codes = pool.stop_all()
        elapsed = time.monotonic() - started

        in_force = emulator.admin.get("/faults").json()
        fired = {(f["endpoint"], f["kind"], f["phase"]): f["fired"] for f in in_force}
        for fault in FAULTS:
            key = (fault["endpoint"], fault["kind"], fault.get("phase", "before"))
            assert fired[key] >= 1, f"{key} never hit"
        publications = emulator.publications()
        completed = Counter(p["caption"] for p in publications if p["status"] == "PUBLISH_COMPLETE")
        assert completed == Counter(dict.fromkeys(seeded.captions.values(), 1))  # exactly once
        assert len(publications) > POSTS  # the lost init's task exists, never published
        retried = asyncio.run(
            scalar_rows(
                url, select(func.count()).where(PostAttempt.outcome.in_(("retry", "reinitialize")))
            )
        )
        assert int(str(retried[0][0])) >= 3  # failed attempts were retried
        assert exit_codes == [0]
        assert elapsed < 60
        assert statuses() == Counter({"published": POSTS})
