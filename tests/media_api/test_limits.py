"""The streaming upload path under pressure: size limit, disconnects, broken bodies, fields."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from fastapi import FastAPI

from tests.fixtures.users import user_headers
from tests.media_api.conftest import MAX_UPLOAD_MB
from tests.media_api.helpers import (
    BOUNDARY,
    MULTIPART,
    PART_TAIL,
    CountingBody,
    MiB,
    Stored,
    call_asgi,
    part_head,
    upload,
)
from tests.media_factory import MediaSamples
from tiktimer.media.spool import BATCH_SIZE

LIMIT = MAX_UPLOAD_MB * MiB


async def test_over_limit_is_refused_after_reading_at_most_the_limit_plus_one_chunk(
    client: httpx.AsyncClient, stored: Stored
) -> None:
    headers = await user_headers(client, "alice")
    body = CountingBody(file_bytes=4 * LIMIT)

    response = await client.post(
        "/api/v1/media", content=body, headers={**headers, "Content-Type": MULTIPART}
    )

    assert response.status_code == 413, response.text
    assert LIMIT < body.consumed <= len(part_head()) + LIMIT + body.chunk
    assert await stored.nothing_kept()


async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    client: httpx.AsyncClient, stored: Stored
) -> None:
    headers = await user_headers(client, "alice")
    body = CountingBody(file_bytes=4 * LIMIT)
    declared = sum(len(piece) for piece in body.pieces())

    response = await client.post(
        "/api/v1/media",
        content=body,
        headers={**headers, "Content-Type": MULTIPART, "Content-Length": str(declared)},
    )

    assert response.status_code == 413
    assert body.consumed == 0
    assert await stored.nothing_kept()


async def test_a_file_of_exactly_the_limit_is_read_whole(
    client: httpx.AsyncClient, stored: Stored
) -> None:
    headers = await user_headers(client, "alice")
    body = CountingBody(file_bytes=LIMIT)

    response = await client.post(
        "/api/v1/media", content=body, headers={**headers, "Content-Type": MULTIPART}
    )

    assert response.status_code == 422  # within the limit; zeros are just not media
    assert body.consumed == sum(len(piece) for piece in body.pieces())
    assert await stored.nothing_kept()


async def test_an_interrupted_upload_leaves_no_object_record_or_temp_file(
    app: FastAPI, client: httpx.AsyncClient, media_samples: MediaSamples, stored: Stored
) -> None:
    headers = await user_headers(client, "alice")
    video = media_samples["h264_mp4"].read_bytes()
    sent = part_head() + video + b"\0" * (BATCH_SIZE + 4096)  # past one batch: on disk by now
    chunks = [sent[i : i + 65536] for i in range(0, len(sent), 65536)]
    spooled: list[int] = []

    async def on_disk() -> None:  # wait for the batch write in flight, then look
        incoming = Path(app.state.services.upload_sessions.incoming_dir)
        for _ in range(200):
            spooled[:] = [p.stat().st_size for p in incoming.iterdir()]
            if spooled and spooled[0] >= BATCH_SIZE:
                return
            await asyncio.sleep(0.01)

    messages = await call_asgi(
        app,
        "POST",
        "/api/v1/media",
        {**headers, "content-type": MULTIPART},
        chunks,
        disconnect=True,
        before_disconnect=on_disk,
    )

    assert spooled  # a real temporary file existed...
    assert spooled[0] >= BATCH_SIZE
    assert messages[0]["status"] == 400
    assert await stored.nothing_kept()  # ...and is gone, with no object and no row


async def test_a_body_cut_short_without_a_disconnect_is_400(
    client: httpx.AsyncClient, media_samples: MediaSamples, stored: Stored
) -> None:
    headers = await user_headers(client, "alice")
    body = part_head() + media_samples["h264_mp4"].read_bytes()  # no closing boundary

    response = await client.post(
        "/api/v1/media", content=body, headers={**headers, "Content-Type": MULTIPART}
    )

    assert response.status_code == 400
    assert "closing boundary" in response.json()["detail"]
    assert await stored.nothing_kept()


async def test_a_malformed_body_is_400(client: httpx.AsyncClient, stored: Stored) -> None:
    headers = await user_headers(client, "alice")
    body = f"--{BOUNDARY}\r\nno header colon here\r\n\r\nxx{PART_TAIL.decode()}".encode()

    response = await client.post(
        "/api/v1/media", content=body, headers={**headers, "Content-Type": MULTIPART}
    )

    assert response.status_code == 400
    assert await stored.nothing_kept()


async def test_an_unexpected_file_field_is_refused_not_stored(
    client: httpx.AsyncClient, media_samples: MediaSamples, stored: Stored
) -> None:
    headers = await user_headers(client, "alice")
    video = media_samples["h264_mp4"].read_bytes()
    body = part_head("thumbnail", "a.jpg") + b"x" * 10 + b"\r\n" + part_head() + video + PART_TAIL

    response = await client.post(
        "/api/v1/media", content=body, headers={**headers, "Content-Type": MULTIPART}
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "thumbnail"]
    assert await stored.nothing_kept()


async def test_receive_upload_streams_the_file_and_keeps_text_fields(
    client: httpx.AsyncClient, media_samples: MediaSamples, stored: Stored
) -> None:
    headers = await user_headers(client, "alice")
    fields = {"content": "Launch day #tiktimer ✨", "scheduled_time": "2031-01-01T10:00:00Z"}

    response = await upload(
        client,
        headers,
        media_samples["h264_mp4"],
        field="video",
        path="/test/receive-video",
        data=fields,
    )

    assert response.status_code == 200, response.text
    result = response.json()
    assert result["created"] is True
    assert result["fields"] == fields
    assert result["media"]["kind"] == "video"
    assert len(stored.objects()) == 1


async def test_receive_upload_caps_text_fields(
    client: httpx.AsyncClient, media_samples: MediaSamples, stored: Stored
) -> None:
    headers = await user_headers(client, "alice")

    response = await upload(
        client,
        headers,
        media_samples["h264_mp4"],
        field="video",
        path="/test/receive-video",
        data={"content": "x" * 1025},
    )

    assert response.status_code == 413
    assert "content" in response.json()["detail"]
    assert await stored.nothing_kept()


async def test_two_files_in_the_file_field_are_refused(
    client: httpx.AsyncClient, media_samples: MediaSamples, stored: Stored
) -> None:
    headers = await user_headers(client, "alice")
    video = media_samples["h264_mp4"].read_bytes()
    body = part_head() + video + b"\r\n" + part_head() + video + PART_TAIL

    response = await client.post(
        "/api/v1/media", content=body, headers={**headers, "Content-Type": MULTIPART}
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "only one file may be sent"
    assert await stored.nothing_kept()


async def test_the_openapi_document_describes_the_upload(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    body = document["paths"]["/api/v1/media"]["post"]["requestBody"]
    schema = body["content"]["multipart/form-data"]["schema"]
    assert schema["properties"]["file"] == {"type": "string", "format": "binary"}
    assert "/api/v1/media/uploads/{upload_id}/complete" in document["paths"]
