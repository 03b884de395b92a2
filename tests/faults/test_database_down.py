"""PostgreSQL "restarts" under load: the API and two workers ride it out on their own.

A TCP proxy stands between every process and PostgreSQL (the machine's server is never
touched). While posts are being published and a client keeps calling the API on one
keep-alive connection, the proxy drops every connection and refuses new ones for a few
seconds, then lets them through again. Meanwhile the API answers 503 JSON with
Retry-After (never a 500, never a broken connection); afterwards everything works again
without a restart, and the emulator saw exactly one publication per post.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from tests.faults.rig import Answers, proxied_database, wait_until
from tests.fixtures.databases import create_pg_database, drop_pg_database
from tests.fixtures.server import running_server
from tests.scheduler.stage import WorkerPool, emulator_process, seed, worker_env
from tiktimer.db import migrate
from tiktimer.db.engine import create_engine
from tiktimer.kit.time import utc_now
from tiktimer.models import Post, WorkerHeartbeat

pytestmark = pytest.mark.slow

OUTAGE_SECONDS = 5.0
PASSWORD = "correct horse battery"


@pytest.fixture
def database_url() -> Iterator[str]:
    url = create_pg_database("tiktimer_faults")
    try:
        migrate.upgrade(url)
        yield url
    finally:
        drop_pg_database(url)


def beating(url: str) -> list[str]:
    async def go() -> list[str]:
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.connect() as connection:
                return list((await connection.execute(select(WorkerHeartbeat.worker_id))).scalars())
        finally:
            await engine.dispose()

    return asyncio.run(go())


def post_statuses(url: str) -> Counter[str]:
    async def go() -> Counter[str]:
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    select(Post.status, func.count()).group_by(Post.status)
                )
                return Counter({str(status): int(n) for status, n in rows})
        finally:
            await engine.dispose()

    return asyncio.run(go())


class Load(threading.Thread):
    """A user reading and writing through the API on one keep-alive connection."""

    def __init__(self, base: str, token: str) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        self.answers = Answers()
        self.stop = threading.Event()
        self.last_ok = 0.0

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            draft = {"content": f"draft {n}", "scheduled_time": "2031-01-01T10:00:00Z"}
            for call in (
                lambda: self.client.get("/posts/"),
                lambda body=draft: self.client.post("/posts/", json={**body, "draft": True}),
                lambda: self.client.get("/health"),
            ):
                response = self.answers.record(call)
                if response is not None and response.status_code < 300:
                    self.last_ok = time.monotonic()
            time.sleep(0.05)
        self.client.close()


def test_database_restart_under_load_loses_nothing(tmp_path: Path, database_url: str) -> None:
    keys = Fernet.generate_key().decode()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with (
        emulator_process(tmp_path) as emulator,
        proxied_database(database_url) as (proxy, through_proxy),
    ):
        # Uploads take a moment, so the cut lands while posts are in flight.
        emulator.add_fault(endpoint="upload", kind="latency", seconds=0.3, times=None)
        env = worker_env(
            through_proxy,
            data_dir,
            keys,
            emulator,
            TIKTIMER_RUN_SCHEDULER="false",
            TIKTIMER_RATE_LIMITS="false",
            TIKTIMER_SCHEDULER_LEASE_SECONDS="6",
            TIKTIMER_SCHEDULER_POLL_SECONDS="0.5",
            TIKTIMER_PUBLISH_RETRY_BASE_SECONDS="1",
            TIKTIMER_STATUS_POLL_MAX_SECONDS="2",
            TIKTIMER_DB_POOL_SIZE="4",
        )
        pool = WorkerPool(tmp_path, env, concurrency=10)
        try:
            for slot in range(2):
                pool.start(slot)
            with running_server(tmp_path, env=env, timeout=90) as base:
                httpx.post(
                    f"{base}/register",
                    json={"username": "load", "email": "load@example.com", "password": PASSWORD},
                ).raise_for_status()
                token = httpx.post(
                    f"{base}/token", data={"username": "load", "password": PASSWORD}
                ).json()["access_token"]
                wait_until(lambda: len(beating(database_url)) == 2, 60, "both workers running")
                start = utc_now()
                seeded = [
                    asyncio.run(
                        seed(
                            database_url,
                            data_dir,
                            keys,
                            emulator,
                            accounts=6,
                            posts_per_account=2,
                            due_at=start + timedelta(seconds=due),
                            prefix=f"wave{n}",
                        )
                    )
                    for n, due in enumerate((1, 5, 9))
                ]
                captions = {c for wave in seeded for c in wave.captions.values()}
                load = Load(base, token)
                load.start()
                wait_until(lambda: post_statuses(database_url)["published"] >= 4, 30, "first posts")

                proxy.cut()
                cut_at = time.monotonic()
                time.sleep(OUTAGE_SECONDS)
                during = Answers()
                with httpx.Client(base_url=base, timeout=10) as probe:
                    for _ in range(3):
                        response = during.record(
                            lambda: probe.get("/posts/", headers=load.client.headers)
                        )
                        assert response is not None
                        assert response.status_code == 503, response.text
                        assert response.json()["detail"].startswith("The database is unavailable")
                        assert response.headers["retry-after"] == "5"
                proxy.restore()
                restored_at = time.monotonic()

                wait_until(lambda: load.last_ok > restored_at, 20, "the API answering again")
                wait_until(
                    lambda: post_statuses(database_url)["published"] == len(captions),
                    60,
                    "every post published",
                )
                load.stop.set()
                load.join(timeout=15)
                assert all(p.poll() is None for p in pool.processes.values()), "a worker died"
                recovered = load.last_ok - restored_at
        finally:
            exit_codes = pool.stop_all()

        answers = load.answers
        assert answers.transport_errors == []  # every connection stayed usable
        assert set(answers.statuses) <= {200, 201, 503}, answers.statuses
        assert answers.statuses[503] > 0
        for status, body, headers in answers.errors:
            assert status == 503
            assert "Traceback" not in body
            assert headers.get("content-type") == "application/json"
        final = post_statuses(database_url)
        assert final["published"] == len(captions)
        assert set(final) == {"published", "draft"}  # drafts: the load's own writes
        completed = Counter(
            p["caption"] for p in emulator.publications() if p["status"] == "PUBLISH_COMPLETE"
        )
        assert set(completed) == captions
        assert [c for c, n in completed.items() if n != 1] == []  # exactly once each
        server_log = (tmp_path / "server.log").read_text()
        assert "request.unhandled" not in server_log
        assert "Traceback" not in server_log
        for worker_log in tmp_path.glob("worker-*.log"):  # an outage is warnings, not bugs
            assert "Traceback" not in worker_log.read_text(), worker_log.read_text()[-3000:]
        assert exit_codes == [0, 0]
        assert restored_at - cut_at >= OUTAGE_SECONDS
        assert recovered < 20
