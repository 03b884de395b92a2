"""The dispatcher alone, side by side with procrastinate: N no-op jobs due at once.

Ours: N posts on the `fake` platform (it publishes at once, no network), one per account,
all due at the same second, through W `tiktimer worker` processes of concurrency C.
Theirs: N no-op jobs scheduled for the same second through W procrastinate workers of
concurrency C. Both on the same PostgreSQL server, each in a scratch database, one after
the other (ours first unless --peer-first).

Printed per side: jobs/s (due → last finished), start lag (job start − due) p50 / p99 /
max, worker CPU seconds; then our ratio of jobs/s and of p99 start lag.

    python bench/noop_dispatch.py --posts 20000 --workers 2 --concurrency 100
    python bench/dispatch.py --platform fake ...        # the same benchmark

Needs the bench extra (`pip install -e '.[bench]'`: procrastinate) and PostgreSQL at
TIKTIMER_TEST_PG_URL (default postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import dispatch  # noqa: E402  (bench/dispatch.py: CPU meter, scratch-database helpers)
import peer_procrastinate as peer  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402
from tests.fixtures.databases import create_pg_database, drop_pg_database  # noqa: E402
from tests.fixtures.server import clean_env  # noqa: E402
from tests.scheduler.stage import SECRET_KEY, WorkerPool  # noqa: E402

from tiktimer.db import migrate  # noqa: E402
from tiktimer.db.engine import create_engine  # noqa: E402
from tiktimer.kit.time import ensure_utc, utc_now  # noqa: E402
from tiktimer.models import Post, PostAttempt, SocialAccount, User, WorkerHeartbeat  # noqa: E402

LEAD_SECONDS = 4.0


@dataclass
class Side:
    label: str
    jobs: int
    done: int
    seconds: float  # due → last finished
    lags: list[float]  # job start − due, per job
    cpu: float

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else float("nan")

    def percentile(self, share: float) -> float:
        lags = sorted(self.lags)
        return lags[min(len(lags) - 1, int(len(lags) * share))] if lags else float("nan")

    def show(self) -> None:
        p50 = statistics.median(self.lags) if self.lags else float("nan")
        print(
            f"{self.label}: {self.done}/{self.jobs} done in {self.seconds:.1f}s = "
            f"{self.rate:.0f} jobs/s; start lag p50 {p50:.3f}s p99 {self.percentile(0.99):.3f}s "
            f"max {max(self.lags, default=float('nan')):.3f}s; worker CPU {self.cpu:.1f}s "
            f"({1000 * self.cpu / max(self.done, 1):.2f} ms/job)"
        )


def _due() -> datetime:
    return (utc_now() + timedelta(seconds=LEAD_SECONDS)).replace(microsecond=0)


def _wait_for(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not reached within {seconds:.0f}s")
        time.sleep(0.2)


# --- ours ---------------------------------------------------------------------------


async def _seed_ours(url: str, posts: int) -> None:
    """One user, one `fake` account per post (no per-account pacing in the way), posts
    due in an hour until the workers are up."""
    engine = create_engine(url)
    later = utc_now() + timedelta(hours=1)
    try:
        async with engine.begin() as connection:
            user = await connection.scalar(
                insert(User)
                .values(
                    username="noop", email="noop@example.com", hashed_password="-",
                    is_active=True, is_superuser=False, timezone="UTC", token_version=0,
                )
                .returning(User.id)
            )  # fmt: skip
            accounts = await connection.scalars(
                insert(SocialAccount).returning(SocialAccount.id, sort_by_parameter_order=True),
                [
                    {"user_id": user, "platform": "fake", "open_id": f"noop-{n}", "scopes": ""}
                    for n in range(posts)
                ],
            )
            rows = [
                {"user_id": user, "social_account_id": account, "content": f"noop {n}",
                 "scheduled_time": later, "status": "scheduled"}
                for n, account in enumerate(accounts)
            ]  # fmt: skip
            await connection.execute(insert(Post), rows)
    finally:
        await engine.dispose()


async def _our_figures(url: str, due: datetime) -> tuple[int, datetime | None, list[float]]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            done = await connection.scalar(select(func.count()).where(Post.status == "published"))
            last = await connection.scalar(select(func.max(Post.published_at)))
            starts = await connection.scalars(
                select(PostAttempt.started_at).where(PostAttempt.number == 1)
            )
            lags = [(ensure_utc(at) - due).total_seconds() for at in starts]
        return int(done or 0), ensure_utc(last) if last else None, lags
    finally:
        await engine.dispose()


def _published(url: str) -> int:
    return int(
        asyncio.run(dispatch._scalar(url, select(func.count()).where(Post.status == "published")))
    )


def run_ours(posts: int, workers: int, concurrency: int, workdir: Path) -> Side:
    url = create_pg_database("tiktimer_noop")
    try:
        migrate.upgrade(url)
        asyncio.run(_seed_ours(url, posts))
        data_dir = workdir / "ours"
        data_dir.mkdir()
        env = clean_env(
            DATABASE_URL=url, SECRET_KEY=SECRET_KEY, TIKTIMER_DATA_DIR=str(data_dir),
            TIKTIMER_TOKEN_KEYS=Fernet.generate_key().decode(), TIKTIMER_SANDBOX="true",
            TIKTIMER_STATUS_POLL_FIRST_SECONDS="0.1", TIKTIMER_LOG_LEVEL="WARNING",
        )  # fmt: skip
        pool = WorkerPool(workdir, env, concurrency=concurrency)
        try:
            for slot in range(workers):
                pool.start(slot)
            _wait_for(lambda: _beating(url) >= workers, 60, "workers up")
            meter = dispatch.CpuMeter({"workers": [p.pid for p in pool.processes.values()]})
            due = dispatch._make_due(url)
            _wait_for(lambda: _published(url) >= posts, 1800, "every post published")
            cpu = meter.stop()["workers"]
        finally:
            pool.stop_all()
        done, last, lags = asyncio.run(_our_figures(url, due))
        seconds = (last - due).total_seconds() if last else float("nan")
        return Side(f"TikTimer, {workers} workers x {concurrency}", posts, done, seconds, lags, cpu)
    finally:
        drop_pg_database(url)


def _beating(url: str) -> int:
    return int(
        asyncio.run(dispatch._scalar(url, select(func.count()).select_from(WorkerHeartbeat)))
    )


def run_peer(jobs: int, workers: int, concurrency: int, workdir: Path) -> Side:
    url = create_pg_database("procrastinate_noop")
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    try:
        due = _due() + timedelta(seconds=max(LEAD_SECONDS, jobs / 2000))  # time to defer
        asyncio.run(peer.seed(dsn, jobs, due))
        command = [sys.executable, str(Path(peer.__file__)), dsn]
        processes = []
        for slot in range(workers):
            with (workdir / f"peer-{slot}.log").open("wb") as log:
                processes.append(
                    subprocess.Popen([*command, str(concurrency)], stdout=log, stderr=log)
                )
        try:
            meter = dispatch.CpuMeter({"workers": [p.pid for p in processes]})
            _wait_for(lambda: peer.done(dsn) >= jobs, 1800, "every job done")
            cpu = meter.stop()["workers"]
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=60)
        started = asyncio.run(
            peer.query(dsn, "SELECT at FROM procrastinate_events WHERE type = 'started'")
        )
        finished = asyncio.run(
            peer.query(dsn, "SELECT max(at) FROM procrastinate_events WHERE type = 'succeeded'")
        )
        lags = [(ensure_utc(at) - due).total_seconds() for (at,) in started]
        seconds = (ensure_utc(finished[0][0]) - due).total_seconds()
        label = f"procrastinate, {workers} workers x {concurrency}"
        return Side(label, jobs, peer.done(dsn), seconds, lags, cpu)
    finally:
        drop_pg_database(url)


def compare(ours: Side, peer: Side) -> None:
    ours.show()
    peer.show()
    print(
        f"TikTimer / procrastinate: jobs/s {ours.rate / peer.rate:.2f}x; "
        f"p99 start lag {ours.percentile(0.99) / peer.percentile(0.99):.3f}x "
        "(targets: >= 5x, <= 0.1x)"
    )


def run(posts: int, workers: int, concurrency: int, peer_first: bool = False) -> None:
    with tempfile.TemporaryDirectory(prefix="tiktimer-noop-") as tmp:
        workdir = Path(tmp)
        if peer_first:
            theirs = run_peer(posts, workers, concurrency, workdir)
            ours = run_ours(posts, workers, concurrency, workdir)
        else:
            ours = run_ours(posts, workers, concurrency, workdir)
            theirs = run_peer(posts, workers, concurrency, workdir)
        compare(ours, theirs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--peer-first", action="store_true")
    args = parser.parse_args()
    run(args.posts, args.workers, args.concurrency, args.peer_first)


if __name__ == "__main__":
    main()
