"""Tokens, codes and the app secret never reach a log line or an error message."""

from __future__ import annotations

import logging

import httpx
import pytest

from tests.instagram.conftest import APP_SECRET, VIDEO_URL, Instagram
from tiktimer.platforms.instagram.client import parse_callback
from tiktimer.platforms.instagram.emulator import Fault, FaultKind, FaultPhase
from tiktimer.platforms.instagram.errors import InstagramError
from tiktimer.platforms.instagram.reels import check_reel, start_reel
from tiktimer.platforms.instagram.schemas import Reel


async def test_no_secret_in_logs_or_errors(
    instagram: Instagram, caplog: pytest.LogCaptureFixture
) -> None:
    url = instagram.client.authorization_url(state="s")
    form = dict(httpx.URL(url).params) | {"username": "studio", "decision": "allow"}
    location = (await instagram.http.post("/oauth/authorize", data=form)).headers["location"]
    caplog.set_level(logging.DEBUG)  # from here on, only our client's calls
    code = parse_callback(location, expected_state="s")
    short = await instagram.client.exchange_code(code)
    tokens = await instagram.client.exchange_long_lived(short)
    instagram.emulator.clock.advance(2 * 86_400)
    renewed = await instagram.client.refresh(tokens)
    messages: list[str] = []
    for attempt in (
        instagram.client.exchange_code(code),  # reused
        instagram.client.exchange_long_lived(short),  # expired by now
        instagram.client.refresh(tokens),  # replaced
    ):
        with pytest.raises(InstagramError) as caught:
            await attempt
        messages.append(str(caught.value))
    instagram.emulator.add_fault(
        Fault(endpoint="media_publish", kind=FaultKind.DROP, phase=FaultPhase.AFTER)
    )
    container = await start_reel(instagram.client, renewed, short.user_id, Reel(VIDEO_URL))
    instagram.emulator.clock.advance(31)
    await check_reel(instagram.client, renewed, short.user_id, container)

    secrets = [
        code,
        APP_SECRET,
        short.access_token.get_secret_value(),
        tokens.access_token.get_secret_value(),
        renewed.access_token.get_secret_value(),
    ]
    assert "HTTP Request" in caplog.text  # httpx did log the calls
    assert "instagram.call.refused" in caplog.text
    for secret in secrets:
        assert secret not in caplog.text
        assert all(secret not in message for message in messages)
    assert "access_token=[redacted]" in caplog.text
    assert repr(renewed).count("**********") == 1  # SecretStr in reprs
