"""The emulator fetches `video_url` from a loopback server, never from the internet."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from tests.instagram.conftest import Instagram
from tests.instagram.serving import serve
from tests.instagram.videos import reel_mp4
from tiktimer.platforms.contract import ErrorKind, OutcomeState
from tiktimer.platforms.instagram.errors import InstagramError
from tiktimer.platforms.instagram.reels import check_reel, start_reel
from tiktimer.platforms.instagram.schemas import Reel


async def _video(_: Request) -> Response:
    return Response(reel_mp4(seconds=20, data=256 * 1024), media_type="video/mp4")


async def _slow(_: Request) -> Response:
    await asyncio.sleep(1.5)
    return Response(reel_mp4(), media_type="video/mp4")


async def _moved(_: Request) -> Response:
    return RedirectResponse("/video.mp4")


@pytest.fixture
async def media_server() -> AsyncIterator[str]:
    app = Starlette(
        routes=[Route("/video.mp4", _video), Route("/slow.mp4", _slow), Route("/moved.mp4", _moved)]
    )
    async with serve(app) as base_url:
        yield base_url


async def test_a_video_served_on_loopback_is_published(
    instagram: Instagram, media_server: str
) -> None:
    tokens, user_id = await instagram.login()
    container = await start_reel(
        instagram.client, tokens, user_id, Reel(f"{media_server}/video.mp4")
    )
    instagram.emulator.clock.advance(31)

    outcome = await check_reel(instagram.client, tokens, user_id, container)

    assert outcome.state is OutcomeState.published
    (record,) = await instagram.emulator.containers()
    assert (record.facts.size, record.facts.duration_ms) == (
        len(reel_mp4(seconds=20, data=256 * 1024)),
        20_000,
    )


@pytest.mark.parametrize(
    ("path", "kind", "code"),
    [
        ("/missing.mp4", ErrorKind.fail, "9004/2207052"),
        ("/moved.mp4", ErrorKind.fail, "9004/2207052"),
        ("/slow.mp4", ErrorKind.retry, "-2/2207003"),
    ],
)
async def test_fetch_failures(
    instagram: Instagram, media_server: str, path: str, kind: ErrorKind, code: str
) -> None:
    instagram.emulator.configure(fetch_timeout_seconds=0.5)
    tokens, user_id = await instagram.login()
    with pytest.raises(InstagramError) as caught:
        await instagram.client.create_reel(tokens, user_id, Reel(media_server + path))
    assert (caught.value.kind, caught.value.code) == (kind, code)


async def test_an_unregistered_internet_url_is_never_fetched(instagram: Instagram) -> None:
    tokens, user_id = await instagram.login()
    with pytest.raises(InstagramError) as caught:
        await instagram.client.create_reel(tokens, user_id, Reel("https://example.com/video.mp4"))
    assert caught.value.code == "9004/2207052"
