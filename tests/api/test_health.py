"""Health, request ids and error shapes."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from tests.fixtures.app import make_settings
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.lifespan import lifespan_of
from tests.fixtures.tcp_proxy import TcpProxy
from tiktimer.app import create_app


async def test_root_and_health(client: httpx.AsyncClient) -> None:
    root = await client.get("/")
    assert root.status_code == 200
    assert "Welcome" in root.json()["message"]
    health = await client.get("/health")
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["database"]["latency_ms"] >= 0
    assert {"api_version", "timestamp"} <= set(body)


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    given = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await client.get("/health")
    assert len(made.headers["x-request-id"]) >= 8
    hostile = await client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert hostile.headers["x-request-id"] != "bad id\twith spaces"


async def test_errors_are_json_with_detail(client: httpx.AsyncClient) -> None:
    missing = await client.get("/no-such-page")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not Found"}
    wrong_method = await client.put("/health")
    assert wrong_method.status_code == 405
    assert "detail" in wrong_method.json()
    bad_json = await client.post(
        "/register", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 422
    assert "detail" in bad_json.json()


async def test_unhandled_error_is_500_json_without_internals(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/_boom")
    async def boom() -> None:
        raise RuntimeError("secret internal detail")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            with caplog.at_level(logging.ERROR):
                response = await client.get("/_boom", headers={"X-Request-ID": "req-500"})
    finally:
        app.router.routes = [r for r in app.router.routes if getattr(r, "path", "") != "/_boom"]
    assert response.status_code == 500
    assert response.json()["detail"] == "Internal server error"
    assert "secret internal detail" not in response.text
    assert response.headers["x-request-id"] == "req-500"
    logged = [r for r in caplog.records if r.name == "tiktimer.errors"]
    assert logged
    assert logged[0].request_id == "req-500"  # type: ignore[attr-defined]


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # a networked database
@pytest.mark.parametrize("failure", ["refuse", "stall"])
async def test_health_is_503_fast_when_database_is_down(
    database: DatabaseUnderTest, tmp_path: Path, failure: str
) -> None:
    """The database goes away (or hangs) after startup: /health says so, quickly."""
    url = make_url(database.url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = create_app(make_settings(proxied, tmp_path))
    try:
        async with lifespan_of(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                assert (await client.get("/health")).status_code == 200
                proxy.mode = failure
                proxy.drop_connections()
                started = time.perf_counter()
                response = await client.get("/health")
                elapsed = time.perf_counter() - started
                proxy.mode = "forward"
    finally:
        await proxy.stop()
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["database"]["ok"] is False
    # Bounded by the check's own timeout (2 s), not by TCP or pool timeouts.
    assert elapsed < 5
