"""Resumable uploads behind a load balancer: two app instances, one database, one storage.

`hosts` builds two apps with `create_app`, as two API machines would run them: the same
database and media storage; with S3 storage each has its own data directory (nothing on
local disk is shared), with local storage they share it (as the media directory must be).
Chunks alternate between them, a cut-off chunk resumes on the other one, and two chunks
at the same offset race on both at once. The upload is ~20 MiB, so S3 sees several
multipart parts and a tail carried from chunk to chunk.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, update

from tests.fixtures.app import TEST_BASE_URL, make_settings
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.lifespan import lifespan_of
from tests.fixtures.users import user_headers
from tests.media_api.helpers import MiB, Stored, call_asgi
from tests.media_factory import write_video
from tiktimer.app import create_app
from tiktimer.kit.time import utc_now
from tiktimer.models import ResumableUpload

UPLOADS = "/api/v1/media/uploads"
TUS = {"Tus-Resumable": "1.0.0"}
CHUNK = {"Content-Type": "application/offset+octet-stream"}
S3_REGION = "us-east-1"

Hosts = tuple[httpx.AsyncClient, httpx.AsyncClient]


@pytest.fixture(scope="module")
def big_video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Real media of ~20 MiB (raw frames), so S3 takes several parts."""
    path = tmp_path_factory.mktemp("big-video") / "raw.mkv"
    data = write_video(path, fmt="matroska", codec="rawvideo", seconds=2.0).read_bytes()
    assert len(data) > 2 * 8 * MiB
    return data


@pytest.fixture(scope="module")
async def host_apps(
    database: DatabaseUnderTest,
    storage_backend: str,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[FastAPI, FastAPI]]:
    overrides: dict[str, Any] = {"max_upload_mb": 64}
    shared = tmp_path_factory.mktemp("host-a-data")
    data_b = shared
    if storage_backend == "s3":
        overrides |= _new_bucket(request.getfixturevalue("s3_endpoint"))
        data_b = tmp_path_factory.mktemp("host-b-data")
    first = create_app(make_settings(database.url, shared, **overrides))
    second = create_app(make_settings(database.url, data_b, **overrides))
    async with lifespan_of(first), lifespan_of(second):
        yield first, second


@pytest.fixture
async def hosts(
    host_apps: tuple[FastAPI, FastAPI], client: httpx.AsyncClient
) -> AsyncIterator[Hosts]:
    """HTTP clients of the two machines (`client` empties the tables afterwards)."""
    first, second = host_apps
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url=TEST_BASE_URL) as a,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url=TEST_BASE_URL) as b,
    ):
        yield a, b


def _new_bucket(endpoint: str) -> dict[str, Any]:
    bucket = f"hosts-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name=S3_REGION)
    client.create_bucket(Bucket=bucket)
    client.close()
    return {
        "storage": "s3",
        "s3_bucket": bucket,
        "s3_prefix": "media",
        "s3_endpoint_url": endpoint,
        "s3_region": S3_REGION,
    }


async def start(api: httpx.AsyncClient, headers: dict[str, str], length: int) -> str:
    response = await api.post(UPLOADS, headers={**headers, **TUS, "Upload-Length": str(length)})
    assert response.status_code == 201, response.text
    upload_id: str = response.json()["upload_id"]
    return upload_id


async def send(
    api: httpx.AsyncClient, headers: dict[str, str], upload_id: str, offset: int, body: Any
) -> httpx.Response:
    return await api.patch(
        f"{UPLOADS}/{upload_id}",
        content=body,
        headers={**headers, **TUS, **CHUNK, "Upload-Offset": str(offset)},
    )


async def offset_of(api: httpx.AsyncClient, headers: dict[str, str], upload_id: str) -> int:
    response = await api.head(f"{UPLOADS}/{upload_id}", headers={**headers, **TUS})
    assert response.status_code == 200, response.text
    return int(response.headers["upload-offset"])


async def complete(
    api: httpx.AsyncClient, headers: dict[str, str], upload_id: str, data: bytes
) -> dict[str, Any]:
    done = await api.post(f"{UPLOADS}/{upload_id}/complete", headers=headers)
    assert done.status_code == 201, done.text
    media: dict[str, Any] = done.json()
    assert (media["size"], media["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    return media


def nothing_pending(apps: tuple[FastAPI, FastAPI]) -> bool:
    """No upload bytes left on either machine's disk nor in the bucket's upload area."""
    objects = Stored(apps[0]).objects()
    waiting = [key for key in objects if key.startswith("upload:") or "/.uploads/" in key]
    return not waiting and not any(Stored(app).upload_files() for app in apps)


async def test_chunks_alternating_between_two_machines_make_one_intact_file(
    hosts: Hosts, host_apps: tuple[FastAPI, FastAPI], big_video: bytes
) -> None:
    a, b = hosts
    headers = await user_headers(a, "alice")
    upload_id = await start(a, headers, len(big_video))
    # Sizes that never line up with S3's 8 MiB parts: tails are carried across machines.
    sizes = [3 * MiB + 7, 6 * MiB, MiB - 3, 9 * MiB + 1]
    offset = 0
    for number, size in enumerate(sizes):
        here, there = (a, b) if number % 2 == 0 else (b, a)
        response = await send(here, headers, upload_id, offset, big_video[offset : offset + size])
        assert response.status_code == 204, response.text
        offset += size
        assert await offset_of(there, headers, upload_id) == offset

    # A chunk cut off on machine b keeps what arrived; machine a resumes from there.
    arrived = big_video[offset : offset + 5000]
    messages = await call_asgi(
        host_apps[1],
        "PATCH",
        f"{UPLOADS}/{upload_id}",
        {**headers, **TUS, **CHUNK, "Upload-Offset": str(offset)},
        [arrived[:2000], arrived[2000:]],
        disconnect=True,
    )
    assert messages[0]["status"] == 400
    offset = await offset_of(a, headers, upload_id)
    assert offset == sum(sizes) + len(arrived)
    assert (await send(a, headers, upload_id, offset, big_video[offset:])).status_code == 204

    media = await complete(b, headers, upload_id, big_video)

    content = await a.get(f"/api/v1/media/{media['id']}/content", headers=headers)
    assert content.content == big_video
    assert nothing_pending(host_apps)
    assert (await b.head(f"{UPLOADS}/{upload_id}", headers=headers)).status_code == 404


async def test_the_same_chunk_on_both_machines_at_once_is_taken_once(
    hosts: Hosts, host_apps: tuple[FastAPI, FastAPI], big_video: bytes
) -> None:
    a, b = hosts
    headers = await user_headers(a, "alice")
    upload_id = await start(b, headers, len(big_video))
    chunk = big_video[: 9 * MiB]
    answered = asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        """Half the chunk, then the rest only once the other machine has answered."""
        yield chunk[: len(chunk) // 2]
        await answered.wait()
        yield chunk[len(chunk) // 2 :]

    async def patch(api: httpx.AsyncClient) -> httpx.Response:
        response = await send(api, headers, upload_id, 0, slow_body())
        answered.set()
        return response

    first, second = await asyncio.gather(patch(a), patch(b))

    assert sorted([first.status_code, second.status_code]) == [204, 409]
    loser = first if first.status_code == 409 else second
    assert "detail" in loser.json()
    assert await offset_of(a, headers, upload_id) == len(chunk)
    assert await offset_of(b, headers, upload_id) == len(chunk)
    rest = big_video[len(chunk) :]
    assert (await send(b, headers, upload_id, len(chunk), rest)).status_code == 204
    await complete(a, headers, upload_id, big_video)
    assert nothing_pending(host_apps)


async def test_a_machine_that_died_mid_chunk_blocks_the_upload_only_for_its_lease(
    hosts: Hosts, host_apps: tuple[FastAPI, FastAPI], big_video: bytes
) -> None:
    a, b = hosts
    headers = await user_headers(a, "alice")
    data = big_video
    upload_id = await start(a, headers, len(data))
    assert (await send(a, headers, upload_id, 0, data[:MiB])).status_code == 204
    await _held_by_a_dead_request(host_apps[0], upload_id, lease_left=timedelta(seconds=30))

    assert (await send(b, headers, upload_id, MiB, data[MiB:])).status_code == 409
    await _held_by_a_dead_request(host_apps[0], upload_id, lease_left=-timedelta(seconds=1))
    assert (await send(b, headers, upload_id, MiB, data[MiB:])).status_code == 204

    await complete(a, headers, upload_id, data)  # the dead request's stray bytes are not in
    assert nothing_pending(host_apps)


async def _held_by_a_dead_request(app: FastAPI, upload_id: str, lease_left: timedelta) -> None:
    """The row as a request leaves it when its machine dies: claimed, with stray bytes."""
    statement = (
        update(ResumableUpload)
        .where(ResumableUpload.id == upload_id)
        .values(claim_token=uuid.uuid4().hex, claimed_until=utc_now() + lease_left)
    )
    async with app.state.services.engine.begin() as connection:
        await connection.execute(statement)
    part: Path = app.state.services.upload_sessions.sessions_dir / f"{upload_id}.part"
    if part.exists():  # local storage: bytes written after the last recorded offset
        with part.open("ab") as f:
            f.write(b"never recorded")


async def test_gc_removes_the_bytes_of_an_upload_whose_row_is_gone(
    hosts: Hosts, host_apps: tuple[FastAPI, FastAPI], big_video: bytes
) -> None:
    a, _ = hosts
    headers = await user_headers(a, "alice")
    upload_id = await start(a, headers, len(big_video))
    chunk = big_video[: 9 * MiB]  # on S3: a multipart upload with one part, and a tail
    assert (await send(a, headers, upload_id, 0, chunk)).status_code == 204
    async with host_apps[0].state.services.engine.begin() as connection:  # a crash lost the row
        await connection.execute(delete(ResumableUpload).where(ResumableUpload.id == upload_id))
    assert not nothing_pending(host_apps)

    uploads = host_apps[1].state.services.upload_sessions
    await uploads.sweep(utc_now() + 2 * uploads.ttl)  # the leftovers are old by then

    assert nothing_pending(host_apps)
