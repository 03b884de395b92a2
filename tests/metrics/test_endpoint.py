"""`GET /metrics` in-process on both databases: who may read it, route templates never raw
paths, and the cluster's figures computed in SQL from rows we wrote ourselves."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.fixtures.app import TEST_BASE_URL, make_settings, sandboxed_app, tables_in_delete_order
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.tcp_proxy import TcpProxy
from tests.metrics.scrape import parse, total, value
from tiktimer.kit.time import utc_now
from tiktimer.metrics.cluster import error_class
from tiktimer.metrics.endpoint import CLUSTER_TIMEOUT_SECONDS
from tiktimer.models import Post, PostAttempt, SocialAccount, User
from tiktimer.services import services_of

TOKEN = "metrics-token-0123456789abcdef"


@pytest.fixture
async def served(database: DatabaseUnderTest, tmp_path: Path) -> AsyncIterator[FastAPI]:
    """A fresh app on the session's database, emptied before and after (exact counts)."""
    async with sandboxed_app(make_settings(database.url, tmp_path)) as app:
        await _empty(app)
        try:
            yield app
        finally:
            await _empty(app)


async def _empty(app: FastAPI) -> None:
    async with services_of(app).engine.begin() as connection:
        for table in tables_in_delete_order():
            await connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608


def client_of(app: FastAPI, host: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(host, 5000))
    return httpx.AsyncClient(transport=transport, base_url=TEST_BASE_URL)


async def test_without_a_token_only_direct_loopback_clients_are_answered(
    served: FastAPI,
) -> None:
    async with client_of(served) as local, client_of(served, "203.0.113.9") as remote:
        answered = await local.get("/metrics")
        proxied = await local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        forwarded = await local.get("/metrics", headers={"Forwarded": "for=203.0.113.9"})
        far = await remote.get("/metrics")
    assert answered.status_code == 200
    assert answered.headers["content-type"].startswith("text/plain")
    assert [proxied.status_code, forwarded.status_code, far.status_code] == [403] * 3
    assert "tiktimer_" not in far.text


async def test_with_a_token_every_caller_needs_it(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    settings = make_settings(database.url, tmp_path, metrics_token=TOKEN)
    async with sandboxed_app(settings) as app:
        async with client_of(app) as local, client_of(app, "203.0.113.9") as remote:
            bare = await local.get("/metrics")
            wrong = await remote.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"})
            basic = await remote.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})
            right = await remote.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert [bare.status_code, wrong.status_code, basic.status_code] == [403] * 3
    assert right.status_code == 200
    assert TOKEN not in right.text
    assert value(parse(right.text), "tiktimer_cluster_scrape_ok") == 1


async def test_http_requests_are_counted_by_route_template(served: FastAPI) -> None:
    async with client_of(served) as client:
        before = parse((await client.get("/metrics")).text)
        for post_id in (123456, 654321):
            assert (await client.get(f"/posts/{post_id}")).status_code == 401
        assert (await client.get("/no/such/path/777")).status_code == 404
        after = (await client.get("/metrics")).text
    samples = parse(after)
    route = {"method": "GET", "route": "/posts/{post_id}", "status": "401"}
    counted = value(samples, "tiktimer_http_requests_total", **route) - value(
        before, "tiktimer_http_requests_total", **route
    )
    assert counted == 2
    assert "123456" not in after
    assert "/no/such" not in after
    assert value(samples, "tiktimer_http_requests_total", method="GET", route="unmatched",
                 status="404") >= 1  # fmt: skip
    assert (
        value(
            samples,
            "tiktimer_http_request_duration_seconds_count",
            method="GET",
            route="/posts/{post_id}",
        )
        >= 2
    )
    assert value(samples, "tiktimer_http_requests_total", method="GET", route="/metrics",
                 status="200") >= 1  # fmt: skip


@pytest.mark.parametrize(
    ("path", "status", "route"),
    [
        ("/app/static/app.css", 200, "/app/static/{path}"),
        ("/app/static/none-such-zqx.js", 404, "/app/static/{path}"),
        ("/sandbox/tiktok/v2/user/info/", 401, "/sandbox/tiktok/v2/user/info/"),
        ("/sandbox/tiktok/none-such-zqx", 404, "/sandbox/tiktok/{path}"),
    ],
)
async def test_mounts_count_as_their_prefix_or_their_inner_route(
    served: FastAPI, path: str, status: int, route: str
) -> None:
    labels = {"method": "GET", "route": route, "status": str(status)}
    async with client_of(served) as client:
        before = parse((await client.get("/metrics")).text)  # the process's counters
        assert (await client.get(path)).status_code == status
        text = (await client.get("/metrics")).text
    counted = value(parse(text), "tiktimer_http_requests_total", **labels) - value(
        before, "tiktimer_http_requests_total", **labels
    )
    assert counted == 1
    assert "zqx" not in text


async def test_cluster_figures_come_from_the_database(served: FastAPI) -> None:
    services = services_of(served)
    now = utc_now()
    due = now - timedelta(hours=1)
    # First attempts 3 s, 40 s and 700 s late; one retry (not a first attempt); one missed.
    async with services.sessionmaker() as session, session.begin():
        user = User(username="metrics", email="metrics@example.com", hashed_password="-")
        session.add(user)
        await session.flush()
        session.add(
            SocialAccount(user_id=user.id, open_id="o1", status="reauth_required", scopes="")
        )
        plan = [(3, "published", None), (40, "failed", "spam_risk_too_many_posts"),
                (700, "published", None)]  # fmt: skip
        for late, outcome, code in plan:
            post = Post(user_id=user.id, scheduled_time=due, status=outcome)
            session.add(post)
            await session.flush()
            session.add(
                PostAttempt(post_id=post.id, number=1, started_at=due + timedelta(seconds=late),
                            finished_at=now, outcome=outcome, error_code=code)
            )  # fmt: skip
            if late == 40:
                session.add(
                    PostAttempt(post_id=post.id, number=2, started_at=now, outcome="running")
                )
        missed = Post(user_id=user.id, scheduled_time=due, status="missed")
        session.add(missed)
        await session.flush()
        session.add(PostAttempt(post_id=missed.id, number=1, started_at=now, finished_at=now,
                                outcome="missed", error_code="missed"))  # fmt: skip
        session.add(Post(user_id=user.id, scheduled_time=due, status="scheduled"))
    async with client_of(served) as client:
        samples = parse((await client.get("/metrics")).text)
    lag = "tiktimer_publish_lag_seconds"
    assert value(samples, f"{lag}_count", platform="tiktok") == 3
    assert value(samples, f"{lag}_sum", platform="tiktok") == pytest.approx(743, abs=0.01)
    bucket = {le: value(samples, f"{lag}_bucket", platform="tiktok", le=le)
              for le in ("1.0", "5.0", "30.0", "60.0", "600.0", "1800.0", "+Inf")}  # fmt: skip
    assert bucket == {"1.0": 0, "5.0": 1, "30.0": 1, "60.0": 2, "600.0": 2, "1800.0": 3,
                      "+Inf": 3}  # fmt: skip
    outcomes = "tiktimer_publish_outcomes_total"
    assert value(samples, outcomes, platform="tiktok", outcome="published",
                 error_class="none") == 2  # fmt: skip
    assert value(samples, outcomes, platform="tiktok", outcome="failed",
                 error_class="spam_risk_too_many_posts") == 1  # fmt: skip
    assert value(samples, outcomes, platform="tiktok", outcome="missed",
                 error_class="missed") == 1  # fmt: skip
    assert total(samples, outcomes) == 4  # the running attempt is no outcome yet
    assert value(samples, "tiktimer_posts", platform="tiktok", status="published") == 2
    assert value(samples, "tiktimer_posts", platform="tiktok", status="missed") == 1
    assert value(samples, "tiktimer_accounts", platform="tiktok", status="reauth_required") == 1
    assert value(samples, "tiktimer_due_unclaimed_posts") == 1
    assert value(samples, "tiktimer_leases_held") == 0


def test_error_classes_are_a_bounded_vocabulary() -> None:
    assert error_class(None) == "none"
    assert error_class("rate_limit_exceeded") == "rate_limit_exceeded"
    assert error_class("free text, with spaces") == "other"
    assert error_class("x" * 65) == "other"


async def test_with_the_database_away_the_process_figures_still_go_out(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    if database.backend != "postgresql":
        pytest.skip("the proxy cuts a PostgreSQL connection; SQLite has none")
    url = make_url(database.url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    try:
        async with sandboxed_app(make_settings(proxied, tmp_path)) as app:
            async with client_of(app) as client:
                assert value(parse((await client.get("/metrics")).text),
                             "tiktimer_cluster_scrape_ok") == 1  # fmt: skip
                proxy.mode = "refuse"
                proxy.drop_connections()
                started = time.monotonic()
                response = await client.get("/metrics")
                elapsed = time.monotonic() - started
    finally:
        proxy.mode = "forward"
        await proxy.stop()
    assert response.status_code == 200
    samples = parse(response.text)
    assert value(samples, "tiktimer_cluster_scrape_ok") == 0
    assert total(samples, "tiktimer_http_requests_total") >= 1
    assert not any(name == "tiktimer_posts" for name, _ in samples)
    assert elapsed < CLUSTER_TIMEOUT_SECONDS + 5
