"""The HTTP side: publish now, retry, attempts, safe cancel/reschedule, /health, wake-ups."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from tests.fixtures.users import user_headers
from tests.scheduler.conftest import Workers, World, eventually, settled
from tiktimer.kit.time import ensure_utc, utc_now
from tiktimer.models import Post
from tiktimer.posts.queue.wakeup import DueSignal, PgListener, Wakeup


async def alice(client: httpx.AsyncClient) -> tuple[dict[str, str], int]:
    headers = await user_headers(client, "alice")
    me = (await client.get("/users/me", headers=headers)).json()
    return headers, int(me["id"])


async def alices_draft(world: World, client: httpx.AsyncClient) -> tuple[dict[str, str], int]:
    headers, user_id = await alice(client)
    account_id = await world.account(user_id)
    media_id = await world.media(user_id)
    later = utc_now() + timedelta(days=1)
    return headers, await world.post(user_id, account_id, media_id, at=later, status="draft")


@pytest.mark.parametrize("path", ["/posts/{id}/publish", "/api/v1/tiktok/posts/{id}/publish"])
async def test_publish_now_goes_through_the_dispatcher(
    world: World, workers: Workers, client: httpx.AsyncClient, path: str
) -> None:
    headers, post_id = await alices_draft(world, client)

    response = await client.post(path.format(id=post_id), headers=headers)

    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "scheduled"
    assert ensure_utc(datetime.fromisoformat(body["scheduled_time"])) <= utc_now()
    workers.start()
    [post] = await settled(world, [post_id])
    assert post.status == "published"
    again = await client.post(path.format(id=post_id), headers=headers)
    assert again.status_code == 409


async def test_publish_now_needs_an_account_and_an_owner(
    world: World, client: httpx.AsyncClient
) -> None:
    headers, user_id = await alice(client)
    orphan = await world.post(user_id, None, None, status="draft")
    response = await client.post(f"/posts/{orphan}/publish", headers=headers)
    assert response.status_code == 422
    bob = await user_headers(client, "bob")
    assert (await client.post(f"/posts/{orphan}/publish", headers=bob)).status_code == 404


async def test_retry_and_attempts_history(
    world: World, workers: Workers, client: httpx.AsyncClient
) -> None:
    headers, post_id = await alices_draft(world, client)
    async with world.app.state.services.sessionmaker() as session, session.begin():
        await session.execute(
            update(Post)
            .where(Post.id == post_id)
            .values(status="failed", attempt_count=5, scheduled_time=utc_now())
        )

    response = await client.post(f"/posts/{post_id}/retry", headers=headers)

    assert response.status_code == 202, response.text
    assert response.json()["status"] == "scheduled"
    assert response.json()["attempt_count"] == 0
    workers.start()
    await settled(world, [post_id])
    attempts = await client.get(f"/posts/{post_id}/attempts", headers=headers)
    assert attempts.status_code == 200
    [attempt] = attempts.json()
    assert attempt["outcome"] == "published"
    assert attempt["number"] == 1
    assert attempt["publish_id"]
    assert attempt["request_ids"]
    assert (await client.post(f"/posts/{post_id}/retry", headers=headers)).status_code == 409
    bob = await user_headers(client, "bob")
    assert (await client.get(f"/posts/{post_id}/attempts", headers=bob)).status_code == 404


async def test_claimed_but_unstarted_post_can_be_cancelled_or_rescheduled(
    world: World, client: httpx.AsyncClient
) -> None:
    headers, user_id = await alice(client)
    account_id = await world.account(user_id)
    media_id = await world.media(user_id)
    first = await world.post(user_id, account_id, media_id)
    second = await world.post(user_id, account_id, media_id)
    claims = {c.post_id: c for c in await world.queue.claim("w", 2, utc_now(), timedelta(60))}

    cancelled = await client.post(f"/posts/{first}/cancel", headers=headers)
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    moved = await client.patch(f"/posts/{second}", json={"scheduled_time": later}, headers=headers)

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "scheduled"
    # The worker that had claimed them finds out at its next guarded write.
    for post_id in (first, second):
        assert (
            await world.queue.steps.start_attempt(claims[post_id], "w", utc_now(), interrupted="-")
            is None
        )
        assert (await world.read(post_id)).claimed_by is None
    assert world.emulator.count_requests(endpoint="video_init") == 0


async def test_a_started_post_cannot_be_cancelled(world: World, client: httpx.AsyncClient) -> None:
    headers, user_id = await alice(client)
    post_id = await world.post(user_id, await world.account(user_id), None)
    [claim] = await world.queue.claim("w", 1, utc_now(), timedelta(60))
    assert await world.queue.steps.start_attempt(claim, "w", utc_now(), interrupted="-") is not None

    response = await client.post(f"/posts/{post_id}/cancel", headers=headers)

    assert response.status_code == 409
    assert (await world.read(post_id)).status == "publishing"


async def test_health_reports_the_scheduler(
    world: World, workers: Workers, client: httpx.AsyncClient
) -> None:
    user_id = await world.user()
    account_id = await world.account(user_id)
    await world.post(user_id, account_id, None, at=utc_now() - timedelta(seconds=30))

    async def counted() -> bool:  # the summary may be up to a second old (its `as_of`)
        return (await client.get("/health")).json()["scheduler"]["due_unclaimed"] == 1

    await eventually(counted)
    before = (await client.get("/health")).json()["scheduler"]
    assert before["due_unclaimed"] == 1
    assert before["oldest_due_lag_seconds"] >= 30
    assert before["workers"] == []

    dispatcher = workers.start()

    async def beating() -> bool:
        scheduler = (await client.get("/health")).json()["scheduler"]
        return scheduler["alive_workers"] == 1 and scheduler["due_unclaimed"] == 0

    await eventually(beating)
    [worker] = (await client.get("/health")).json()["scheduler"]["workers"]
    assert worker["worker_id"] == dispatcher.worker_id
    assert worker["alive"] is True
    assert "last_heartbeat_at" in worker


async def test_due_signal_wakes_listeners_after_commit(world: World, app: FastAPI) -> None:
    wakeup = Wakeup()
    signal = DueSignal(horizon=timedelta(seconds=5), local=wakeup)
    listener = (
        PgListener(app.state.services.settings.database.url, wakeup)
        if app.state.services.engine.dialect.name == "postgresql"
        else None
    )
    if listener is not None:
        listener.start()
        await wakeup.wait(5)  # connected (it wakes once on connect)
    try:
        async with app.state.services.sessionmaker() as session, session.begin():
            await signal.post_due(session, utc_now() + timedelta(hours=1))  # not soon: silent
        assert not await wakeup.wait(0.3)
        async with app.state.services.sessionmaker() as session:
            async with session.begin():
                await signal.post_due(session, utc_now())
                await asyncio.sleep(0.1)
                assert not wakeup._event.is_set()  # not before the commit
        assert await wakeup.wait(5)
    finally:
        if listener is not None:
            await listener.aclose()
