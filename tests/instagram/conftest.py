"""The Instagram client against the strict emulator on a real loopback uvicorn server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.instagram.serving import serve
from tests.instagram.videos import reel_mp4
from tiktimer.platforms.instagram.client import InstagramClient
from tiktimer.platforms.instagram.emulator import (
    AccountSettings,
    AccountType,
    AppConfig,
    Emulator,
    EmulatorConfig,
    create_emulator_app,
)
from tiktimer.platforms.instagram.schemas import TokenSet

APP_ID = "1234567890123456"
APP_SECRET = "ig-app-secret-value-0001"
REDIRECT_URI = "https://tiktimer.example.com/accounts/instagram/callback/"
VIDEO_URL = "https://media.tiktimer.test/signed/reel.mp4?sig=abc"


def make_config(**overrides: Any) -> EmulatorConfig:
    options: dict[str, Any] = {
        "apps": (AppConfig(APP_ID, APP_SECRET, (REDIRECT_URI,)),),
        "accounts": (
            AccountSettings("studio", AccountType.BUSINESS),
            AccountSettings("maker", AccountType.CREATOR),
            AccountSettings("friend", AccountType.PERSONAL),
        ),
        "processing_seconds": 30.0,
    }
    options.update(overrides)
    return EmulatorConfig(**options)


@dataclass
class Instagram:
    emulator: Emulator
    base_url: str
    client: InstagramClient
    http: httpx.AsyncClient  # the browser, and raw Graph calls

    async def login(self, username: str = "studio") -> tuple[TokenSet, str]:
        """Log in through the authorize form; the long-lived token and the IG user id."""
        from tiktimer.platforms.instagram.client import parse_callback

        url = self.client.authorization_url(state="st4te")
        page = await self.http.get(url)
        assert page.status_code == 200, page.text
        form = dict(httpx.URL(url).params) | {"username": username, "decision": "allow"}
        redirect = await self.http.post("/oauth/authorize", data=form)
        assert redirect.status_code == 302, redirect.text
        code = parse_callback(redirect.headers["location"], expected_state="st4te")
        short = await self.client.exchange_code(code)
        return await self.client.exchange_long_lived(short), short.user_id

    async def user_id(self, username: str) -> str:
        async with self.emulator.store.transaction() as state:
            account = state.account_named(username)
            assert account is not None
            return account.user_id


@pytest.fixture
def config() -> EmulatorConfig:
    return make_config()


@pytest.fixture
async def instagram(config: EmulatorConfig) -> AsyncIterator[Instagram]:
    app = create_emulator_app(config)
    emulator: Emulator = app.state.emulator
    emulator.register_media(VIDEO_URL, reel_mp4(seconds=12))
    async with serve(app) as base_url:
        client = InstagramClient(
            app_id=APP_ID,
            app_secret=APP_SECRET,
            redirect_uri=REDIRECT_URI,
            authorize_url=f"{base_url}/oauth/authorize",
            api_base=base_url,
            graph_base=base_url,
            timeout=2.0,
            clock=emulator.clock.as_datetime,
            sleep=emulator.clock.sleep,
        )
        async with client, httpx.AsyncClient(base_url=base_url) as http:
            yield Instagram(emulator, base_url, client, http)
