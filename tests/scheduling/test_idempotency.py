"""Idempotency-Key: the same key and body within 24 hours replay the first answer and create
nothing; the same key with another body is 422; concurrent creates make one post."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, update

from tests.media_factory import MediaSamples
from tests.scheduling.conftest import body
from tiktimer.idempotency import prune_expired
from tiktimer.kit.time import utc_now
from tiktimer.models import IdempotencyKey, Media, Post


async def _count(app: FastAPI, model: type) -> int:
    async with app.state.services.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_retried_create_replays_the_first_answer(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], account: int, video: str
) -> None:
    payload = body(media_id=video)
    headers = {**alice, "Idempotency-Key": "create-1"}
    first = await client.post("/posts/", json=payload, headers=headers)
    again = await client.post("/posts/", json=payload, headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await _count(app, Post) == 1
    # Without the key the same post again is a new request: the duplicate guard refuses it.
    assert (await client.post("/posts/", json=payload, headers=alice)).status_code == 409


async def test_the_same_key_with_another_body_is_422(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], account: int, video: str
) -> None:
    headers = {**alice, "Idempotency-Key": "create-2"}
    assert (await client.post("/posts/", json=body(media_id=video), headers=headers)).is_success
    other = await client.post(
        "/posts/", json=body(media_id=video, content="other caption"), headers=headers
    )
    assert other.status_code == 422
    assert other.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert await _count(app, Post) == 1


async def test_a_refused_create_leaves_the_key_free(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], account: int, video: str
) -> None:
    headers = {**alice, "Idempotency-Key": "create-3"}
    refused = await client.post("/posts/", json=body(), headers=headers)  # no media
    assert refused.status_code == 422
    assert await _count(app, IdempotencyKey) == 0
    created = await client.post("/posts/", json=body(), headers=headers)
    assert created.status_code == 422  # the same body is judged again, not replayed


async def test_a_key_older_than_24_hours_creates_again(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], account: int, video: str
) -> None:
    headers = {**alice, "Idempotency-Key": "create-4"}
    payload = body(media_id=video, allow_duplicate=True)
    first = await client.post("/posts/", json=payload, headers=headers)
    async with app.state.services.sessionmaker() as session, session.begin():
        row = await session.scalar(select(IdempotencyKey))
        assert row is not None
        await session.execute(
            update(IdempotencyKey).values(created_at=row.created_at - timedelta(hours=24))
        )
    second = await client.post("/posts/", json=payload, headers=headers)
    assert second.status_code == 201, second.text
    assert second.json()["id"] != first.json()["id"]


async def test_concurrent_creates_with_one_key_make_one_post(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], account: int, video: str
) -> None:
    payload = body(media_id=video)
    headers = {**alice, "Idempotency-Key": "race"}
    answers = await asyncio.gather(
        *(client.post("/posts/", json=payload, headers=headers) for _ in range(4))
    )
    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert await _count(app, Post) == 1


async def test_a_malformed_key_is_422(
    client: httpx.AsyncClient, alice: dict[str, str], account: int, video: str
) -> None:
    for key in ("", "x" * 256, "tab\there"):
        headers = {**alice, "Idempotency-Key": key}
        response = await client.post("/posts/", json=body(media_id=video), headers=headers)
        assert response.status_code == 422, (key, response.text)


async def test_the_multipart_create_is_idempotent(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: dict[str, str],
    account: int,
    samples: MediaSamples,
) -> None:
    fields = {"content": "uploaded once", "scheduled_time": body()["scheduled_time"]}
    answers = []
    for _ in range(2):
        with samples["h264_mp4"].open("rb") as video:
            answers.append(
                await client.post(
                    "/api/v1/tiktok/posts/",
                    data=fields,
                    files={"video": ("clip.mp4", video, "video/mp4")},
                    headers={**alice, "Idempotency-Key": "multipart"},
                )
            )
    assert [a.status_code for a in answers] == [201, 201], answers[-1].text
    assert answers[0].json() == answers[1].json()
    assert await _count(app, Post) == 1
    with samples["h264_mov"].open("rb") as video:
        other = await client.post(
            "/api/v1/tiktok/posts/",
            data=fields,
            files={"video": ("clip.mov", video, "video/quicktime")},
            headers={**alice, "Idempotency-Key": "multipart"},
        )
    assert other.status_code == 422


async def test_completing_an_upload_twice_with_a_key_replays(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], samples: MediaSamples
) -> None:
    data = samples["h264_mp4"].read_bytes()
    started = await client.post(
        "/api/v1/media/uploads", headers={**alice, "Upload-Length": str(len(data))}
    )
    assert started.status_code == 201, started.text
    upload = started.json()["upload_id"]
    sent = await client.patch(
        f"/api/v1/media/uploads/{upload}",
        content=data,
        headers={
            **alice,
            "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": "0",
        },
    )
    assert sent.status_code == 204, sent.text
    headers = {**alice, "Idempotency-Key": "complete-1"}
    first = await client.post(f"/api/v1/media/uploads/{upload}/complete", headers=headers)
    again = await client.post(f"/api/v1/media/uploads/{upload}/complete", headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    assert await _count(app, Media) == 1
    unkeyed = await client.post(f"/api/v1/media/uploads/{upload}/complete", headers=alice)
    assert unkeyed.status_code == 404  # used: without the key it is simply gone


async def test_expired_keys_are_pruned(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], account: int, video: str
) -> None:
    headers = {**alice, "Idempotency-Key": "old"}
    assert (await client.post("/posts/", json=body(media_id=video), headers=headers)).is_success
    sessionmaker = app.state.services.sessionmaker
    assert await prune_expired(sessionmaker, utc_now()) == 0
    assert await prune_expired(sessionmaker, utc_now() + timedelta(hours=24, seconds=1)) == 1
    assert await _count(app, IdempotencyKey) == 0
