"""Helpers for publishing tests: accounts, media (real or sparse), and driving a publish.

`drive` plays the scheduler's part in the simplest way (claim, start, poll, settle through
`apply_outcome`), so the publisher can be tested end to end through the emulator. It is
test code: the product's one publishing path is the scheduler's dispatcher.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update

from tests.accounts.conftest import connect
from tiktimer.kit.time import utc_now
from tiktimer.models import Media, Post, PostStatus
from tiktimer.platforms.contract import (
    OutcomeState,
    Pacer,
    PublishError,
    PublishJob,
    PublishOutcome,
)
from tiktimer.platforms.tiktok.emulator import CreatorSettings, Emulator
from tiktimer.platforms.tiktok.publisher import TikTokPublisher
from tiktimer.posts.queue.outcomes import apply_outcome
from tiktimer.storage import media_key

MARK_EVERY = 10_000_000


class RecordingPacer:
    """The app's shared pacer (the scheduler's), noting which buckets were asked for."""

    def __init__(self, inner: Pacer) -> None:
        self.inner = inner
        self.calls: list[tuple[int, str]] = []

    async def acquire(self, account_id: int, bucket: str) -> None:
        self.calls.append((account_id, bucket))
        await self.inner.acquire(account_id, bucket)


def future(hours: float = 24) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


async def user_id(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    response = await client.get("/users/me", headers=headers)
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


async def connect_creator(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    emulator: Emulator,
    username: str = "creator_one",
    *,
    granted_scopes: str | None = None,
    **settings: Any,
) -> int:
    """A sandbox creator (private unless told otherwise), connected; returns the account id."""
    settings.setdefault("is_private", True)
    emulator.create_creator(
        CreatorSettings(username=username, display_name=username.title(), **settings)
    )
    extra = {} if granted_scopes is None else {"granted_scopes": granted_scopes}
    page = await connect(client, headers, creator=username, **extra)
    assert page.status_code == 200, page.text
    accounts = (await client.get("/api/v1/accounts", headers=headers)).json()
    [account] = [a for a in accounts if a["display_name"] == username.title()]
    return int(account["id"])


async def upload(client: httpx.AsyncClient, headers: dict[str, str], path: Path) -> dict[str, Any]:
    """Upload a real file through the media API."""
    with path.open("rb") as f:
        response = await client.post(
            "/api/v1/media", files={"file": (path.name, f)}, headers=headers
        )
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


def marked_sparse_file(path: Path, size: int) -> str:
    """A sparse file of `size` bytes with its offset written every 10 MB; returns its SHA-256.

    The marks make a chunk sent at the wrong offset change the hash TikTok computes.
    """
    with path.open("wb") as f:
        f.truncate(size)
        for offset in range(0, size - 8, MARK_EVERY):
            f.seek(offset)
            f.write(offset.to_bytes(8, "big"))
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(8 * 1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


async def stored_media(
    app: FastAPI,
    owner_id: int,
    size: int,
    *,
    kind: str = "video",
    content_type: str = "video/mp4",
    probe: dict[str, Any] | None = None,
    verdict: dict[str, Any] | None = None,
) -> tuple[str, str]:
    """A media row over a sparse file put straight into storage (no probe: it is not real
    video, the emulator only counts and hashes bytes). Returns (media id, SHA-256)."""
    media_id = str(uuid.uuid4())
    key = media_key(owner_id, media_id, utc_now(), ".mp4" if kind == "video" else ".jpg")
    path = app.state.services.storage.local_path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    sha256 = marked_sparse_file(path, size)
    row = Media(
        id=media_id,
        user_id=owner_id,
        storage_key=key,
        size=size,
        sha256=secrets.token_hex(32),
        content_type=content_type,
        kind=kind,
        probe=probe
        if probe is not None
        else {"container": "mp4", "duration_sec": 10.0, "width": 1080, "height": 1920},
        verdict=verdict if verdict is not None else {"ok": True, "reasons": []},
        status="ready",
    )
    async with app.state.services.sessionmaker() as session, session.begin():
        session.add(row)
    return media_id, sha256


async def create_post(
    client: httpx.AsyncClient, headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    payload = {"content": "hello", "scheduled_time": future(), **body}
    response = await client.post("/posts/", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def read_post(app: FastAPI, post_id: int) -> Post:
    async with app.state.services.sessionmaker() as session:
        post = await session.scalar(select(Post).where(Post.id == post_id))
    assert post is not None
    return post


@dataclass
class Driven:
    post: Post
    publish_ids: list[str]
    outcome: PublishOutcome | None
    error: PublishError | None


async def mark_publishing(app: FastAPI, post_id: int) -> None:
    async with app.state.services.sessionmaker() as session, session.begin():
        await session.execute(
            update(Post).where(Post.id == post_id).values(status=PostStatus.publishing)
        )


async def job_for(app: FastAPI, post_id: int) -> PublishJob:
    post = await read_post(app, post_id)
    return PublishJob(
        post_id=post.id,
        attempt_id=0,
        user_id=post.user_id,
        account_id=post.social_account_id,
        platform="tiktok",
    )


async def start(
    app: FastAPI, publisher: TikTokPublisher, post_id: int, publish_ids: list[str]
) -> str:
    async def sink(publish_id: str, log_id: str | None) -> None:
        publish_ids.append(publish_id)
        async with app.state.services.sessionmaker() as session, session.begin():
            await session.execute(
                update(Post).where(Post.id == post_id).values(platform_publish_id=publish_id)
            )

    return await publisher.start(await job_for(app, post_id), sink)


async def settle(
    app: FastAPI,
    publisher: TikTokPublisher,
    emulator: Emulator,
    post_id: int,
    publish_id: str,
    *,
    max_checks: int = 10,
) -> PublishOutcome:
    """Poll (advancing TikTok's clock instead of sleeping) and apply the verdict."""
    job = await job_for(app, post_id)
    outcome = await publisher.check(job, publish_id)
    for _ in range(max_checks):
        if outcome.state is not OutcomeState.processing:
            break
        emulator.advance_clock(2.0)
        await asyncio.sleep(0.05)  # let TikTok's background pulls (photos) run
        outcome = await publisher.check(job, publish_id)
    async with app.state.services.sessionmaker() as session, session.begin():
        await apply_outcome(session, post_id, outcome)
    return outcome


async def drive(
    app: FastAPI, publisher: TikTokPublisher, emulator: Emulator, post_id: int
) -> Driven:
    """Publish a post the way the scheduler does: start, then poll until TikTok decides."""
    await mark_publishing(app, post_id)
    publish_ids: list[str] = []
    try:
        publish_id = await start(app, publisher, post_id, publish_ids)
        outcome = await settle(app, publisher, emulator, post_id, publish_id)
    except PublishError as exc:
        return Driven(await read_post(app, post_id), publish_ids, None, exc)
    return Driven(await read_post(app, post_id), publish_ids, outcome, None)


def upload_puts(emulator: Emulator) -> list[int | None]:
    return [r.status for r in emulator.requests(endpoint="upload")]


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def wait_for(app: FastAPI, post_id: int, status: str) -> Post:
    """Wait (a bound, not a speed claim) until the post reaches `status`."""

    async def current() -> str:
        return (await read_post(app, post_id)).status

    await wait_until(current, status)
    return await read_post(app, post_id)


async def wait_until(
    read: Callable[[], Awaitable[object]], expected: object, seconds: float = 5.0
) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while (value := await read()) != expected:
        assert asyncio.get_running_loop().time() < deadline, f"still {value!r}"
        await asyncio.sleep(0.05)
