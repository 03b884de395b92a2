"""Our pacer (`scheduler.pacing`) against pyrate-limiter, the maintained limiter it could be.

Protocol: the same sliding window (a limit far above the run, so nothing waits: this
measures the cost of a grant, not the waiting) and the same work: `--calls` grants spread
over `--accounts` accounts, by `--concurrency` tasks at once, on PostgreSQL and on Redis.
Printed per backend: grants per second and the p50/p99 of one grant, for ours and for
pyrate-limiter, and pyrate's figure as a ratio of ours. pyrate-limiter's PostgreSQL bucket
is synchronous (psycopg), so its calls run in threads, as a service would have to run them;
it keeps one table per limit key, so each account gets its own bucket (and table).

Needs pyrate-limiter and psycopg, which the project does not depend on:

    .venv/bin/pip install 'pyrate-limiter>=4' 'psycopg[binary,pool]'
    .venv/bin/python bench/pacing_vs_pyrate.py [--calls 2000] [--accounts 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pyrate_limiter import Duration, Limiter, Rate  # noqa: E402
from pyrate_limiter.buckets.postgres import PostgresBucket  # noqa: E402
from pyrate_limiter.buckets.redis_bucket import RedisBucket  # noqa: E402
from redis.asyncio import Redis  # noqa: E402
from tests.fixtures.databases import create_pg_database, drop_pg_database  # noqa: E402

from tiktimer.db import migrate  # noqa: E402
from tiktimer.db.engine import create_engine  # noqa: E402
from tiktimer.posts.pacing.db_backend import DbPacer  # noqa: E402
from tiktimer.posts.pacing.redis_backend import RedisPacer  # noqa: E402
from tiktimer.posts.pacing.window import RateLimits  # noqa: E402
from tiktimer.posts.queue.leases import PostQueue  # noqa: E402

LIMIT = 10_000_000
REDIS_URL = "redis://127.0.0.1:6379/0"

Grant = Callable[[int], Awaitable[object]]


async def run(grant: Grant, calls: int, accounts: int, concurrency: int) -> dict[str, float]:
    """Grants per second, latency of one grant, and how many calls were actually granted
    (ours answer 0.0 seconds to wait; pyrate-limiter answers True)."""
    latencies: list[float] = []
    granted = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(calls):
        queue.put_nowait(n % accounts + 1)

    async def worker() -> None:
        nonlocal granted
        while not queue.empty():
            account = queue.get_nowait()
            started = time.perf_counter()
            answer = await grant(account)
            latencies.append(time.perf_counter() - started)
            granted += answer is True or answer == 0.0

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "per_s": calls / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "granted": granted,
    }


async def ours_postgres(url: str, args: argparse.Namespace) -> dict[str, float]:
    engine = create_engine(url, pool_size=args.concurrency)
    pacer = DbPacer(PostQueue(engine), RateLimits(per_bucket={"init": LIMIT}))
    try:
        return await run(
            lambda a: pacer.try_acquire(a, "init"), args.calls, args.accounts, args.concurrency
        )
    finally:
        await engine.dispose()


async def ours_redis(url: str, args: argparse.Namespace) -> dict[str, float]:
    engine = create_engine(url, pool_size=2)
    limits = RateLimits(per_bucket={"init": LIMIT})
    client = Redis.from_url(REDIS_URL)
    await client.flushdb()
    pacer = RedisPacer(client, limits, DbPacer(PostQueue(engine), limits))
    try:
        return await run(
            lambda a: pacer.try_acquire(a, "init"), args.calls, args.accounts, args.concurrency
        )
    finally:
        await pacer.aclose()
        await engine.dispose()


async def pyrate_postgres(url: str, args: argparse.Namespace) -> dict[str, float]:
    from psycopg_pool import ConnectionPool

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    pool = ConnectionPool(dsn, min_size=args.concurrency, max_size=args.concurrency, open=True)
    rates = [Rate(LIMIT, Duration.MINUTE)]
    limiters = {
        a: Limiter(PostgresBucket(pool, f"acct{a}_init", rates))
        for a in range(1, args.accounts + 1)
    }

    async def grant(account: int) -> object:
        # blocking=False: one answer per call, as the scheduler's try_acquire gives.
        return await asyncio.to_thread(limiters[account].try_acquire, "init", 1, False)

    try:
        return await run(grant, args.calls, args.accounts, args.concurrency)
    finally:
        pool.close()


async def pyrate_redis(args: argparse.Namespace) -> dict[str, float]:
    client = Redis.from_url(REDIS_URL)
    await client.flushdb()
    rates = [Rate(LIMIT, Duration.MINUTE)]
    limiters = {}
    for a in range(1, args.accounts + 1):
        bucket = await RedisBucket.init(rates, client, f"acct{a}:init")
        limiters[a] = Limiter(bucket)

    async def grant(account: int) -> object:
        return await limiters[account].try_acquire_async("init", 1, False)

    try:
        return await run(grant, args.calls, args.accounts, args.concurrency)
    finally:
        await client.aclose()


def show(backend: str, ours: dict[str, float], theirs: dict[str, float]) -> None:
    print(f"{backend}")
    for name, figures in (("ours", ours), ("pyrate-limiter", theirs)):
        print(
            f"  {name:15} {figures['per_s']:8.0f} grants/s   "
            f"p50 {figures['p50_ms']:6.2f} ms   p99 {figures['p99_ms']:6.2f} ms   "
            f"granted {figures['granted']:.0f}"
        )
    print(
        f"  pyrate/ours     {theirs['per_s'] / ours['per_s']:.2f}x grants/s, "
        f"{theirs['p99_ms'] / ours['p99_ms']:.2f}x p99"
    )


async def compare(url: str, args: argparse.Namespace) -> None:
    show("PostgreSQL", await ours_postgres(url, args), await pyrate_postgres(url, args))
    show("Redis", await ours_redis(url, args), await pyrate_redis(args))


def main(args: argparse.Namespace) -> None:
    url = create_pg_database("tiktimer_bench_pacing")
    try:
        migrate.upgrade(url)
        asyncio.run(compare(url, args))
    finally:
        drop_pg_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    main(parser.parse_args())
