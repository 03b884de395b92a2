"""Resumable upload through rupload (§4.3–4.4): off for Instagram Login unless switched on
(M-rup); streamed, resumed from the received offset after a cut, never from zero."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.instagram.conftest import Instagram, make_config
from tests.instagram.videos import reel_mp4
from tiktimer.platforms.contract import ErrorKind, OutcomeState
from tiktimer.platforms.instagram.emulator import Fault, FaultKind, FaultPhase
from tiktimer.platforms.instagram.errors import InstagramError
from tiktimer.platforms.instagram.reels import VideoUpload, check_reel, start_uploaded_reel
from tiktimer.platforms.instagram.schemas import Reel

VIDEO = reel_mp4(seconds=15, data=3 * 1024 * 1024)
RUPLOAD = make_config(rupload_with_instagram_login=True)


class Source:
    """The video streamed in 256 KiB pieces from any offset; records where reads began."""

    def __init__(self, content: bytes) -> None:
        self.content = content
        self.starts: list[int] = []

    def upload(self) -> VideoUpload:
        return VideoUpload(len(self.content), self.read_from)

    async def read_from(self, offset: int) -> AsyncIterator[bytes]:
        self.starts.append(offset)
        for start in range(offset, len(self.content), 256 * 1024):
            yield self.content[start : start + 256 * 1024]


async def _noop(_: str) -> None:
    return None


async def test_off_by_default_for_instagram_login(instagram: Instagram) -> None:
    tokens, user_id = await instagram.login()
    with pytest.raises(InstagramError) as caught:
        await instagram.client.create_resumable_reel(tokens, user_id, Reel())
    assert caught.value.kind is ErrorKind.fail


@pytest.mark.parametrize("config", [RUPLOAD])
async def test_an_uploaded_reel_is_published(instagram: Instagram) -> None:
    tokens, user_id = await instagram.login()
    seen: list[str] = []

    async def remember(container_id: str) -> None:
        seen.append(container_id)
        assert await instagram.emulator.container_status(container_id) == "IN_PROGRESS"

    source = Source(VIDEO)
    container = await start_uploaded_reel(
        instagram.client, tokens, user_id, Reel(caption="up"), source.upload(), remember
    )
    instagram.emulator.clock.advance(31)
    outcome = await check_reel(instagram.client, tokens, user_id, container)

    assert seen == [container]
    assert source.starts == [0]
    assert outcome.state is OutcomeState.published
    (record,) = await instagram.emulator.containers()
    assert (record.facts.size, record.facts.duration_ms) == (len(VIDEO), 15_000)


@pytest.mark.parametrize("config", [RUPLOAD])
async def test_a_cut_upload_resumes_from_the_received_offset(instagram: Instagram) -> None:
    tokens, user_id = await instagram.login()
    instagram.emulator.add_fault(
        Fault(endpoint="rupload", kind=FaultKind.CUT, after_bytes=1_000_000)
    )
    source = Source(VIDEO)

    container = await start_uploaded_reel(
        instagram.client, tokens, user_id, Reel(), source.upload(), _noop
    )
    instagram.emulator.clock.advance(31)

    assert source.starts == [0, 1_000_000]
    assert await instagram.emulator.container_status(container) == "FINISHED"


@pytest.mark.parametrize("config", [RUPLOAD])
async def test_a_lost_upload_answer_is_not_sent_again(instagram: Instagram) -> None:
    tokens, user_id = await instagram.login()
    instagram.emulator.add_fault(
        Fault(endpoint="rupload", kind=FaultKind.DROP, phase=FaultPhase.AFTER)
    )
    source = Source(VIDEO)
    await start_uploaded_reel(instagram.client, tokens, user_id, Reel(), source.upload(), _noop)
    assert source.starts == [0]
    assert len(instagram.emulator.requests("rupload")) == 1


@pytest.mark.parametrize("config", [RUPLOAD])
async def test_rupload_is_strict_about_its_headers(instagram: Instagram) -> None:
    tokens, user_id = await instagram.login()
    _, uri = await instagram.client.create_resumable_reel(tokens, user_id, Reel())
    token = tokens.access_token.get_secret_value()
    good = {"offset": "0", "file_size": str(len(VIDEO))}

    bearer = await instagram.http.post(
        uri, headers=good | {"Authorization": f"Bearer {token}"}, content=VIDEO
    )
    wrong_offset = await instagram.http.post(
        uri, headers=good | {"Authorization": f"OAuth {token}", "offset": "5"}, content=VIDEO[5:]
    )
    too_long = await instagram.http.post(
        uri, headers=good | {"Authorization": f"OAuth {token}"}, content=VIDEO + b"x"
    )
    no_size = await instagram.http.post(
        uri, headers={"Authorization": f"OAuth {token}", "offset": "0"}, content=VIDEO
    )

    assert bearer.json()["error"]["code"] == 190
    assert "offset must be 0" in wrong_offset.json()["error"]["message"]
    assert too_long.status_code == no_size.status_code == 400
    assert "/ig-api-upload/v25.0/" in uri  # the version the client pinned


@pytest.mark.parametrize("config", [RUPLOAD])
async def test_one_upload_request_at_a_time(instagram: Instagram) -> None:
    tokens, user_id = await instagram.login()
    _, uri = await instagram.client.create_resumable_reel(tokens, user_id, Reel())
    headers = {
        "Authorization": f"OAuth {tokens.access_token.get_secret_value()}",
        "offset": "0",
        "file_size": str(len(VIDEO)),
    }
    release = asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        yield VIDEO[:1000]
        await release.wait()
        yield VIDEO[1000:]

    first = asyncio.create_task(instagram.http.post(uri, headers=headers, content=slow_body()))
    for _ in range(100):
        progress = await instagram.http.get(
            uri, headers={"Authorization": headers["Authorization"]}
        )
        if progress.json()["offset"] == 1000:
            break
        await asyncio.sleep(0.01)
    second = await instagram.http.post(
        uri, headers=headers | {"offset": "1000"}, content=VIDEO[1000:]
    )
    release.set()

    assert "in progress" in second.json()["error"]["message"]
    assert (await first).json()["success"] is True
