"""Fixtures for the TikTok client tests: a client wired to an ``httpx.MockTransport``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tiktimer.platforms.tiktok.client import Backoff, TikTokClient

CLIENT_KEY = "aw-test-client-key"
CLIENT_SECRET = "s3cr3t-client-secret-value"
REDIRECT_URI = "https://tiktimer.example.com/accounts/tiktok/callback/"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LOG_ID = "202206221854370101130062072500FFA2"

Handler = (
    Callable[[httpx.Request], httpx.Response]
    | Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]
)


def envelope(data: dict[str, Any] | None = None, code: str = "ok", message: str = "") -> bytes:
    """A data-API body: ``{"data": ..., "error": {"code", "message", "log_id"}}``."""
    return json.dumps(
        {"data": data or {}, "error": {"code": code, "message": message, "log_id": LOG_ID}}
    ).encode()


def api_response(
    data: dict[str, Any] | None = None, *, status: int = 200, code: str = "ok", message: str = ""
) -> httpx.Response:
    return httpx.Response(
        status,
        content=envelope(data, code, message),
        headers={"Content-Type": "application/json"},
    )


class Sleeps(list[float]):
    """Records the delays the client sleeps for, without sleeping."""

    async def __call__(self, delay: float) -> None:
        self.append(delay)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


MakeClient = Callable[..., TikTokClient]


@pytest.fixture
async def make_client(sleeps: Sleeps) -> AsyncIterator[MakeClient]:
    """``make_client(handler, **overrides)`` → a TikTokClient on a MockTransport."""
    created: list[TikTokClient] = []

    def factory(handler: Handler, **overrides: Any) -> TikTokClient:
        options: dict[str, Any] = {
            "client_key": CLIENT_KEY,
            "client_secret": CLIENT_SECRET,
            "redirect_uri": REDIRECT_URI,
            "transport": httpx.MockTransport(handler),
            "sleep": sleeps,
            "clock": lambda: NOW,
            "chunk_backoff": Backoff(initial=1.0, factor=2.0, maximum=30.0),
        }
        options.update(overrides)
        client = TikTokClient(**options)
        created.append(client)
        return client

    yield factory
    for client in created:
        await client.aclose()
