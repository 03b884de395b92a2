"""The YouTube emulator on a real loopback uvicorn server, and a settable clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
import uvicorn

from tiktimer.platforms.youtube.client import YouTubeClient, parse_callback
from tiktimer.platforms.youtube.emulator import (
    ChannelConfig,
    ClientConfig,
    EmulatorConfig,
    YouTubeEmulator,
    create_emulator_app,
)
from tiktimer.platforms.youtube.endpoints import GoogleEndpoints
from tiktimer.platforms.youtube.pkce import generate_code_verifier, generate_state
from tiktimer.platforms.youtube.schemas import TokenSet

CLIENT_ID = "1234-test.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-test-client-secret"
UNVERIFIED_ID = "5678-unverified.apps.googleusercontent.com"
REDIRECT_URI = "https://tiktimer.example.com/accounts/youtube/callback"
UPLOAD = "https://www.googleapis.com/auth/youtube.upload"
READONLY = "https://www.googleapis.com/auth/youtube.readonly"
KIB256 = 256 * 1024


class Clock:
    """The emulator's time, moved by tests (quota days, code and token expiry)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)  # 12:00 in Los Angeles

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def base_config(clock: Clock) -> EmulatorConfig:
    return EmulatorConfig(
        clients=(
            ClientConfig(CLIENT_ID, CLIENT_SECRET, (REDIRECT_URI,), project="tiktimer-prod"),
            ClientConfig(
                UNVERIFIED_ID, CLIENT_SECRET, (REDIRECT_URI,), project="fresh", unverified=True
            ),
        ),
        channels=(ChannelConfig("alice@example.com", "UCalice"),),
        clock=clock,
    )


@dataclass
class Served:
    url: str
    emulator: YouTubeEmulator
    clock: Clock


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def serve(clock: Clock) -> AsyncIterator[Callable[..., Any]]:
    """`await serve(**config overrides)` → the emulator on its own loopback port."""
    servers: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def start(**overrides: Any) -> Served:
        app = create_emulator_app(replace(base_config(clock), **overrides))
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical", lifespan="off")
        )
        task = asyncio.create_task(server.serve())
        servers.append((server, task))
        while not server.started:
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        return Served(f"http://127.0.0.1:{port}", app.state.emulator, clock)

    yield start
    for server, task in servers:
        server.should_exit = True
        await task


@pytest.fixture
async def served(serve: Callable[..., Any]) -> Served:
    result: Served = await serve()
    return result


def video_bytes(size: int) -> bytes:
    """Distinct, reproducible bytes, so a misplaced chunk changes the digest."""
    block = bytes(range(251)) * (size // 251 + 1)
    return block[:size]


def make_client(served: Served, **overrides: Any) -> YouTubeClient:
    options: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": REDIRECT_URI,
        "endpoints": GoogleEndpoints.at(served.url),
        "chunk_size": KIB256,
        "sleep": _no_sleep,
        "clock": served.clock,
    }
    options.update(overrides)
    return YouTubeClient(**options)


async def _no_sleep(_: float) -> None:
    await asyncio.sleep(0)


@pytest.fixture
async def clients() -> AsyncIterator[list[YouTubeClient]]:
    """Clients to close after the test (append what you build)."""
    built: list[YouTubeClient] = []
    yield built
    for client in built:
        await client.aclose()


async def consent(
    client: YouTubeClient,
    *,
    login: str = "alice@example.com",
    allow: bool = True,
    granted: tuple[str, ...] | None = None,
) -> tuple[dict[str, str], str, str]:
    """Play the browser: open the authorization URL, answer consent, read the redirect.

    Returns the redirect's query, the state and the verifier the request was made with.
    """
    state, verifier = generate_state(), generate_code_verifier()
    url = client.authorization_url(state=state, code_verifier=verifier)
    async with httpx.AsyncClient() as browser:
        page = await browser.get(url)
        assert page.status_code == 200, page.text
        form = dict(parse_qsl(urlsplit(url).query))
        form |= {"login": login, "decision": "allow" if allow else "deny"}
        pairs = list(form.items()) + [("granted", s) for s in granted or ()]
        base = url.split("/o/oauth2/v2/auth")[0]
        answer = await browser.post(
            f"{base}/o/oauth2/v2/auth/consent",
            content=urlencode(pairs),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    return dict(parse_qsl(urlsplit(location).query)), state, verifier


async def connect(client: YouTubeClient, **options: Any) -> TokenSet:
    query, state, verifier = await consent(client, **options)
    return await client.exchange_code(parse_callback(query, state), verifier)


def reader(data: bytes, piece: int = 64 * 1024) -> Callable[[int, int], AsyncIterator[bytes]]:
    """A storage-like `read_range` over bytes, streamed in small pieces."""

    async def read_range(start: int, end: int) -> AsyncIterator[bytes]:
        for offset in range(start, end, piece):
            yield data[offset : min(offset + piece, end)]

    return read_range
