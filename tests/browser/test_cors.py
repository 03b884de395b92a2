"""CORS: no origin is allowed by default; TIKTIMER_CORS_ORIGINS lists the allowed ones."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.fixtures.app import make_settings, sandboxed_app
from tests.fixtures.databases import DatabaseUnderTest
from tiktimer.config import SettingsError, load_settings

PREFLIGHT = {
    "Origin": "https://app.example.com",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization,content-type",
}


async def test_no_origin_is_allowed_by_default(client: httpx.AsyncClient) -> None:
    preflight = await client.options("/posts/", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in preflight.headers
    simple = await client.get("/health", headers={"Origin": "https://app.example.com"})
    assert "access-control-allow-origin" not in simple.headers


async def test_configured_origins_are_allowed(database: DatabaseUnderTest, tmp_path: Path) -> None:
    settings = make_settings(
        database.url,
        tmp_path,
        cors_origins_raw="https://app.example.com, http://localhost:5173/",
    )
    async with sandboxed_app(settings) as app:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://tiktimer.test"
        ) as client:
            preflight = await client.options("/posts/", headers=PREFLIGHT)
            assert preflight.status_code == 200
            assert preflight.headers["access-control-allow-origin"] == "https://app.example.com"
            assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
            assert "access-control-allow-credentials" not in preflight.headers
            local = await client.get("/health", headers={"Origin": "http://localhost:5173"})
            assert local.headers["access-control-allow-origin"] == "http://localhost:5173"
            assert "x-request-id" in local.headers["access-control-expose-headers"].lower()
            other = await client.options(
                "/posts/", headers={**PREFLIGHT, "Origin": "https://evil.example"}
            )
            assert other.headers.get("access-control-allow-origin") != "https://evil.example"


@pytest.mark.parametrize("value", ["app.example.com", "https://app.example.com/path", "ftp://x"])
def test_a_bad_origin_is_refused_at_startup(value: str) -> None:
    with pytest.raises(SettingsError, match="TIKTIMER_CORS_ORIGINS"):
        load_settings(_env_file=None, cors_origins_raw=value)
