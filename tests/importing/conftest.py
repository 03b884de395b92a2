"""An app with a connected sandbox creator, library media, small import limits, and a
fetch allow list that lets media URLs reach a server on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.app import make_settings, sandboxed_app
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.users import user_headers
from tests.media_factory import MediaSamples
from tests.publishing.helpers import connect_creator, user_id
from tiktimer.platforms.tiktok.emulator import Emulator

MAX_ROWS = 25
MAX_KB = 16


@pytest.fixture(scope="session")
async def app(
    database: DatabaseUnderTest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FastAPI]:
    settings = make_settings(
        database.url,
        tmp_path_factory.mktemp("importing"),
        media_public_url="https://media.tiktimer.test",
        fetch_allow="127.0.0.1",
        import_max_rows=MAX_ROWS,
        import_max_kb=MAX_KB,
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
async def alice(client: httpx.AsyncClient) -> dict[str, str]:
    return await user_headers(client, "alice", timezone="Europe/Berlin")


@pytest.fixture
async def alice_id(client: httpx.AsyncClient, alice: dict[str, str]) -> int:
    return await user_id(client, alice)


@pytest.fixture
async def account(client: httpx.AsyncClient, alice: dict[str, str], emulator: Emulator) -> int:
    return await connect_creator(client, alice, emulator, "creator_one")


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> MediaSamples:
    return MediaSamples(tmp_path_factory.mktemp("samples"))
