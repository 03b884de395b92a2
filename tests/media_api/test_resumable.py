"""Resumable uploads: the tus 1.0 core exchange, resuming after a cut, `complete`, expiry."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from tests.fixtures.users import user_headers
from tests.media_api.helpers import Stored, call_asgi, upload
from tests.media_factory import MediaSamples
from tiktimer.kit.time import utc_now
from tiktimer.media.uploads import UploadSessions
from tiktimer.models import ResumableUpload

UPLOADS = "/api/v1/media/uploads"
TUS = {"Tus-Resumable": "1.0.0"}
CHUNK = {"Content-Type": "application/offset+octet-stream"}


async def start(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    length: int | None,
    filename: str | None = None,
) -> dict[str, Any]:
    extra = dict(TUS)
    if length is not None:
        extra["Upload-Length"] = str(length)
    if filename is not None:
        extra["Upload-Metadata"] = f"filename {base64.b64encode(filename.encode()).decode()}"
    response = await client.post(UPLOADS, headers={**headers, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def send(
    client: httpx.AsyncClient, headers: dict[str, str], upload_id: str, offset: int, data: bytes
) -> httpx.Response:
    return await client.patch(
        f"{UPLOADS}/{upload_id}",
        content=data,
        headers={**headers, **TUS, **CHUNK, "Upload-Offset": str(offset)},
    )


async def expire(app: FastAPI, upload_id: str) -> None:
    """Make the upload look idle for longer than its time to live."""
    statement = (
        update(ResumableUpload)
        .where(ResumableUpload.id == upload_id)
        .values(expires_at=utc_now() - timedelta(minutes=1))
    )
    async with app.state.services.engine.begin() as connection:
        await connection.execute(statement)


async def offset_of(client: httpx.AsyncClient, headers: dict[str, str], upload_id: str) -> int:
    response = await client.head(f"{UPLOADS}/{upload_id}", headers={**headers, **TUS})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    return int(response.headers["upload-offset"])


async def test_upload_in_chunks_then_complete(
    client: httpx.AsyncClient, media_samples: MediaSamples, stored: Stored
) -> None:
    headers = await user_headers(client, "alice")
    data = media_samples["h264_mp4"].read_bytes()
    created = await client.post(
        UPLOADS,
        headers={
            **headers,
            **TUS,
            "Upload-Length": str(len(data)),
            "Upload-Metadata": f"filename {base64.b64encode('été.mp4'.encode()).decode()}",
        },
    )
    assert created.status_code == 201
    session = created.json()
    upload_id = session["upload_id"]
    assert (session["offset"], session["length"]) == (0, len(data))
    assert created.headers["location"].endswith(f"{UPLOADS}/{upload_id}")
    assert created.headers["tus-resumable"] == "1.0.0"
    assert "upload-expires" in created.headers

    offset = 0
    for piece in (data[:1000], data[1000:5000], data[5000:]):
        response = await send(client, headers, upload_id, offset, piece)
        assert response.status_code == 204, response.text
        offset += len(piece)
        assert response.headers["upload-offset"] == str(offset)
        assert await offset_of(client, headers, upload_id) == offset
    status = await client.get(f"{UPLOADS}/{upload_id}", headers=headers)
    assert status.json()["offset"] == len(data)

    done = await client.post(f"{UPLOADS}/{upload_id}/complete", headers=headers)

    assert done.status_code == 201, done.text
    media = done.json()
    assert media["sha256"] == hashlib.sha256(data).hexdigest()
    assert (media["size"], media["original_filename"]) == (len(data), "été.mp4")
    assert media["verdict"]["ok"] is True
    assert len(stored.objects()) == 1
    assert stored.upload_files() == []  # the session is gone once used
    content = await client.get(f"/api/v1/media/{media['id']}/content", headers=headers)
    assert content.content == data


async def test_a_cut_off_chunk_keeps_what_arrived_and_the_upload_resumes(
    app: FastAPI, client: httpx.AsyncClient, media_samples: MediaSamples, stored: Stored
) -> None:
    headers = await user_headers(client, "alice")
    data = media_samples["vp9_webm"].read_bytes()
    upload_id = (await start(client, headers, len(data)))["upload_id"]
    arrived = data[:3000]

    messages = await call_asgi(
        app,
        "PATCH",
        f"{UPLOADS}/{upload_id}",
        {**headers, **TUS, **CHUNK, "Upload-Offset": "0"},
        [arrived[:1000], arrived[1000:]],
        disconnect=True,
    )

    assert messages[0]["status"] == 400  # sent to nobody: the client is gone
    offset = await offset_of(client, headers, upload_id)
    assert offset == len(arrived)
    assert (await send(client, headers, upload_id, offset, data[offset:])).status_code == 204
    done = await client.post(f"{UPLOADS}/{upload_id}/complete", headers=headers)
    assert done.status_code == 201, done.text
    assert done.json()["sha256"] == hashlib.sha256(data).hexdigest()


async def test_a_chunk_at_the_wrong_offset_is_409_with_the_right_one(
    client: httpx.AsyncClient,
) -> None:
    headers = await user_headers(client, "alice")
    upload_id = (await start(client, headers, 100))["upload_id"]
    assert (await send(client, headers, upload_id, 0, b"a" * 10)).status_code == 204

    response = await send(client, headers, upload_id, 5, b"b" * 10)

    assert response.status_code == 409
    assert response.headers["upload-offset"] == "10"
    assert await offset_of(client, headers, upload_id) == 10


async def test_a_chunk_past_the_declared_length_is_413_and_not_kept(
    client: httpx.AsyncClient,
) -> None:
    headers = await user_headers(client, "alice")
    upload_id = (await start(client, headers, 100))["upload_id"]
    assert (await send(client, headers, upload_id, 0, b"a" * 60)).status_code == 204

    declared = await send(client, headers, upload_id, 60, b"b" * 50)

    async def streamed() -> Any:  # no Content-Length: noticed while reading
        yield b"c" * 30
        yield b"c" * 30

    undeclared = await client.patch(
        f"{UPLOADS}/{upload_id}",
        content=streamed(),
        headers={**headers, **TUS, **CHUNK, "Upload-Offset": "60"},
    )

    assert (declared.status_code, undeclared.status_code) == (413, 413)
    assert await offset_of(client, headers, upload_id) == 60


async def test_complete_before_the_last_byte_is_409(client: httpx.AsyncClient) -> None:
    headers = await user_headers(client, "alice")
    upload_id = (await start(client, headers, 100))["upload_id"]
    await send(client, headers, upload_id, 0, b"a" * 40)

    response = await client.post(f"{UPLOADS}/{upload_id}/complete", headers=headers)

    assert response.status_code == 409
    assert response.headers["upload-offset"] == "40"


async def test_without_a_declared_length_complete_takes_what_was_sent(
    client: httpx.AsyncClient, media_samples: MediaSamples
) -> None:
    headers = await user_headers(client, "alice")
    data = media_samples["jpeg"].read_bytes()
    session = await start(client, headers, None)
    assert session["length"] is None

    await send(client, headers, session["upload_id"], 0, data)
    done = await client.post(f"{UPLOADS}/{session['upload_id']}/complete", headers=headers)

    assert done.status_code == 201, done.text
    assert done.json()["size"] == len(data)


async def test_bytes_that_are_not_media_are_422_and_nothing_is_kept(
    client: httpx.AsyncClient, media_samples: MediaSamples, stored: Stored
) -> None:
    headers = await user_headers(client, "alice")
    data = media_samples["truncated_mp4"].read_bytes()
    upload_id = (await start(client, headers, len(data)))["upload_id"]
    await send(client, headers, upload_id, 0, data)

    response = await client.post(f"{UPLOADS}/{upload_id}/complete", headers=headers)

    assert response.status_code == 422
    assert await stored.nothing_kept()
    assert (await client.head(f"{UPLOADS}/{upload_id}", headers=headers)).status_code == 404


async def test_complete_of_a_file_already_uploaded_returns_the_existing_record(
    client: httpx.AsyncClient, media_samples: MediaSamples, stored: Stored
) -> None:
    headers = await user_headers(client, "alice")
    sample = media_samples["h264_mp4"]
    first = (await upload(client, headers, sample)).json()
    data = sample.read_bytes()
    upload_id = (await start(client, headers, len(data)))["upload_id"]
    await send(client, headers, upload_id, 0, data)

    response = await client.post(f"{UPLOADS}/{upload_id}/complete", headers=headers)

    assert response.status_code == 200
    assert response.json()["id"] == first["id"]
    assert len(stored.objects()) == 1
    assert stored.upload_files() == []


async def test_another_users_upload_is_404(client: httpx.AsyncClient, stored: Stored) -> None:
    alice = await user_headers(client, "alice")
    mallory = await user_headers(client, "mallory")
    upload_id = (await start(client, alice, 10))["upload_id"]
    url = f"{UPLOADS}/{upload_id}"

    assert (await client.head(url, headers=mallory)).status_code == 404
    assert (await client.get(url, headers=mallory)).status_code == 404
    assert (await send(client, mallory, upload_id, 0, b"x")).status_code == 404
    assert (await client.post(f"{url}/complete", headers=mallory)).status_code == 404
    assert (await client.delete(url, headers=mallory)).status_code == 404
    assert (await client.head(f"{UPLOADS}/{'0' * 32}", headers=alice)).status_code == 404
    assert await offset_of(client, alice, upload_id) == 0


async def test_delete_abandons_the_upload(client: httpx.AsyncClient, stored: Stored) -> None:
    headers = await user_headers(client, "alice")
    upload_id = (await start(client, headers, 10))["upload_id"]
    await send(client, headers, upload_id, 0, b"12345")

    response = await client.delete(f"{UPLOADS}/{upload_id}", headers={**headers, **TUS})

    assert response.status_code == 204
    assert stored.upload_files() == []
    assert (await client.head(f"{UPLOADS}/{upload_id}", headers=headers)).status_code == 404


async def test_an_idle_upload_expires(
    app: FastAPI, client: httpx.AsyncClient, stored: Stored
) -> None:
    headers = await user_headers(client, "alice")
    upload_id = (await start(client, headers, 10))["upload_id"]
    await send(client, headers, upload_id, 0, b"12345")
    await expire(app, upload_id)  # last chunk a day ago

    response = await send(client, headers, upload_id, 5, b"67890")

    assert response.status_code == 404
    assert stored.upload_files() == []


async def test_the_hash_is_recomputed_when_another_process_took_the_chunks(
    app: FastAPI, client: httpx.AsyncClient, media_samples: MediaSamples
) -> None:
    headers = await user_headers(client, "alice")
    data = media_samples["jpeg"].read_bytes()
    upload_id = (await start(client, headers, len(data)))["upload_id"]
    await send(client, headers, upload_id, 0, data)
    ours: UploadSessions = app.state.services.upload_sessions
    other_process = UploadSessions(
        ours.directory,
        engine=ours.engine,
        storage=app.state.services.storage,
        max_bytes=ours.max_bytes,
        ttl=ours.ttl,
    )
    user_id = (await client.get("/users/me", headers=headers)).json()["id"]

    async with (
        app.state.services.sessionmaker() as session,
        other_process.completed(user_id, upload_id, utc_now(), session) as received,
    ):
        assert received.sha256 == hashlib.sha256(data).hexdigest()
        assert received.size == len(data)


async def test_tus_discovery_and_version_checks(client: httpx.AsyncClient) -> None:
    headers = await user_headers(client, "alice")

    options = await client.options(UPLOADS)
    wrong = await client.post(
        UPLOADS, headers={**headers, "Tus-Resumable": "0.2.2", "Upload-Length": "5"}
    )
    too_big = await client.post(UPLOADS, headers={**headers, "Upload-Length": str(10**12)})
    bad_metadata = await client.post(UPLOADS, headers={**headers, "Upload-Metadata": "filename %"})

    assert options.status_code == 204
    assert options.headers["tus-version"] == "1.0.0"
    assert set(options.headers["tus-extension"].split(",")) == {
        "creation",
        "expiration",
        "termination",
    }
    assert int(options.headers["tus-max-size"]) == 2 * 1024 * 1024
    assert (wrong.status_code, wrong.headers["tus-version"]) == (412, "1.0.0")
    assert too_big.status_code == 413
    assert bad_metadata.status_code == 400


@pytest.mark.parametrize("content_type", [None, "application/octet-stream"])
async def test_a_chunk_must_be_offset_octet_stream(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = await user_headers(client, "alice")
    upload_id = (await start(client, headers, 10))["upload_id"]
    extra = {"Content-Type": content_type} if content_type else {}

    response = await client.patch(
        f"{UPLOADS}/{upload_id}", content=b"abc", headers={**headers, **extra, "Upload-Offset": "0"}
    )

    assert response.status_code == 415
