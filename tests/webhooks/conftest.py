"""An app whose sandbox emulator sends its webhooks to the app itself, in process, and
helpers to sign deliveries the way TikTok does."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from tests.fixtures.app import TEST_SECRET, make_settings, sandboxed_app
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.users import user_headers
from tests.publishing.helpers import connect_creator, create_post
from tiktimer.models import Post, PostStatus
from tiktimer.platforms.tiktok.emulator import SANDBOX_CLIENT_KEY, Emulator
from tiktimer.platforms.tiktok.publisher import TikTokPublisher
from tiktimer.platforms.tiktok.sandbox import client_secret_for
from tiktimer.webhooks.signature import sign

URL = "/api/v1/webhooks/tiktok"
# The sandbox app's secret of the test installation (derived from its SECRET_KEY).
SANDBOX_SECRET = client_secret_for(TEST_SECRET)


@pytest.fixture(scope="session")
async def app(
    database: DatabaseUnderTest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FastAPI]:
    settings = make_settings(
        database.url,
        tmp_path_factory.mktemp("webhooks"),
        media_public_url="https://media.tiktimer.test",
        sandbox_webhooks=True,
    )
    async with sandboxed_app(settings) as application:
        yield application


@pytest.fixture(autouse=True)
def _fresh_creator_info(app: FastAPI) -> None:
    app.state.services.publishing.creators.forget()


@pytest.fixture
def emulator(app: FastAPI) -> Emulator:
    sandbox: Emulator = app.state.services.sandbox_emulator
    return sandbox


@pytest.fixture
def publisher(app: FastAPI) -> TikTokPublisher:
    publisher: TikTokPublisher = app.state.services.publishing.publisher(app.state.services.pacer)
    return publisher


@pytest.fixture
async def alice(client: httpx.AsyncClient) -> dict[str, str]:
    return await user_headers(client, "alice")


@pytest.fixture
async def account(client: httpx.AsyncClient, alice: dict[str, str], emulator: Emulator) -> int:
    return await connect_creator(client, alice, emulator)


def envelope(event: str, content: dict[str, Any], **overrides: Any) -> bytes:
    body = {
        "client_key": SANDBOX_CLIENT_KEY,
        "event": event,
        "create_time": int(time.time()),
        "user_openid": "open-id",
        "content": json.dumps(content),
        **overrides,
    }
    return json.dumps(body).encode()


async def deliver(
    client: httpx.AsyncClient,
    body: bytes,
    *,
    secret: str = SANDBOX_SECRET,
    at: float | None = None,
    header: str | None = None,
) -> httpx.Response:
    """POST a delivery signed like TikTok's (or with `header` as given)."""
    timestamp = int(time.time() if at is None else at)
    signature = sign(secret, body, timestamp) if header is None else header
    return await client.post(
        URL,
        content=body,
        headers={"Content-Type": "application/json", "TikTok-Signature": signature},
    )


async def publishing_post(
    client: httpx.AsyncClient, app: FastAPI, headers: dict[str, str], publish_id: str
) -> int:
    """A post that is publishing as `publish_id` (no emulator task behind it)."""
    # A draft (no account or video needed, issue 13): its status is set just below.
    post = await create_post(client, headers, draft=True)
    async with app.state.services.sessionmaker() as session, session.begin():
        await session.execute(
            update(Post)
            .where(Post.id == post["id"])
            .values(status=PostStatus.publishing, platform_publish_id=publish_id)
        )
    return int(post["id"])
