"""Racing calls on one container still make one media; the emulator also runs mounted."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from tests.instagram.conftest import VIDEO_URL, Instagram, make_config
from tests.instagram.serving import serve
from tiktimer.platforms.instagram.emulator import Emulator, create_emulator_app
from tiktimer.platforms.instagram.errors import InstagramError
from tiktimer.platforms.instagram.schemas import Reel


async def test_concurrent_publishes_of_one_container_make_one_media(
    instagram: Instagram,
) -> None:
    tokens, user_id = await instagram.login()
    container = await instagram.client.create_reel(tokens, user_id, Reel(VIDEO_URL))
    instagram.emulator.clock.advance(31)

    results = await asyncio.gather(
        *(instagram.client.publish(tokens, user_id, container) for _ in range(5)),
        return_exceptions=True,
    )

    assert sum(isinstance(result, str) for result in results) == 1
    assert sum(isinstance(result, InstagramError) for result in results) == 4
    assert len(await instagram.emulator.media()) == 1


async def test_mounted_under_a_prefix() -> None:
    emulator_app = create_emulator_app(make_config())
    emulator: Emulator = emulator_app.state.emulator
    outer = FastAPI()
    outer.mount("/sandbox/instagram", emulator_app)
    token_user = await emulator.add_account("mounted")
    async with serve(outer) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        token = await emulator.issue_token("mounted", make_config().apps[0].app_id)
        response = await http.get(
            "/sandbox/instagram/v25.0/me", params={"fields": "user_id", "access_token": token}
        )
    assert response.json() == {"user_id": token_user}
    assert emulator.requests("me")[0].path == "/v25.0/me"
