"""Issue 5.5 end to end: the scheduler's dispatcher publishes through the TikTok publisher,
polls within bounds, gives up with an honest "not confirmed by TikTok", and TikTok's late
webhook still settles the post. Publishing goes through `POST /api/v1/tiktok/posts/{id}/publish`,
the scheduler's one publishing path."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.publishing.helpers import create_post, read_post, stored_media, user_id, wait_for
from tiktimer.platforms.tiktok.emulator import Emulator
from tiktimer.posts.dispatch.dispatcher import Dispatcher, DispatcherOptions
from tiktimer.posts.machine.context import MachineContext
from tiktimer.posts.machine.retry import PollPolicy, RetryPolicy
from tiktimer.posts.queue.wakeup import Wakeup

IMPATIENT = PollPolicy(first_seconds=0.05, max_seconds=0.05, timeout_seconds=0.1)


@pytest.fixture
async def dispatcher(app: FastAPI) -> AsyncIterator[Dispatcher]:
    state = app.state.services
    context = MachineContext(
        queue=state.post_queue,
        platforms=state.publishing.platforms(state.pacer),
        pacer=state.pacer,
        accounts=state.account_tokens,
        retry=RetryPolicy(max_attempts=2, base_seconds=0.05, cap_seconds=0.1),
        poll=IMPATIENT,
        worker_id="give-up-test",
    )
    options = DispatcherOptions(
        concurrency=2,
        batch_size=2,
        poll_seconds=0.05,
        lease_seconds=6,
        heartbeat_seconds=0.5,
        shutdown_grace_seconds=5,
    )
    running = Dispatcher(context, options, Wakeup())
    task = asyncio.create_task(running.run())
    yield running
    running.stop()
    await task


async def test_polling_gives_up_honestly_and_a_late_webhook_settles_the_post(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: dict[str, str],
    account: int,
    emulator: Emulator,
    dispatcher: Dispatcher,
) -> None:
    delivered = len(emulator.webhook_deliveries())  # reset() keeps past deliveries
    media_id, _ = await stored_media(app, await user_id(client, alice), 2_000_000)
    post = await create_post(client, alice, social_account_id=account, media_id=media_id)
    response = await client.post(f"/api/v1/tiktok/posts/{post['id']}/publish", headers=alice)
    assert response.status_code == 202, response.text

    # TikTok processes for 1.5 s; the dispatcher stops asking after 0.1 s.
    unconfirmed = await wait_for(app, post["id"], "unconfirmed")
    assert unconfirmed.last_error_code == "not_confirmed"
    assert "has not confirmed this post" in (unconfirmed.last_error or "")
    assert unconfirmed.claimed_by is None
    assert emulator.count_publications() == 1  # given up waiting, never posted twice

    published = await wait_for(app, post["id"], "published")  # TikTok's webhook, later
    assert published.platform_status == "PUBLISH_COMPLETE"
    assert published.last_error is None
    assert emulator.count_publications() == 1
    assert [e.event for e in emulator.webhook_deliveries()[delivered:]] == ["post.publish.complete"]
    assert (await read_post(app, post["id"])).platform_publish_id == (
        emulator.publications()[0].publish_id
    )
