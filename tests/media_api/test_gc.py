"""Retention: `run_gc` with a chosen clock, and `tiktimer media gc` as a real process."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.server import tiktimer_command
from tests.fixtures.users import user_headers
from tests.media_api.helpers import Stored, server_env, upload
from tests.media_api.test_resumable import expire
from tests.media_factory import MediaSamples
from tiktimer.kit.time import utc_now
from tiktimer.media.retention import GcReport, describe, run_gc
from tiktimer.models import Media, Post

UNUSED_TTL = timedelta(hours=72)
KEEP_PUBLISHED = timedelta(days=30)


async def gc(app: FastAPI, now: datetime) -> GcReport:
    return await run_gc(
        app.state.services.sessionmaker,
        app.state.services.storage,
        now,
        unused_ttl=UNUSED_TTL,
        keep_published=KEEP_PUBLISHED,
        uploads=app.state.services.upload_sessions,
    )


async def uploaded(
    client: httpx.AsyncClient, headers: dict[str, str], samples: MediaSamples, name: str
) -> dict[str, Any]:
    response = await upload(client, headers, samples[name])
    assert response.status_code == 201, response.text
    media: dict[str, Any] = response.json()
    return media


async def post_using(
    app: FastAPI,
    client: httpx.AsyncClient,
    headers: dict[str, str],
    media_id: str,
    status: str = "scheduled",
    published_at: datetime | None = None,
) -> int:
    when = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    # A draft: without an account a post may not be scheduled (issue 13); the status
    # is set below.
    body = {"content": "hi", "scheduled_time": when, "media_ids": [media_id], "draft": True}
    response = await client.post("/posts/", json=body, headers=headers)
    assert response.status_code == 201, response.text
    post_id: int = response.json()["id"]
    async with app.state.services.sessionmaker() as session:  # stand in for the publisher
        values = {"status": status, "published_at": published_at}
        await session.execute(update(Post).where(Post.id == post_id).values(**values))
        await session.commit()
    return post_id


async def status_of(stored: Stored, media_id: str) -> str:
    return next(row["status"] for row in await stored.rows() if row["id"] == media_id)


async def test_unused_media_go_after_the_ttl(
    app: FastAPI, client: httpx.AsyncClient, media_samples: MediaSamples, stored: Stored
) -> None:
    headers = await user_headers(client, "alice")
    media = await uploaded(client, headers, media_samples, "h264_mp4")
    now = utc_now()

    early = await gc(app, now + UNUSED_TTL - timedelta(minutes=5))
    late = await gc(app, now + UNUSED_TTL + timedelta(minutes=5))

    assert early.removed == []
    assert [(m.id, m.reason, m.size) for m in late.removed] == [
        (media["id"], "unused", media["size"])
    ]
    assert stored.objects() == []
    [row] = await stored.rows()
    assert (row["status"], row["deleted_at"] is not None) == ("deleted", True)
    assert (await client.get(f"/api/v1/media/{media['id']}", headers=headers)).status_code == 404
    assert (await gc(app, now + 2 * UNUSED_TTL)).removed == []  # idempotent


@pytest.mark.parametrize(
    "status", ["draft", "scheduled", "publishing", "unconfirmed", "failed", "cancelled"]
)
async def test_media_a_post_may_still_publish_are_kept(
    app: FastAPI,
    client: httpx.AsyncClient,
    media_samples: MediaSamples,
    stored: Stored,
    status: str,
) -> None:
    headers = await user_headers(client, "alice")
    media = await uploaded(client, headers, media_samples, "h264_mp4")
    await post_using(app, client, headers, media["id"], status)

    report = await gc(app, utc_now() + timedelta(days=365))

    assert report.removed == []
    assert len(stored.objects()) == 1


async def test_media_of_a_published_post_go_after_the_keep_period(
    app: FastAPI, client: httpx.AsyncClient, media_samples: MediaSamples, stored: Stored
) -> None:
    headers = await user_headers(client, "alice")
    media = await uploaded(client, headers, media_samples, "h264_mp4")
    published_at = utc_now()
    post_id = await post_using(app, client, headers, media["id"], "published", published_at)

    kept = await gc(app, published_at + KEEP_PUBLISHED - timedelta(hours=1))
    gone = await gc(app, published_at + KEEP_PUBLISHED + timedelta(hours=1))

    assert kept.removed == []
    assert [(m.id, m.reason) for m in gone.removed] == [(media["id"], "published")]
    assert stored.objects() == []
    assert await status_of(stored, media["id"]) == "deleted"
    post = (await client.get(f"/posts/{post_id}", headers=headers)).json()
    assert (post["status"], post["media_ids"]) == ("published", [media["id"]])


async def test_media_shared_with_a_post_still_to_come_are_kept(
    app: FastAPI, client: httpx.AsyncClient, media_samples: MediaSamples, stored: Stored
) -> None:
    headers = await user_headers(client, "alice")
    media = await uploaded(client, headers, media_samples, "h264_mp4")
    published_at = utc_now()
    await post_using(app, client, headers, media["id"], "published", published_at)
    await post_using(app, client, headers, media["id"], "scheduled")
    await post_using(app, client, headers, media["id"], "published", None)  # no timestamp

    report = await gc(app, published_at + 10 * KEEP_PUBLISHED)

    assert report.removed == []
    assert await status_of(stored, media["id"]) == "ready"


async def test_gc_sweeps_expired_uploads_and_stale_temp_files(
    app: FastAPI, client: httpx.AsyncClient, stored: Stored
) -> None:
    headers = await user_headers(client, "alice")
    uploads = app.state.services.upload_sessions
    idle = await client.post("/api/v1/media/uploads", headers={**headers, "Upload-Length": "9"})
    fresh = await client.post("/api/v1/media/uploads", headers={**headers, "Upload-Length": "9"})
    stale_temp = uploads.incoming_dir / "0123abcd.part"
    stale_temp.write_bytes(b"left by a killed process")
    old = time.time() - uploads.ttl.total_seconds() - 60
    os.utime(stale_temp, (old, old))
    await expire(app, idle.json()["upload_id"])

    report = await gc(app, utc_now())

    assert report.expired_uploads == [idle.json()["upload_id"]]
    fresh_id = fresh.json()["upload_id"]
    local = (
        app.state.services.settings.storage.backend == "local"
    )  # on S3 the bytes are in the bucket
    assert stored.upload_files() == ([f"sessions/{fresh_id}.part"] if local else [])
    assert describe(report)[-1] == "0 media removed (0 bytes), 1 expired uploads"


async def test_tiktimer_media_gc_command(
    app: FastAPI,
    client: httpx.AsyncClient,
    database: DatabaseUnderTest,
    media_samples: MediaSamples,
    stored: Stored,
) -> None:
    headers = await user_headers(client, "alice")
    old = await uploaded(client, headers, media_samples, "h264_mp4")
    new = await uploaded(client, headers, media_samples, "vp9_webm")
    user_id = (await client.get("/users/me", headers=headers)).json()["id"]
    async with app.state.services.sessionmaker() as session:  # uploaded two hours ago
        two_hours_ago = utc_now() - timedelta(hours=2)
        statement = update(Media).where(Media.id == old["id"]).values(created_at=two_hours_ago)
        await session.execute(statement)
        await session.commit()

    result = subprocess.run(
        [*tiktimer_command(), "media", "gc"],
        env=server_env(app, database, TIKTIMER_MEDIA_UNUSED_TTL_HOURS="1"),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"removed media {old['id']} (user {user_id}, {old['size']} bytes, unused)"
    assert lines[-1] == f"1 media removed ({old['size']} bytes), 0 expired uploads"
    assert await status_of(stored, old["id"]) == "deleted"
    assert await status_of(stored, new["id"]) == "ready"
    assert len(stored.objects()) == 1
