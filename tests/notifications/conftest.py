"""An app whose deliveries may reach loopback (TIKTIMER_FETCH_ALLOW), a real webhook
receiver under uvicorn that checks every signature, and a notifier with short backoff."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from tests.fixtures.app import make_settings, sandboxed_app
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.server import free_port
from tests.fixtures.users import user_headers
from tiktimer.db.dialect import Writes
from tiktimer.kit.backoff import Backoff
from tiktimer.notifications.delivery import Notifier
from tiktimer.notifications.signing import HEADER, matches

API = "/api/v1/notifications"
FAST = Backoff(initial=0.05, factor=1.0, maximum=0.05)


@pytest.fixture(scope="session")
async def app(
    database: DatabaseUnderTest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FastAPI]:
    settings = make_settings(
        database.url,
        tmp_path_factory.mktemp("notifications"),
        fetch_allow="127.0.0.1",
        media_public_url="https://media.tiktimer.test",
    )
    async with sandboxed_app(settings) as application:
        yield application


@dataclass
class Received:
    headers: httpx.Headers
    body: bytes
    signed: bool


@dataclass
class Receiver:
    """A webhook receiver on a loopback port; `secret` is what it verifies against."""

    port: int = field(default_factory=free_port)
    secret: str = ""
    also: set[str] = field(default_factory=set)  # more secrets it accepts
    answer: int = 200
    stall: float = 0.0  # seconds to wait before answering
    received: list[Received] = field(default_factory=list)
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook?token=do-not-log-me"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = httpx.Headers([(k.decode(), v.decode()) for k, v in scope["headers"]])
        header = headers.get(HEADER, "")
        signed = any(matches(header, body, secret) for secret in {self.secret, *self.also})
        self.received.append(Received(headers, body, signed))
        status = self.answer if signed else 401
        await asyncio.sleep(self.stall)
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def start(self) -> None:
        config = uvicorn.Config(
            self, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._server = self._task = None


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    await found.start()
    yield found
    await found.stop()


@pytest.fixture
def notifier(app: FastAPI) -> Notifier:
    services = app.state.services
    return Notifier(
        Writes(services.engine),
        services.cipher,
        services.settings.server.fetch_policy,
        retries=FAST,
    )


@pytest.fixture
async def alice(client: httpx.AsyncClient) -> dict[str, str]:
    return await user_headers(client, "alice")


async def add_endpoint(
    client: httpx.AsyncClient, headers: dict[str, str], url: str, **body: Any
) -> dict[str, Any]:
    response = await client.post(f"{API}/endpoints", json={"url": url, **body}, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def deliveries(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get(f"{API}/deliveries", headers=headers)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


@pytest.fixture
def emulator(app: FastAPI) -> Any:
    return app.state.services.sandbox_emulator
