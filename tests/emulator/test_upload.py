"""Chunk PUTs on the upload URL: exact ranges in order, 206 then 201, flat memory."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import AsyncIterator

import pytest

from tests.emulator.flows import (
    BLOCK,
    TikTok,
    generated_bytes,
    make_config,
    pattern_sha256,
    serve,
    video_body,
)

SIZE = 50_000_123
CHUNK = 10_000_000


async def _init(tiktok: TikTok, token: str | None = None) -> str:
    body = video_body(video_size=SIZE, chunk_size=CHUNK, count=5)
    response = await tiktok.init_video(token or tiktok.tokens(), body)
    upload_url: str = response.json()["data"]["upload_url"]
    return upload_url


async def test_sequential_chunks_get_206_then_201_and_the_bytes_are_counted(
    tiktok: TikTok,
) -> None:
    token = tiktok.tokens()
    body = video_body(video_size=SIZE, chunk_size=CHUNK, count=5)
    data = (await tiktok.init_video(token, body)).json()["data"]

    await tiktok.upload(data["upload_url"], SIZE, CHUNK, 5)

    record = tiktok.emulator.publication(data["publish_id"])
    assert record.media_bytes == SIZE
    assert record.media_sha256 == pattern_sha256(SIZE)


async def test_no_authorization_header_is_needed_on_the_upload_host(tiktok: TikTok) -> None:
    url = await _init(tiktok)

    response = await tiktok.put_chunk(url, 0, CHUNK - 1, SIZE)

    assert response.status_code == 206
    assert tiktok.emulator.requests(endpoint="upload")[0].token_hash is None


async def test_out_of_order_chunk_is_416_with_progress(tiktok: TikTok) -> None:
    url = await _init(tiktok)

    skipped = await tiktok.put_chunk(url, CHUNK, 2 * CHUNK - 1, SIZE)
    first = await tiktok.put_chunk(url, 0, CHUNK - 1, SIZE)
    again = await tiktok.put_chunk(url, 0, CHUNK - 1, SIZE)

    assert skipped.status_code == 416
    assert skipped.headers["content-range"] == f"bytes */{SIZE}"
    assert first.status_code == 206
    assert again.status_code == 416
    assert again.headers["content-range"] == f"bytes 0-{CHUNK - 1}/{SIZE}"


async def test_chunk_boundaries_must_follow_the_plan(tiktok: TikTok) -> None:
    url = await _init(tiktok)

    too_long = await tiktok.put_chunk(url, 0, CHUNK, SIZE)
    too_short = await tiktok.put_chunk(url, 0, CHUNK - 2, SIZE)

    assert (too_long.status_code, too_short.status_code) == (416, 416)


async def test_the_final_chunk_takes_the_remainder(tiktok: TikTok) -> None:
    url = await _init(tiktok)
    for index in range(4):
        first = index * CHUNK
        assert (await tiktok.put_chunk(url, first, first + CHUNK - 1, SIZE)).status_code == 206

    plain = await tiktok.put_chunk(url, 4 * CHUNK, 5 * CHUNK - 1, SIZE)
    whole = await tiktok.put_chunk(url, 4 * CHUNK, SIZE - 1, SIZE)

    assert plain.status_code == 416
    assert whole.status_code == 201
    assert whole.headers["content-range"] == f"bytes 0-{SIZE - 1}/{SIZE}"


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Range": f"bytes 0-{CHUNK - 1}/{SIZE + 1}"},
        {"Content-Range": f"bytes=0-{CHUNK - 1}/{SIZE}"},
        {"Content-Range": f"0-{CHUNK - 1}/{SIZE}"},
        {"Content-Length": str(CHUNK + 1)},
        {"Content-Type": "application/octet-stream"},
    ],
)
async def test_malformed_headers_are_400(tiktok: TikTok, headers: dict[str, str]) -> None:
    url = await _init(tiktok)

    response = await tiktok.put_chunk(url, 0, CHUNK - 1, SIZE, headers=headers)

    assert response.status_code == 400


async def test_body_shorter_than_content_length_is_400_and_not_counted(tiktok: TikTok) -> None:
    url = await _init(tiktok)

    short = await tiktok.put_chunk(url, 0, CHUNK - 1, SIZE, body_size=CHUNK - 1)
    retry = await tiktok.put_chunk(url, 0, CHUNK - 1, SIZE)

    assert short.status_code == 400
    assert retry.status_code == 206


async def test_content_length_is_required(tiktok: TikTok) -> None:
    url = await _init(tiktok)

    async def unsized() -> AsyncIterator[bytes]:
        yield BLOCK

    response = await tiktok.http.put(
        url,
        content=unsized(),
        headers={"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{CHUNK - 1}/{SIZE}"},
    )

    assert response.status_code == 400


async def test_quicktime_and_webm_are_accepted(tiktok: TikTok) -> None:
    url = await _init(tiktok)

    mov = await tiktok.put_chunk(
        url, 0, CHUNK - 1, SIZE, headers={"Content-Type": "video/quicktime"}
    )
    webm = await tiktok.put_chunk(
        url, CHUNK, 2 * CHUNK - 1, SIZE, headers={"Content-Type": "video/webm"}
    )

    assert (mov.status_code, webm.status_code) == (206, 206)


async def test_upload_url_expires_after_an_hour(tiktok: TikTok) -> None:
    url = await _init(tiktok)
    assert (await tiktok.put_chunk(url, 0, CHUNK - 1, SIZE)).status_code == 206
    tiktok.emulator.advance_clock(3600)

    response = await tiktok.put_chunk(url, CHUNK, 2 * CHUNK - 1, SIZE)

    assert response.status_code == 403


async def test_unknown_or_tampered_upload_urls_are_404(tiktok: TikTok) -> None:
    url = await _init(tiktok)
    upload_id = url.split("upload_id=")[1].split("&")[0]
    tampered = url.replace(upload_id, str(int(upload_id) + 1))
    extended = url.replace("upload_token=", "upload_token=9")

    for bad in (tampered, extended, url.split("&")[0]):
        assert (await tiktok.put_chunk(bad, 0, CHUNK - 1, SIZE)).status_code == 404


async def test_only_put_is_allowed(tiktok: TikTok) -> None:
    url = await _init(tiktok)

    assert (await tiktok.http.post(url, content=b"x")).status_code == 405


async def test_a_second_chunk_while_one_is_in_flight_is_416(tiktok: TikTok) -> None:
    url = await _init(tiktok)
    started, release = asyncio.Event(), asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        yield BLOCK
        started.set()  # the emulator asked for more: the chunk is in flight
        await release.wait()
        async for piece in generated_bytes(CHUNK - len(BLOCK), start=len(BLOCK)):
            yield piece

    headers = {
        "Content-Type": "video/mp4",
        "Content-Length": str(CHUNK),
        "Content-Range": f"bytes 0-{CHUNK - 1}/{SIZE}",
    }
    slow = asyncio.create_task(tiktok.http.put(url, content=slow_body(), headers=headers))
    await started.wait()

    concurrent = await tiktok.put_chunk(url, 0, CHUNK - 1, SIZE)
    release.set()

    assert concurrent.status_code == 416
    assert (await slow).status_code == 206


async def test_a_1_2_gb_upload_streams_in_flat_memory() -> None:
    async with serve(make_config(processing_seconds=0)) as tiktok:
        size = 1_200_000_000
        token = tiktok.tokens()
        tracemalloc.start()
        try:
            data = await tiktok.publish_file(token, video_size=size)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

        assert peak < 16 * 1024 * 1024
        record = tiktok.emulator.publication(data["publish_id"])
        assert record.media_bytes == size
        assert record.status == "PUBLISH_COMPLETE"
