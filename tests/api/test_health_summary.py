"""/health's scheduler summary: computed at most once a second, shared by concurrent callers,
never kept when it failed; the database check stays live on every call.

Computations are counted on the engine (SQLAlchemy's `before_cursor_execute`): each one
reads `worker_heartbeats` once, and nothing else in these apps does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from tests.fixtures.app import make_settings, sandboxed_app
from tests.fixtures.databases import DatabaseUnderTest, sqlite_url
from tests.fixtures.tcp_proxy import TcpProxy
from tiktimer.db import migrate
from tiktimer.db.probe import PROBE_SQL
from tiktimer.posts.dispatch.health import SUMMARY_TTL_SECONDS
from tiktimer.services import Services

CONCURRENT = 40


@dataclass
class Served:
    client: httpx.AsyncClient
    services: Services
    seen: list[str] = field(default_factory=list)

    def record(self, *args: Any) -> None:
        self.seen.append(args[2])

    @property
    def summaries(self) -> int:
        return sum(s.startswith("SELECT") and "worker_heartbeats" in s for s in self.seen)

    @property
    def probes(self) -> int:
        return self.seen.count(PROBE_SQL)

    async def health(self) -> httpx.Response:
        return await self.client.get("/health")


@asynccontextmanager
async def serving(database_url: str, data_dir: Path) -> AsyncIterator[Served]:
    """A fresh app (so a fresh summary cache) on `database_url`, its statements recorded."""
    async with sandboxed_app(make_settings(database_url, data_dir)) as app:
        services: Services = app.state.services
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            served = Served(client, services)
            event.listen(services.engine.sync_engine, "before_cursor_execute", served.record)
            yield served


async def test_concurrent_calls_share_one_computation(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    async with serving(database.url, tmp_path) as served:
        started = time.monotonic()
        responses = await asyncio.gather(*(served.health() for _ in range(CONCURRENT)))
        elapsed = time.monotonic() - started
        summaries, probes = served.summaries, served.probes
    assert [r.status_code for r in responses] == [200] * CONCURRENT
    assert probes == CONCURRENT  # the database check: live on every call
    # At most once per second (the bound a loaded machine can stretch to, not a speed test).
    assert 1 <= summaries <= 1 + int(elapsed // SUMMARY_TTL_SECONDS)
    as_of = {r.json()["scheduler"]["as_of"] for r in responses}
    assert len(as_of) == summaries
    assert all(r.json()["scheduler"]["ok"] for r in responses)


async def test_the_summary_is_recomputed_after_its_ttl(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    async with serving(database.url, tmp_path) as served:
        first = (await served.health()).json()["scheduler"]
        await asyncio.sleep(SUMMARY_TTL_SECONDS + 0.2)
        second = (await served.health()).json()["scheduler"]
        summaries = served.summaries
    assert summaries == 2
    assert second["as_of"] > first["as_of"]
    assert {"due_unclaimed", "workers", "alive_workers", "in_process"} <= set(second)


async def test_a_failed_computation_is_not_kept(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    """The stats query fails for real (its table renamed away); the next call tries again."""
    async with serving(database.url, tmp_path) as served:
        await _rename(served, "worker_heartbeats", "worker_heartbeats_away")
        try:
            failed = await served.health()
        finally:
            await _rename(served, "worker_heartbeats_away", "worker_heartbeats")
        recovered = await served.health()  # at once: well within the TTL
        summaries = served.summaries
    assert failed.status_code == 200  # the database itself answers
    assert failed.json()["database"]["ok"] is True
    assert failed.json()["scheduler"]["ok"] is False
    assert recovered.json()["scheduler"]["ok"] is True
    assert summaries == 2


async def _rename(served: Served, old: str, new: str) -> None:
    async with served.services.engine.begin() as connection:
        await connection.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


async def test_database_down_is_503_at_once_even_with_a_cached_summary(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    if database.backend == "postgresql":
        await _postgresql_goes_away(database.url, tmp_path)
    else:
        await _sqlite_goes_away(tmp_path)


async def _postgresql_goes_away(database_url: str, tmp_path: Path) -> None:
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    try:
        async with serving(proxied, tmp_path) as served:
            primed = await served.health()
            proxy.mode = "refuse"
            proxy.drop_connections()
            await _assert_down_at_once(served, primed)
    finally:
        proxy.mode = "forward"
        await proxy.stop()


async def _sqlite_goes_away(tmp_path: Path) -> None:
    """The file becomes unopenable: a directory in its place, and the pool let go of it."""
    url = sqlite_url(tmp_path)
    await asyncio.to_thread(migrate.upgrade, url)
    async with serving(url, tmp_path) as served:
        primed = await served.health()
        path = tmp_path / "tiktimer.db"
        path.rename(tmp_path / "moved.db")
        path.mkdir()
        await served.services.engine.dispose()
        await _assert_down_at_once(served, primed)


async def _assert_down_at_once(served: Served, primed: httpx.Response) -> None:
    assert primed.status_code == 200
    summaries = served.summaries
    started = time.monotonic()
    down = await served.health()
    elapsed = time.monotonic() - started
    assert down.status_code == 503
    assert down.json()["status"] == "unavailable"
    assert down.json()["database"]["ok"] is False
    assert elapsed < 5  # the check's own 2 s timeout at most, never the summary's age
    if elapsed < SUMMARY_TTL_SECONDS:  # still within the TTL: the cached summary came along
        assert served.summaries == summaries
        assert down.json()["scheduler"] == primed.json()["scheduler"]
