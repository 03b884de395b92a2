"""Dispatch benchmark: N posts due in the same second, published by real worker processes.

PostgreSQL: N posts (default 2,000), one per TikTok account, all due at the same second;
W `tiktimer worker` processes (default 2) publish them to the TikTok emulator running as
its own process at zero latency (processing_seconds 0). SQLite: the embedded setup,
`tiktimer serve` with its in-process dispatcher, for --sqlite-posts (default 500).

Printed per run: publications per second, the on-time lag of each post (the emulator's
time of its init call minus its scheduled_time) as p50 / p99 / max, and duplicates
(posts with more than one completed publication). Per published post (PostgreSQL): the
workers' CPU in total and before the init call (their CPU until the emulator saw the last
post's init, over the posts initiated), the database round trips the workers sent
(bench/worker_probe.py counts asyncpg's statements), the HTTP requests TikTok received and
the emulator's CPU.

    python bench/dispatch.py                         # both runs
    python bench/dispatch.py --posts 2000 --workers 2 --concurrency 200 --skip-sqlite
    python bench/dispatch.py --skip-postgresql --sqlite-posts 500
    python bench/dispatch.py --platform fake --concurrency 100   # vs procrastinate

Needs PostgreSQL at TIKTIMER_TEST_PG_URL (default postgres@127.0.0.1:5432/test): a scratch
database is created and dropped. Timings on a shared machine are noisy: run it twice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from bench.worker_probe import run_worker  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from sqlalchemy import func, select, update  # noqa: E402
from tests.fixtures.databases import create_pg_database, drop_pg_database, sqlite_url  # noqa: E402
from tests.fixtures.server import free_port, tiktimer_command  # noqa: E402
from tests.scheduler.stage import (  # noqa: E402
    EmulatorProcess,
    WorkerPool,
    emulator_process,
    seed,
    worker_env,
)

from tiktimer.db import migrate  # noqa: E402
from tiktimer.db.engine import create_engine  # noqa: E402
from tiktimer.kit.time import ensure_utc, utc_now  # noqa: E402
from tiktimer.models import Post, WorkerHeartbeat  # noqa: E402

LEAD_SECONDS = 3.0
LOG_LEVEL = ["WARNING"]


def serve_emulator(port: int) -> None:
    """The emulator at zero latency: no processing delay, every limit as TikTok's."""
    import uvicorn

    from tiktimer.platforms.tiktok.emulator import EmulatorConfig, create_emulator_app

    config = EmulatorConfig(processing_seconds=0.0, max_recorded_requests=1_000_000)
    uvicorn.run(create_emulator_app(config), host="127.0.0.1", port=port, log_level="warning")


EMULATOR_COMMAND = [sys.executable, str(Path(__file__).resolve()), "serve-emulator"]
WORKER_COMMAND = [sys.executable, str(Path(__file__).resolve()), "run-worker"]


@dataclass
class Figures:
    label: str
    posts: int
    published: int
    seconds: float
    lags: list[float]
    duplicates: int
    incomplete: int
    cpu: dict[str, float]
    per_post: dict[str, float] = field(default_factory=dict)
    statements: list[tuple[str, float]] = field(default_factory=list)  # per published post

    def show(self) -> None:
        lags = sorted(self.lags)
        p50 = statistics.median(lags) if lags else float("nan")
        p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))] if lags else float("nan")
        print(
            f"{self.label}: {self.published}/{self.posts} published in {self.seconds:.1f}s "
            f"= {self.published / self.seconds:.0f} publications/s; "
            f"init lag p50 {p50:.3f}s p99 {p99:.3f}s max {max(lags, default=float('nan')):.3f}s; "
            f"initiated {len(lags)}; duplicates {self.duplicates}; not published {self.incomplete}"
        )
        parts = ", ".join(f"{name} {seconds:.1f}" for name, seconds in self.cpu.items())
        print(f"  CPU seconds while publishing: {parts}")
        if self.per_post:
            figures = ", ".join(f"{name} {value:.2f}" for name, value in self.per_post.items())
            print(f"  per published post: {figures}")
        if self.statements:
            print("  the workers' statements per published post, most frequent first:")
            for text, per_post in self.statements:
                print(f"    {per_post:6.2f}  {text}")


async def _scalar(url: str, statement: Any) -> Any:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(statement)).scalar()
    finally:
        await engine.dispose()


async def _execute(url: str, statement: Any) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.execute(statement)
    finally:
        await engine.dispose()


def _wait(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not reached within {seconds}s")
        time.sleep(0.2)


def _make_due(url: str) -> datetime:
    """Every post due at the same whole second, a moment from now."""
    due = (utc_now() + timedelta(seconds=LEAD_SECONDS)).replace(microsecond=0)
    asyncio.run(_execute(url, update(Post).values(scheduled_time=due)))
    return due


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


class CpuMeter:
    """CPU seconds spent by each part between `start` and `stop`."""

    def __init__(self, parts: dict[str, list[int]]) -> None:
        self.parts = parts
        self.before = {name: sum(map(cpu_seconds, pids)) for name, pids in parts.items()}

    def stop(self) -> dict[str, float]:
        return {
            name: sum(map(cpu_seconds, pids)) - self.before[name]
            for name, pids in self.parts.items()
        }


class WorkerProbe:
    """The workers' CPU over time (sampled every 50 ms) and their round trips, counted by
    bench/worker_probe.py between `__init__` and `stop`; TikTok's requests likewise."""

    def __init__(self, pids: list[int], counts: Path, emulator: EmulatorProcess) -> None:
        self.pids, self.counts, self.emulator = pids, counts, emulator
        self.requests_before = self._requests()
        for pid in pids:
            os.kill(pid, signal.SIGUSR1)
        self.samples: list[tuple[float, float]] = []
        self.statements: Counter[str] = Counter()  # the workers' statements, by text
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._sample_once()
        self._thread.start()

    def _requests(self) -> int:
        return int(self.emulator.admin.get("/requests/count").json()["count"])

    def _sample_once(self) -> None:
        self.samples.append((time.time(), sum(map(cpu_seconds, self.pids))))

    def _sample(self) -> None:
        while not self._done.wait(0.05):
            self._sample_once()

    def stop(self) -> tuple[int, int]:
        """(round trips, TikTok requests) since the start."""
        self._done.set()
        self._thread.join()
        self._sample_once()
        for pid in self.pids:
            os.kill(pid, signal.SIGUSR2)
        files = [Path(f"{self.counts}.{pid}") for pid in self.pids]
        _wait(lambda: all(f.exists() and f.read_text() for f in files), 10, "round trip counts")
        for f in files:
            for text, count in json.loads(Path(f"{f}.statements.json").read_text()):
                self.statements[text] += count
        return sum(int(f.read_text()) for f in files), self._requests() - self.requests_before

    def cpu_until(self, at: float) -> float:
        """The workers' CPU seconds from the start until wall time `at` (interpolated)."""
        start = self.samples[0][1]
        for (t0, c0), (t1, c1) in zip(self.samples, self.samples[1:], strict=False):
            if t0 <= at <= t1:
                share = (at - t0) / (t1 - t0) if t1 > t0 else 1.0
                return c0 + (c1 - c0) * share - start
        return self.samples[-1][1] - start


def _per_post(
    figures: Figures, probe: WorkerProbe, counts: tuple[int, int], last_init: float
) -> dict[str, float]:
    trips, requests = counts
    published = max(figures.published, 1)
    return {
        "worker CPU ms": 1000 * figures.cpu["workers"] / published,
        "of it before the init ms": 1000 * probe.cpu_until(last_init) / max(len(figures.lags), 1),
        "database round trips": trips / published,
        "TikTok HTTP requests": requests / published,
        "emulator CPU ms": 1000 * figures.cpu["emulator"] / published,
    }


async def _await_published(url: str, total: int, seconds: float) -> datetime | None:
    engine = create_engine(url, pool_size=1)
    try:
        deadline = time.monotonic() + seconds
        async with engine.connect() as connection:
            while time.monotonic() < deadline:
                count = (
                    await connection.execute(select(func.count()).where(Post.status == "published"))
                ).scalar_one()
                await connection.rollback()
                if count >= total:
                    break
                await asyncio.sleep(0.5)
            last = (await connection.execute(select(func.max(Post.published_at)))).scalar()
            return ensure_utc(last) if last else None
    finally:
        await engine.dispose()


def _measure(
    label: str,
    url: str,
    emulator: EmulatorProcess,
    captions: dict[int, str],
    due: datetime,
    meter: CpuMeter,
    probe: WorkerProbe | None = None,
) -> Figures:
    total = len(captions)
    last = asyncio.run(_await_published(url, total, 600))
    cpu = meter.stop()
    counts = probe.stop() if probe is not None else None
    seconds = (last - due).total_seconds() if last else float("nan")
    records = emulator.publications()
    wanted = set(captions.values())
    mine = [r for r in records if r["caption"] in wanted]
    first_init: dict[str, datetime] = {}
    for record in mine:
        at = datetime.fromisoformat(record["created_at"])
        caption = record["caption"]
        if caption not in first_init or at < first_init[caption]:
            first_init[caption] = at
    lags = [(at - due).total_seconds() for at in first_init.values()]
    completed = Counter(r["caption"] for r in mine if r["status"] == "PUBLISH_COMPLETE")
    duplicates = sum(1 for n in completed.values() if n > 1)
    count = int(asyncio.run(_scalar(url, select(func.count()).where(Post.status == "published"))))
    figures = Figures(label, total, count, seconds, lags, duplicates, total - count, cpu)
    if probe is not None and counts is not None and first_init:
        last_init = max(first_init.values()).timestamp()
        figures.per_post = _per_post(figures, probe, counts, last_init)
        published = max(figures.published, 1)
        figures.statements = [
            (text, count / published) for text, count in probe.statements.most_common(25)
        ]
    return figures


def run_postgresql(posts: int, workers: int, concurrency: int, workdir: Path) -> Figures:
    url = create_pg_database("tiktimer_bench")
    try:
        migrate.upgrade(url)
        keys = Fernet.generate_key().decode()
        data_dir = workdir / "pg-data"
        data_dir.mkdir()
        with emulator_process(workdir, EMULATOR_COMMAND) as emulator:
            seeded = asyncio.run(
                seed(
                    url,
                    data_dir,
                    keys,
                    emulator,
                    accounts=posts,
                    posts_per_account=1,
                    due_at=utc_now() + timedelta(hours=1),
                    prefix="bench",
                )
            )
            env = worker_env(url, data_dir, keys, emulator, TIKTIMER_LOG_LEVEL=LOG_LEVEL[0])
            env["TIKTIMER_BENCH_COUNTS"] = str(workdir / "round-trips")
            pool = WorkerPool(workdir, env, concurrency=concurrency, command=WORKER_COMMAND)
            try:
                for slot in range(workers):
                    pool.start(slot)

                def beating() -> bool:
                    count = asyncio.run(
                        _scalar(url, select(func.count()).select_from(WorkerHeartbeat))
                    )
                    return int(count) >= workers

                _wait(beating, 60, "workers up")
                meter = CpuMeter(
                    {
                        "workers": [p.pid for p in pool.processes.values()],
                        "emulator": [emulator.process.pid],
                        "postgres (all databases)": postgres_pids(),
                    }
                )
                pids = [p.pid for p in pool.processes.values()]
                probe = WorkerProbe(pids, workdir / "round-trips", emulator)
                due = _make_due(url)
                return _measure(
                    f"PostgreSQL, {workers} workers x {concurrency}",
                    url,
                    emulator,
                    seeded.captions,
                    due,
                    meter,
                    probe,
                )
            finally:
                pool.stop_all()
    finally:
        drop_pg_database(url)


def run_sqlite(posts: int, concurrency: int, workdir: Path) -> Figures:
    data_dir = workdir / "sqlite-data"
    data_dir.mkdir()
    url = sqlite_url(data_dir)
    migrate.upgrade(url)
    keys = Fernet.generate_key().decode()
    with emulator_process(workdir, EMULATOR_COMMAND) as emulator:
        seeded = asyncio.run(
            seed(
                url,
                data_dir,
                keys,
                emulator,
                accounts=posts,
                posts_per_account=1,
                due_at=utc_now() + timedelta(hours=1),
                prefix="lite",
            )
        )
        port = free_port()
        env = worker_env(url, data_dir, keys, emulator, TIKTIMER_LOG_LEVEL=LOG_LEVEL[0])
        env["TIKTIMER_RUN_SCHEDULER"] = "true"
        env["TIKTIMER_WORKER_CONCURRENCY"] = str(concurrency)
        with (workdir / "serve.log").open("wb") as log:
            server = subprocess.Popen(
                [*tiktimer_command(), "serve", "--port", str(port), "--no-access-log"],
                cwd=workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait(lambda: _healthy(f"http://127.0.0.1:{port}/health"), 60, "tiktimer serve up")
            meter = CpuMeter({"serve": [server.pid], "emulator": [emulator.process.pid]})
            due = _make_due(url)
            label = f"SQLite, in-process dispatcher x {concurrency}"
            return _measure(label, url, emulator, seeded.captions, due, meter)
        finally:
            server.terminate()
            server.wait(timeout=60)


def _healthy(url: str) -> bool:
    try:
        body = httpx.get(url, timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return False
    return bool(body.get("scheduler", {}).get("alive_workers"))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "run-worker":
        run_worker(sys.argv[2:])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "serve-emulator":
        serve_emulator(int(sys.argv[sys.argv.index("--port") + 1]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--platform",
        choices=["tiktok", "fake"],
        default="tiktok",
        help="fake: no-op posts side by side with procrastinate (bench/noop_dispatch.py)",
    )
    parser.add_argument("--posts", type=int, help="default 2,000 (tiktok), 20,000 (fake)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--sqlite-posts", type=int, default=500)
    parser.add_argument("--sqlite-concurrency", type=int, default=100)
    parser.add_argument("--skip-postgresql", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--keep", help="directory for the processes' logs (kept)")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args()
    if args.platform == "fake":
        import noop_dispatch

        noop_dispatch.run(args.posts or 20_000, args.workers, args.concurrency)
        return
    args.posts = args.posts or 2000
    LOG_LEVEL[0] = args.log_level
    with tempfile.TemporaryDirectory(prefix="tiktimer-bench-") as tmp:
        workdir = Path(args.keep) if args.keep else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        if not args.skip_postgresql:
            run_postgresql(args.posts, args.workers, args.concurrency, workdir).show()
        if not args.skip_sqlite:
            run_sqlite(args.sqlite_posts, args.sqlite_concurrency, workdir).show()


if __name__ == "__main__":
    main()
