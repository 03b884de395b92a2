"""The sandbox's state store on SQLite and PostgreSQL: emulators in different processes (here:
two emulators over one store, as two processes would be) see one TikTok, and a new emulator
(a restarted process) picks up where the old one stopped."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace

import httpx
import pytest

from tests.emulator.flows import API, TikTok, bearer, error_code, make_config
from tests.fixtures.databases import DatabaseUnderTest
from tiktimer.platforms.tiktok.emulator import (
    EmulatorConfig,
    RateLimits,
    StateUnavailable,
    create_emulator_app,
)
from tiktimer.platforms.tiktok.sandbox_state import DatabaseStateStore, sandbox_database_url

Process = Callable[[], AbstractAsyncContextManager[TikTok]]


def shared_config() -> EmulatorConfig:
    # Processes of one installation share the upload-signing key (derived from SECRET_KEY).
    return make_config(processing_seconds=0, signing_secret="installation-signing-key")


@pytest.fixture
def process(database: DatabaseUnderTest) -> Process:
    """Start an emulator "process" over this test's own row of the shared state."""
    url = sandbox_database_url(database.url)
    assert url is not None
    row = secrets.randbelow(2**30) + 2  # row 1 belongs to the app fixtures' sandbox
    config = shared_config()

    @asynccontextmanager
    async def start() -> AsyncIterator[TikTok]:
        app = create_emulator_app(config, store=DatabaseStateStore(url, row=row))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=API) as http:
            yield TikTok(http, app.state.emulator)
        await app.state.emulator.aclose()

    return start


async def test_a_consent_in_one_process_works_in_every_other(process: Process) -> None:
    async with process() as one, process() as two:
        tokens = await one.connect("alice")  # consent + code exchange in process one
        token = tokens["access_token"]

        info = await two.http.get("/v2/user/info/?fields=open_id", headers=bearer(token))
        init = await two.init_video(
            token,
            {
                "source_info": {
                    "source": "FILE_UPLOAD",
                    "video_size": 1_000_000,
                    "chunk_size": 1_000_000,
                    "total_chunk_count": 1,
                },
                "post_info": {"privacy_level": "SELF_ONLY", "brand_content_toggle": False},
            },
        )
        assert init.status_code == 200, init.text
        data = init.json()["data"]
        put = await one.put_chunk(data["upload_url"], 0, 999_999, 1_000_000)
        status = await two.status(token, data["publish_id"])

    assert info.status_code == 200
    assert info.json()["data"]["user"]["open_id"] == tokens["open_id"]
    assert put.status_code == 201, put.text
    assert status.json()["data"]["status"] == "PUBLISH_COMPLETE"


async def test_a_restarted_process_keeps_every_grant_and_post(process: Process) -> None:
    async with process() as before:
        tokens = await before.connect("alice")
        data = await before.publish_file(tokens["access_token"])
        before.emulator.advance_clock(5)
        await before.creator_info(tokens["access_token"])  # commits the clock move too

    async with process() as after:
        status = await after.status(tokens["access_token"], data["publish_id"])
        refreshed = await after.token(
            grant_type="refresh_token", refresh_token=tokens["refresh_token"]
        )
        [record] = after.emulator.publications()
        reused = await after.token(
            grant_type="refresh_token", refresh_token=tokens["refresh_token"]
        )

    assert status.json()["data"]["status"] == "PUBLISH_COMPLETE"
    assert refreshed.status_code == 200, refreshed.text
    assert record.publish_id == data["publish_id"]
    # One upload, committed in one process: its SHA-256 survived with the task.
    assert record.media_sha256 is not None
    # The rotated-out refresh token is dead in every process, as TikTok's would be.
    assert reused.status_code == 400


async def test_a_burnt_code_stays_burnt_in_every_process(process: Process) -> None:
    async with process() as one, process() as two:
        auth = await one.authorize(creator="alice")
        first = await one.exchange(auth)
        replay = await two.exchange(auth)
        after_replay = await one.http.get(
            "/v2/user/info/?fields=open_id", headers=bearer(first.json()["access_token"])
        )

    assert first.status_code == 200
    assert replay.status_code == 400
    # Replaying a code revokes what it produced (TikTok treats it as a stolen code).
    assert after_replay.status_code == 401


async def test_rate_windows_are_shared_and_no_update_is_lost(process: Process) -> None:
    """40 concurrent creator_info calls over two processes: exactly the 20 of TikTok's window
    pass, so every call saw every other's count (a lost update would let more through)."""
    async with process() as one, process() as two:
        token = one.tokens("alice")
        await one.creator_info(token)  # commits the grant the test hook made
        calls = [(one if n % 2 else two).creator_info(token) for n in range(39)]
        answers = await asyncio.gather(*calls)

    passed = sum(1 for a in answers if a.status_code == 200) + 1
    refused = [a for a in answers if a.status_code == 429]
    assert passed == RateLimits().creator_info
    assert len(refused) == 40 - passed
    assert {error_code(a) for a in refused} == {"rate_limit_exceeded"}


async def test_a_chunk_in_another_process_counts_but_the_hash_is_unknown(
    process: Process,
) -> None:
    size, chunk = 12_000_000, 6_000_000
    async with process() as one, process() as two:
        token = one.tokens("alice")
        body = {
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": size,
                "chunk_size": chunk,
                "total_chunk_count": 2,
            },
            "post_info": {"privacy_level": "SELF_ONLY", "brand_content_toggle": False},
        }
        init = await one.init_video(token, body)
        data = init.json()["data"]
        first = await one.put_chunk(data["upload_url"], 0, chunk - 1, size)
        second = await two.put_chunk(data["upload_url"], chunk, size - 1, size)
        status = await one.status(token, data["publish_id"])
        [record] = one.emulator.publications()

    assert (first.status_code, second.status_code) == (206, 201)
    assert status.json()["data"]["uploaded_bytes"] == size
    assert record.media_bytes == size
    assert record.media_sha256 is None


async def test_an_unreachable_state_answers_like_a_tiktok_outage() -> None:
    store = DatabaseStateStore("postgresql+asyncpg://postgres@127.0.0.1:9/nowhere")
    app = create_emulator_app(replace(make_config(), processing_seconds=0), store=store)
    emulator = app.state.emulator
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=API) as http:
        tiktok = TikTok(http, emulator)
        token = tiktok.tokens("alice")
        info = await tiktok.creator_info(token)
        refresh = await tiktok.token(grant_type="refresh_token", refresh_token="rft.x")
    with pytest.raises(StateUnavailable, match="127.0.0.1:9"):
        await emulator.check_state()
    await emulator.aclose()

    assert info.status_code == 503
    assert error_code(info) == "internal_error"
    assert refresh.status_code == 503
    assert refresh.json()["error"] == "temporarily_unavailable"


def test_sqlite_keeps_the_sandbox_in_a_companion_file() -> None:
    assert (
        sandbox_database_url("sqlite+aiosqlite:///srv/data/tiktimer.db")
        == "sqlite+aiosqlite:///srv/data/tiktimer-sandbox.db"
    )
    assert sandbox_database_url("sqlite+aiosqlite:///:memory:") is None
    pg = "postgresql+asyncpg://u:p@db:5432/tiktimer"
    assert sandbox_database_url(pg) == pg
