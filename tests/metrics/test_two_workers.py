"""Acceptance (issue 15): a publish run by two `tiktimer worker` processes (on PostgreSQL,
and on one SQLite file every process shares), then `/metrics` scraped from `tiktimer serve`
(which runs no dispatcher): the lag histogram and the outcome counters count every post,
those of both workers, and each worker's own port counts the platform calls it made.

Real processes throughout: the TikTok emulator as its own process, two workers, the API;
posts and accounts seeded straight into the database (`tests/scheduler/stage.py`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import distinct, func, select

from tests.fixtures.databases import create_pg_database, drop_pg_database, sqlite_url
from tests.fixtures.server import free_port, running_server
from tests.metrics.scrape import Samples, parse, total, value
from tests.scheduler.stage import WorkerPool, emulator_process, seed, worker_env
from tiktimer.db import migrate
from tiktimer.db.engine import create_engine
from tiktimer.kit.time import utc_now
from tiktimer.models import Post, PostAttempt, WorkerHeartbeat

pytestmark = pytest.mark.slow

ACCOUNTS = 6
POSTS_PER_ACCOUNT = 2  # within TikTok's 6 inits per minute per account
TOKEN = "acceptance-metrics-token-0123456789"


@dataclass
class Run:
    url: str
    env: dict[str, str]
    pools: list[WorkerPool]
    ports: list[int]
    seeded_ids: list[int]


@pytest.fixture(params=["postgresql", "sqlite"])
def run(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Run]:
    if request.param == "sqlite":  # one file, its single writer shared by every process
        (tmp_path / "db").mkdir()
        url = sqlite_url(tmp_path / "db")
    else:
        url = create_pg_database("tiktimer_metrics")
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
                TIKTIMER_RUN_SCHEDULER="false",
                TIKTIMER_SCHEDULER_POLL_SECONDS="0.2",
                TIKTIMER_SCHEDULER_BATCH_SIZE="1",
                TIKTIMER_STATUS_POLL_FIRST_SECONDS="0.5",
                TIKTIMER_SCHEDULER_SHUTDOWN_GRACE_SECONDS="5",
                TIKTIMER_METRICS_TOKEN=TOKEN,
                TIKTIMER_DB_POOL_SIZE="4",
            )
            ports = [free_port(), free_port()]
            pools = []
            for n, port in enumerate(ports):
                workdir = tmp_path / f"worker{n}"
                workdir.mkdir()
                # Two at a time each, so neither worker can take the whole batch.
                pool = WorkerPool(
                    workdir, {**env, "TIKTIMER_METRICS_WORKER_PORT": str(port)}, concurrency=2
                )
                pools.append(pool)
            try:
                for pool in pools:
                    pool.start(0)
                wait_for_heartbeats(url, 2)
                # Uploads take a moment, so a worker holding two posts cannot take a third.
                emulator.add_fault(endpoint="upload", kind="latency", seconds=0.5, times=None)
                seeded = asyncio.run(
                    seed(url, data_dir, keys, emulator, accounts=ACCOUNTS,
                         posts_per_account=POSTS_PER_ACCOUNT,
                         due_at=utc_now() + timedelta(seconds=2), prefix="metrics")
                )  # fmt: skip
                yield Run(url, env, pools, ports, seeded.post_ids)
            finally:
                for pool in pools:
                    pool.stop_all()
    finally:
        if request.param == "postgresql":
            drop_pg_database(url)


def query(url: str, statement: Any) -> list[tuple[Any, ...]]:
    async def go() -> list[tuple[Any, ...]]:
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.connect() as connection:
                return [tuple(row) for row in await connection.execute(statement)]
        finally:
            await engine.dispose()

    return asyncio.run(go())


def wait_for_heartbeats(url: str, workers: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while query(url, select(func.count()).select_from(WorkerHeartbeat))[0][0] < workers:
        if time.monotonic() > deadline:
            raise AssertionError(f"{workers} workers not beating within {seconds}s")
        time.sleep(0.2)


def wait_published(run: Run, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    wanted = len(run.seeded_ids)
    statement = select(func.count()).where(Post.status == "published")
    while query(run.url, statement)[0][0] != wanted:
        if time.monotonic() > deadline:
            raise AssertionError(f"not all {wanted} posts published within {seconds}s")
        time.sleep(0.5)


def scrape(url: str, token: str | None = None) -> Samples:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.get(url, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return parse(response.text)


def inits(samples: Samples) -> float:
    return sum(
        v
        for (name, labels), v in samples.items()
        if name == "tiktimer_platform_api_calls_total"
        and ("result", "ok") in labels
        and dict(labels)["endpoint"].endswith(".init")
    )


def test_metrics_count_a_two_worker_publish_run(run: Run, tmp_path: Path) -> None:
    wait_published(run)
    posts = len(run.seeded_ids)
    by_worker = query(
        run.url,
        select(PostAttempt.worker_id, func.count()).group_by(PostAttempt.worker_id),
    )
    assert len(by_worker) == 2, by_worker  # both processes published
    assert query(run.url, select(func.count(distinct(PostAttempt.post_id))))[0][0] == posts

    with running_server(tmp_path, env=run.env) as base:
        assert httpx.get(f"{base}/metrics", timeout=30).status_code == 403  # the token is set
        samples = scrape(f"{base}/metrics", TOKEN)
    assert value(samples, "tiktimer_cluster_scrape_ok") == 1
    lag = "tiktimer_publish_lag_seconds"
    assert value(samples, f"{lag}_count", platform="tiktok") == posts
    assert value(samples, f"{lag}_bucket", platform="tiktok", le="+Inf") == posts
    assert value(samples, f"{lag}_sum", platform="tiktok") > 0
    outcomes = "tiktimer_publish_outcomes_total"
    assert value(samples, outcomes, platform="tiktok", outcome="published",
                 error_class="none") == posts  # fmt: skip
    assert total(samples, outcomes) == posts
    assert value(samples, "tiktimer_posts", platform="tiktok", status="published") == posts
    assert value(samples, "tiktimer_workers_live") == 2
    assert value(samples, "tiktimer_due_unclaimed_posts") == 0
    ages = [v for (n, _), v in samples.items() if n == "tiktimer_worker_heartbeat_age_seconds"]
    assert len(ages) == 2

    # Each worker's own port: the inits it made, adding up to one per post.
    per_worker = [inits(scrape(f"http://127.0.0.1:{port}/metrics")) for port in run.ports]
    assert all(n > 0 for n in per_worker), per_worker
    assert sum(per_worker) == posts
    assert sorted(per_worker) == sorted(float(n) for _, n in by_worker)
