"""Acceptance: worker processes killed with SIGKILL mid-run, every post published exactly once.

Three `tiktimer worker` processes on PostgreSQL publish 300 posts, due at the same moment
across 60 TikTok accounts, to the emulator running as its own process (`tiktimer emulator`).
While they work, workers are SIGKILLed at random moments, one of them deliberately while
it uploads, and restarted. In the end every post is `published`, and the emulator, which
counts publications per caption, saw exactly one completed publication per post.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from tests.fixtures.databases import create_pg_database, drop_pg_database
from tests.scheduler.stage import (
    EmulatorProcess,
    WorkerPool,
    emulator_process,
    pid_of,
    seed,
    worker_env,
)
from tiktimer.db import migrate
from tiktimer.db.engine import create_engine
from tiktimer.kit.time import utc_now
from tiktimer.models import Post, PostAttempt, WorkerHeartbeat

ACCOUNTS = 60
POSTS_PER_ACCOUNT = 5  # within TikTok's 6 inits per minute per account
WORKERS = 3
CHAOS_SECONDS = 25.0

pytestmark = pytest.mark.slow


@dataclass
class Run:
    url: str
    data_dir: Path
    keys: str
    emulator: EmulatorProcess
    pool: WorkerPool


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Run]:
    url = create_pg_database("tiktimer_acceptance")
    try:
        migrate.upgrade(url)
        keys = Fernet.generate_key().decode()
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        with emulator_process(tmp_path) as emulator:
            env = worker_env(
                url,
                data_dir,
                keys,
                emulator,
                TIKTIMER_SCHEDULER_LEASE_SECONDS="6",
                TIKTIMER_SCHEDULER_POLL_SECONDS="0.5",
                TIKTIMER_SCHEDULER_SHUTDOWN_GRACE_SECONDS="10",
                TIKTIMER_PUBLISH_RETRY_BASE_SECONDS="1",
                TIKTIMER_DB_POOL_SIZE="4",
            )
            pool = WorkerPool(tmp_path, env, concurrency=20)
            try:
                yield Run(url, data_dir, keys, emulator, pool)
            finally:
                pool.stop_all()
    finally:
        drop_pg_database(url)


def query(url: str, statement: object) -> list[tuple[object, ...]]:
    async def go() -> list[tuple[object, ...]]:
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.connect() as connection:
                return [tuple(row) for row in await connection.execute(statement)]  # type: ignore[call-overload]
        finally:
            await engine.dispose()

    return asyncio.run(go())


def wait_until(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {seconds}s")
        time.sleep(0.25)


def statuses(url: str) -> Counter[str]:
    return Counter(
        {
            str(s): int(n)
            for s, n in query(url, select(Post.status, func.count()).group_by(Post.status))
        }
    )


def beating(url: str) -> set[int]:
    return {pid for (pid,) in query(url, select(WorkerHeartbeat.pid))}  # type: ignore[misc]


def kill_an_uploader(run: Run) -> bool:
    """SIGKILL the worker holding a post mid-upload; True if one was found."""
    rows = query(
        run.url,
        select(Post.claimed_by).where(
            Post.publish_stage == "uploading", Post.claimed_by.is_not(None)
        ),
    )
    for (worker_id,) in rows:
        slot = run.pool.slot_of_pid(pid_of(str(worker_id)))
        if slot is not None:
            run.pool.kill(slot)
            run.pool.start(slot)
            return True
    return False


def test_sigkilled_workers_lose_nothing_and_publish_nothing_twice(run: Run) -> None:
    rng = random.Random()
    # Uploads take a moment, so kills land mid-upload as well as elsewhere.
    run.emulator.add_fault(endpoint="upload", kind="latency", seconds=0.4, times=None)
    due_at = utc_now() + timedelta(seconds=3)
    seeded = asyncio.run(
        seed(
            run.url,
            run.data_dir,
            run.keys,
            run.emulator,
            accounts=ACCOUNTS,
            posts_per_account=POSTS_PER_ACCOUNT,
            due_at=due_at,
            prefix="accept",
        )
    )
    for slot in range(WORKERS):
        run.pool.start(slot)

    wait_until(lambda: kill_an_uploader(run), 30, "a worker caught mid-upload")
    chaos_ends = time.monotonic() + CHAOS_SECONDS
    kills = 1
    while time.monotonic() < chaos_ends and statuses(run.url)["published"] < len(seeded.post_ids):
        time.sleep(rng.uniform(1.0, 3.0))
        slot = rng.randrange(WORKERS)
        run.pool.kill(slot)
        kills += 1
        time.sleep(rng.uniform(0.0, 1.0))
        run.pool.start(slot)

    wait_until(
        lambda: statuses(run.url)["published"] == len(seeded.post_ids),
        120,
        "every post published",
    )
    # Stop gracefully once every worker runs (a process still importing dies of SIGTERM).
    wait_until(lambda: run.pool.live_pids() <= beating(run.url), 60, "workers beating")
    exit_codes = run.pool.stop_all()

    assert statuses(run.url) == Counter({"published": len(seeded.post_ids)})
    completed = Counter(
        p["caption"] for p in run.emulator.publications() if p["status"] == "PUBLISH_COMPLETE"
    )
    assert set(completed) == set(seeded.captions.values())
    assert [c for c, n in completed.items() if n != 1] == []  # exactly once each
    rows = query(run.url, select(Post.id, Post.platform_publish_id, Post.claimed_by))
    by_publish_id = {p["publish_id"]: p for p in run.emulator.publications()}
    for post_id, publish_id, claimed_by in rows:
        assert claimed_by is None
        assert by_publish_id[publish_id]["status"] == "PUBLISH_COMPLETE"
        assert by_publish_id[publish_id]["caption"] == seeded.captions[int(post_id)]  # type: ignore[call-overload]
    assert query(run.url, select(func.count()).where(PostAttempt.outcome == "running")) == [(0,)]
    logs = {p.name: p.read_text()[-2000:] for p in run.pool.workdir.glob("worker-*.log")}
    assert exit_codes == [0] * WORKERS, logs  # SIGTERM: graceful
    # Killed workers left heartbeats (health shows them as not alive); stopped ones did not.
    live = query(run.url, select(func.count()).select_from(WorkerHeartbeat))[0][0]
    assert live <= kills
    assert kills >= 2
