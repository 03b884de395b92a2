"""The publishing limit (§7.1) as a deferral, the container cap and the BUC rate limit."""

from __future__ import annotations

import pytest

from tests.instagram.conftest import VIDEO_URL, Instagram
from tiktimer.platforms.contract import ErrorKind, OutcomeState
from tiktimer.platforms.instagram.errors import InstagramError
from tiktimer.platforms.instagram.reels import check_reel, start_reel
from tiktimer.platforms.instagram.schemas import Reel, TokenSet

DAY = 86_400.0


async def _publish(instagram: Instagram, tokens: TokenSet, user_id: str) -> str:
    container = await instagram.client.create_reel(tokens, user_id, Reel(VIDEO_URL))
    instagram.emulator.clock.advance(31)
    return await instagram.client.publish(tokens, user_id, container)


async def test_the_limit_is_read_from_the_api(instagram: Instagram) -> None:
    tokens, user_id = await instagram.login()
    await _publish(instagram, tokens, user_id)

    limit = await instagram.client.publishing_limit(tokens, user_id)
    assert (limit.quota_usage, limit.quota_total, limit.quota_duration) == (1, 50, 86_400)


async def test_a_reached_limit_defers_the_post_until_the_window_moves(
    instagram: Instagram,
) -> None:
    instagram.emulator.configure(publish_cap=2)
    tokens, user_id = await instagram.login()
    for _ in range(2):
        await _publish(instagram, tokens, user_id)
    container = await start_reel(instagram.client, tokens, user_id, Reel(VIDEO_URL))
    instagram.emulator.clock.advance(31)

    with pytest.raises(InstagramError) as caught:
        await check_reel(instagram.client, tokens, user_id, container)
    deferral = caught.value
    assert (deferral.kind, deferral.retry_after, deferral.code) == (
        ErrorKind.retry,
        3600.0,
        "9/2207042",
    )
    assert "2 of 2 posts in 24 hours" in deferral.message
    assert len(instagram.emulator.requests("media_publish")) == 2  # no call was wasted

    instagram.emulator.clock.advance(DAY - 45)  # the first post left the window
    outcome = await check_reel(instagram.client, tokens, user_id, container)
    assert outcome.state is OutcomeState.published
    assert len(await instagram.emulator.media()) == 3


async def test_the_emulator_enforces_the_cap_at_publish(instagram: Instagram) -> None:
    instagram.emulator.configure(publish_cap=1)
    tokens, user_id = await instagram.login()
    await _publish(instagram, tokens, user_id)
    container = await instagram.client.create_reel(tokens, user_id, Reel(VIDEO_URL))
    instagram.emulator.clock.advance(31)

    with pytest.raises(InstagramError) as caught:
        await instagram.client.publish(tokens, user_id, container)
    assert (caught.value.kind, caught.value.retry_after) == (ErrorKind.retry, 3600.0)
    assert len(await instagram.emulator.media()) == 1


async def test_the_container_cap(instagram: Instagram) -> None:
    instagram.emulator.configure(containers_per_day=2)
    tokens, user_id = await instagram.login()
    for _ in range(2):
        await instagram.client.create_reel(tokens, user_id, Reel(VIDEO_URL))
    with pytest.raises(InstagramError) as caught:
        await instagram.client.create_reel(tokens, user_id, Reel(VIDEO_URL))
    assert caught.value.kind is ErrorKind.retry


async def test_the_rate_limit_is_a_retry_with_a_wait(instagram: Instagram) -> None:
    instagram.emulator.configure(calls_per_hour=2)
    tokens, user_id = await instagram.login()
    await instagram.client.account(tokens)
    await instagram.client.account(tokens)
    with pytest.raises(InstagramError) as caught:
        await instagram.client.account(tokens)
    # The usage header says when access returns: the oldest call leaves the hour.
    assert (caught.value.kind, caught.value.code, caught.value.retry_after) == (
        ErrorKind.retry,
        "17",
        3600.0,
    )
    instagram.emulator.clock.advance(3601)
    assert (await instagram.client.account(tokens)).username == "studio"


async def test_calls_report_the_business_use_case_usage(instagram: Instagram) -> None:
    tokens, _ = await instagram.login()
    response = await instagram.http.get(
        "/v25.0/me", params={"access_token": tokens.access_token.get_secret_value()}
    )
    assert "call_count" in response.headers["x-business-use-case-usage"]
