"""An app whose public media URL is https (TikTok pulls photos only from https), a
publisher wired to it with the shared pacer, and a connected private sandbox creator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.app import make_settings, sandboxed_app
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.users import user_headers
from tests.media_factory import MediaSamples
from tests.publishing.helpers import RecordingPacer, connect_creator, user_id
from tiktimer.platforms.tiktok.emulator import Emulator
from tiktimer.platforms.tiktok.publisher import TikTokPublisher

MEDIA_BASE = "https://media.tiktimer.test"
DAILY_CAP = 3


@pytest.fixture(scope="session")
async def app(
    database: DatabaseUnderTest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FastAPI]:
    settings = make_settings(
        database.url,
        tmp_path_factory.mktemp("publishing"),
        media_public_url=MEDIA_BASE,
        tiktok_daily_post_cap=DAILY_CAP,
    )
    async with sandboxed_app(settings) as application:
        yield application


@pytest.fixture(autouse=True)
def _fresh_creator_info(app: FastAPI) -> None:
    """Account ids restart with every test: never reuse another test's creator_info."""
    app.state.services.publishing.creators.forget()


@pytest.fixture
def emulator(app: FastAPI) -> Emulator:
    sandbox: Emulator = app.state.services.sandbox_emulator
    return sandbox


@pytest.fixture
def pacer(app: FastAPI) -> RecordingPacer:
    return RecordingPacer(app.state.services.pacer)


@pytest.fixture
def publisher(app: FastAPI, pacer: RecordingPacer) -> TikTokPublisher:
    publisher: TikTokPublisher = app.state.services.publishing.publisher(pacer)
    return publisher


@pytest.fixture
async def alice(client: httpx.AsyncClient) -> dict[str, str]:
    return await user_headers(client, "alice")


@pytest.fixture
async def alice_id(client: httpx.AsyncClient, alice: dict[str, str]) -> int:
    return await user_id(client, alice)


@pytest.fixture
async def account(client: httpx.AsyncClient, alice: dict[str, str], emulator: Emulator) -> int:
    return await connect_creator(client, alice, emulator)


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> MediaSamples:
    return MediaSamples(tmp_path_factory.mktemp("samples"))
