"""The late-publish policy and pausing: a post due too long ago is `missed` with the reason,
in its timeline; a paused post or account waits, and resuming re-queues by the policy."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from tests.publishing.helpers import connect_creator
from tests.scheduling.conftest import create
from tiktimer.kit.time import utc_now
from tiktimer.models import Post
from tiktimer.platforms.tiktok.emulator import Emulator

LEASE = timedelta(seconds=30)


async def _due_since(app: FastAPI, post_id: int, ago: timedelta) -> None:
    """Move the post's time into the past, as if the service had been down meanwhile."""
    async with app.state.services.sessionmaker() as session, session.begin():
        await session.execute(
            update(Post).where(Post.id == post_id).values(scheduled_time=utc_now() - ago)
        )


async def _claimed(app: FastAPI, now: datetime | None = None) -> list[int]:
    claims = await app.state.services.post_queue.claim("w-test", 25, now or utc_now(), LEASE)
    return sorted(claim.post_id for claim in claims)


async def _post(client: httpx.AsyncClient, alice: dict[str, str], post_id: int) -> Any:
    return (await client.get(f"/posts/{post_id}", headers=alice)).json()


async def test_a_new_post_takes_the_configured_window(
    client: httpx.AsyncClient, alice: dict[str, str], account: int, video: str
) -> None:
    default = await create(client, alice, media_id=video)
    assert default["late_publish_minutes"] == 60
    own = await create(client, alice, media_id=video, late_publish_minutes=5, content="b")
    assert own["late_publish_minutes"] == 5
    unlimited = await create(client, alice, media_id=video, late_publish_minutes=None, content="c")
    assert unlimited["late_publish_minutes"] is None
    too_long = await client.post(
        "/posts/", json={**default, "late_publish_minutes": 10081}, headers=alice
    )
    assert too_long.status_code == 422


async def test_late_within_the_window_publishes_beyond_it_is_missed(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], account: int, video: str
) -> None:
    on_time = await create(client, alice, media_id=video, content="a")
    late = await create(client, alice, media_id=video, content="b")
    unlimited = await create(client, alice, media_id=video, content="c", late_publish_minutes=None)
    await _due_since(app, on_time["id"], timedelta(minutes=30))
    await _due_since(app, late["id"], timedelta(minutes=90))
    await _due_since(app, unlimited["id"], timedelta(days=3))
    assert await _claimed(app) == sorted([on_time["id"], unlimited["id"]])
    missed = await _post(client, alice, late["id"])
    assert missed["status"] == "missed"
    assert missed["last_error_code"] == "missed"
    assert "late-publish window of 60 minutes" in missed["last_error"]
    timeline = (await client.get(f"/posts/{late['id']}/attempts", headers=alice)).json()
    assert [entry["outcome"] for entry in timeline] == ["missed"]
    assert timeline[0]["error_message"] == missed["last_error"]
    events = (await client.get("/api/v1/notifications/", headers=alice)).json()
    assert [(e["type"], e["post_id"]) for e in events] == [("post.missed", late["id"])]
    assert "late-publish window" in events[0]["detail"]


async def test_a_missed_post_can_be_rescheduled_or_retried(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], account: int, video: str
) -> None:
    post = await create(client, alice, media_id=video)
    await _due_since(app, post["id"], timedelta(hours=2))
    assert await _claimed(app) == []
    retried = await client.post(f"/posts/{post['id']}/retry", headers=alice)
    assert retried.status_code == 202, retried.text
    assert await _claimed(app) == [post["id"]]


async def test_a_paused_post_waits_and_resumes(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], account: int, video: str
) -> None:
    post = await create(client, alice, media_id=video)
    paused = await client.post(f"/posts/{post['id']}/pause", headers=alice)
    assert paused.status_code == 200, paused.text
    assert paused.json()["status"] == "paused"
    await _due_since(app, post["id"], timedelta(minutes=10))
    assert await _claimed(app) == []
    again = await client.post(f"/posts/{post['id']}/pause", headers=alice)
    assert again.status_code == 409
    resumed = await client.post(f"/posts/{post['id']}/resume", headers=alice)
    assert resumed.json()["status"] == "scheduled"
    assert await _claimed(app) == [post["id"]]
    assert (await client.post(f"/posts/{post['id']}/resume", headers=alice)).status_code == 409


async def test_resuming_a_post_past_its_window_marks_it_missed(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], account: int, video: str
) -> None:
    post = await create(client, alice, media_id=video, late_publish_minutes=15)
    await client.post(f"/posts/{post['id']}/pause", headers=alice)
    await _due_since(app, post["id"], timedelta(minutes=20))
    resumed = await client.post(f"/posts/{post['id']}/resume", headers=alice)
    assert resumed.json()["status"] == "missed"
    assert "15 minutes" in resumed.json()["last_error"]
    events = (await client.get("/api/v1/notifications/", headers=alice)).json()
    assert [(e["type"], e["post_id"]) for e in events] == [("post.missed", post["id"])]


async def test_pause_account_then_posts_come_due_then_resume(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: dict[str, str],
    account: int,
    emulator: Emulator,
    video: str,
) -> None:
    other = await connect_creator(client, alice, emulator, "creator_two")
    soon = await create(client, alice, media_id=video, social_account_id=account, content="a")
    old = await create(client, alice, media_id=video, social_account_id=account, content="b")
    elsewhere = await create(client, alice, media_id=video, social_account_id=other)
    paused = await client.post(f"/api/v1/accounts/{account}/pause", headers=alice)
    assert paused.status_code == 200, paused.text
    assert paused.json()["paused_at"] is not None
    for post, ago in ((soon, 10), (old, 120), (elsewhere, 1)):
        await _due_since(app, post["id"], timedelta(minutes=ago))
    assert await _claimed(app) == [elsewhere["id"]]  # the paused account's posts wait
    assert (await _post(client, alice, soon["id"]))["status"] == "scheduled"
    resumed = await client.post(f"/api/v1/accounts/{account}/resume", headers=alice)
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["paused_at"] is None
    assert (await _post(client, alice, old["id"]))["status"] == "missed"
    assert await _claimed(app) == [soon["id"]]


async def test_pause_refusals(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], account: int, video: str
) -> None:
    mallory = await _other_user(client)
    post = await create(client, alice, media_id=video)
    assert (await client.post(f"/posts/{post['id']}/pause", headers=mallory)).status_code == 404
    pause_account = f"/api/v1/accounts/{account}/pause"
    assert (await client.post(pause_account, headers=mallory)).status_code == 404
    draft = await create(client, alice, media_id=video, draft=True)
    assert (await client.post(f"/posts/{draft['id']}/pause", headers=alice)).status_code == 409
    assert (await client.post("/posts/999999/pause", headers=alice)).status_code == 404


async def _other_user(client: httpx.AsyncClient) -> dict[str, str]:
    from tests.fixtures.users import user_headers

    return await user_headers(client, "mallory")
