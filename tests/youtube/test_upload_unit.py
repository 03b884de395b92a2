"""The upload loop's readings of odd answers, on an `httpx.MockTransport` (no emulator)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from tiktimer.kit.backoff import Backoff
from tiktimer.platforms.contract import ErrorKind
from tiktimer.platforms.youtube.client import YouTubeClient
from tiktimer.platforms.youtube.endpoints import GoogleEndpoints
from tiktimer.platforms.youtube.errors import YouTubeError
from tiktimer.platforms.youtube.schemas import VideoMetadata

KIB256 = 256 * 1024
URI = "https://upload.example.test/upload/youtube/v3/videos?uploadType=resumable&upload_id=x"


async def _zeros(start: int, end: int) -> AsyncIterator[bytes]:
    yield bytes(end - start)


async def _no_sleep(_: float) -> None:
    return None


def _client(handler: httpx.MockTransport, **options: object) -> YouTubeClient:
    return YouTubeClient(
        client_id="id",
        client_secret="secret",
        redirect_uri="https://tiktimer.example.com/cb",
        endpoints=GoogleEndpoints.at("https://google.example.test"),
        chunk_size=KIB256,
        transport=handler,
        sleep=_no_sleep,
        backoff=Backoff(initial=0.0),
        clock=lambda: datetime(2026, 12, 7, 20, 0, tzinfo=UTC),
        **options,  # type: ignore[arg-type]
    )


async def _upload(client: YouTubeClient, size: int = 2 * KIB256) -> object:
    try:
        return await client.upload(
            "ya29.t", URI, size=size, content_type="video/mp4", read_range=_zeros
        )
    finally:
        await client.aclose()


async def test_a_308_that_stores_nothing_is_a_stall_with_a_budget() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["content-range"])
        return httpx.Response(308)  # never stores anything

    with pytest.raises(YouTubeError) as caught:
        await _upload(_client(httpx.MockTransport(handler), max_retries=2))

    assert caught.value.kind is ErrorKind.retry
    assert seen == [f"bytes 0-{KIB256 - 1}/{2 * KIB256}"] * 3  # resent from 0: nothing stored


async def test_the_servers_range_wins_over_the_clients_count() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["content-range"])
        if len(seen) == 1:  # the first chunk was only half kept
            return httpx.Response(308, headers={"Range": f"bytes=0-{KIB256 // 2 - 1}"})
        if request.headers["content-range"].endswith(f"{2 * KIB256 - 1}/{2 * KIB256}"):
            return httpx.Response(201, json={"id": "OtTBM61o6p4", "status": {}})
        return httpx.Response(308, headers={"Range": f"bytes=0-{KIB256 + KIB256 // 2 - 1}"})

    await _upload(_client(httpx.MockTransport(handler)))

    assert seen == [
        f"bytes 0-{KIB256 - 1}/{2 * KIB256}",
        f"bytes {KIB256 // 2}-{KIB256 + KIB256 // 2 - 1}/{2 * KIB256}",
        f"bytes {KIB256 + KIB256 // 2}-{2 * KIB256 - 1}/{2 * KIB256}",
    ]


@pytest.mark.parametrize("value", ["bytes=5-9", "0-10", f"bytes=0-{2 * KIB256}"])
async def test_an_unreadable_range_is_a_retry_not_a_guess(value: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(308, headers={"Range": value})

    with pytest.raises(YouTubeError) as caught:
        await _upload(_client(httpx.MockTransport(handler)))
    assert caught.value.kind is ErrorKind.retry


async def test_a_non_json_5xx_is_still_a_retry() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>Bad Gateway</html>")

    client = _client(httpx.MockTransport(handler))
    with pytest.raises(YouTubeError) as caught:
        await client.start_upload(
            "ya29.t", VideoMetadata(title="t"), size=1, content_type="video/mp4"
        )
    await client.aclose()
    assert (caught.value.kind, caught.value.status) == (ErrorKind.retry, 502)


async def test_an_init_without_location_is_a_retry() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200)

    client = _client(httpx.MockTransport(handler))
    with pytest.raises(YouTubeError) as caught:
        await client.start_upload(
            "ya29.t", VideoMetadata(title="t"), size=1, content_type="video/mp4"
        )
    await client.aclose()
    assert caught.value.kind is ErrorKind.retry


async def test_the_session_request_says_what_google_needs() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"Location": URI})

    client = _client(httpx.MockTransport(handler))
    meta = VideoMetadata(title="t", notify_subscribers=False)
    assert await client.start_upload("ya29.t", meta, size=123, content_type="video/mp4") == URI
    await client.aclose()

    (request,) = seen
    assert request.url.params["uploadType"] == "resumable"
    assert request.url.params["part"] == "snippet,status"
    assert request.url.params["notifySubscribers"] == "false"
    assert request.headers["x-upload-content-length"] == "123"
    assert request.headers["x-upload-content-type"] == "video/mp4"
    assert request.headers["content-type"] == "application/json; charset=UTF-8"
