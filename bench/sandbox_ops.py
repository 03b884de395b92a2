"""Sandbox state benchmark: what sharing the sandbox's state costs per TikTok call.

An emulator over each store (memory, SQLite companion file, PostgreSQL row) with T publish
tasks already in its state; printed per store: milliseconds per status fetch (a read that
still records a rate-limit window: one snapshot write) and per video init (a new task).
Each operation writes the whole snapshot, so the cost grows with the tasks kept (a shared
sandbox keeps them two days).

    python bench/sandbox_ops.py                 # T = 10 and 500
    python bench/sandbox_ops.py --tasks 100

Needs PostgreSQL at TIKTIMER_TEST_PG_URL (default postgres@127.0.0.1:5432/test): a scratch
database is created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.emulator.flows import API, TikTok, make_config
from tests.fixtures.databases import create_pg_database, drop_pg_database

from tiktimer.db import migrate
from tiktimer.platforms.tiktok.emulator import RateLimits, create_emulator_app
from tiktimer.platforms.tiktok.sandbox_state import DatabaseStateStore

VIDEO = {
    "source_info": {
        "source": "FILE_UPLOAD",
        "video_size": 1000,
        "chunk_size": 1000,
        "total_chunk_count": 1,
    },
    "post_info": {"privacy_level": "SELF_ONLY", "brand_content_toggle": False},
}


async def measure(url: str | None, label: str, tasks: int, calls: int) -> None:
    config = replace(
        make_config(processing_seconds=0, signing_secret="bench"),
        daily_post_cap=10**6,
        pending_share_cap=10**6,
        rate_limits=RateLimits(init=None, creator_info=None, status=10**6),
    )
    store = DatabaseStateStore(url, row=secrets.randbelow(10**6) + 2) if url else None
    app = create_emulator_app(config, store=store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=API) as http:
        tiktok = TikTok(http, app.state.emulator)
        token = tiktok.tokens("alice")
        publish_id = ""
        for _ in range(tasks):
            publish_id = (await tiktok.init_video(token, VIDEO)).json()["data"]["publish_id"]
        start = time.perf_counter()
        for _ in range(calls):
            assert (await tiktok.status(token, publish_id)).status_code == 200
        status_ms = (time.perf_counter() - start) / calls * 1000
        start = time.perf_counter()
        for _ in range(calls // 4):
            assert (await tiktok.init_video(token, VIDEO)).status_code == 200
        init_ms = (time.perf_counter() - start) / (calls // 4) * 1000
    await app.state.emulator.aclose()
    print(f"{label:<11} tasks={tasks:<5} status {status_ms:6.2f} ms/op   init {init_ms:6.2f} ms/op")


async def run(pg_url: str, task_counts: list[int], calls: int) -> None:
    sqlite_url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench-sandbox.db'}"
    for tasks in task_counts:
        await measure(None, "memory", tasks, calls)
        await measure(sqlite_url, "sqlite", tasks, calls)
        await measure(pg_url, "postgresql", tasks, calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, action="append", help="tasks in the state")
    parser.add_argument("--calls", type=int, default=200, help="status calls per store")
    args = parser.parse_args()
    pg_url = create_pg_database("bench_sandbox")
    try:
        migrate.upgrade(pg_url)
        asyncio.run(run(pg_url, args.tasks or [10, 500], args.calls))
    finally:
        drop_pg_database(pg_url)


if __name__ == "__main__":
    main()
