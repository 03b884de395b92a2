"""The YouTube emulator on a real loopback uvicorn server, and a settable clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import uvicorn

from tiktimer.platforms.youtube.emulator import (
    ChannelConfig,
    ClientConfig,
    EmulatorConfig,
    YouTubeEmulator,
    create_emulator_app,
)

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


Serve = Callable[..., "asyncio.Future[Served]"]


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
