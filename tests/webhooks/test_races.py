"""Polling and webhooks never fight: whichever settles a post first wins, the other is a
no-op, whatever the order or timing; and TikTok's own deliveries settle real publishes."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from tests.publishing.helpers import (
    create_post,
    job_for,
    mark_publishing,
    read_post,
    start,
    stored_media,
    user_id,
    wait_for,
    wait_until,
)
from tests.webhooks.conftest import deliver, envelope, publishing_post
from tiktimer.models import Post, SocialAccount
from tiktimer.platforms.contract import OutcomeState, PublishOutcome
from tiktimer.platforms.tiktok.emulator import SANDBOX_CLIENT_KEY, Emulator
from tiktimer.platforms.tiktok.publisher import TikTokPublisher
from tiktimer.posts.queue.outcomes import MAX_LOG_IDS, apply_outcome

PUBLISHED = PublishOutcome(OutcomeState.published, platform_status="PUBLISH_COMPLETE")


async def poll_applies(app: FastAPI, post_id: int, outcome: PublishOutcome) -> bool:
    async with app.state.services.sessionmaker() as session, session.begin():
        applied: bool = await apply_outcome(session, post_id, outcome)
        return applied


async def webhook_fails(client: httpx.AsyncClient, publish_id: str) -> bool:
    body = envelope(
        "post.publish.failed",
        {"publish_id": publish_id, "publish_type": "DIRECT_POST", "reason": "spam_risk"},
    )
    response = await deliver(client, body)
    assert response.status_code == 200, response.text
    return bool(response.json()["status"] == "failed")


async def test_webhook_first_then_poll(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str]
) -> None:
    post_id = await publishing_post(client, app, alice, "v_pub_file~v2-1.1")
    assert await webhook_fails(client, "v_pub_file~v2-1.1")
    assert not await poll_applies(app, post_id, PUBLISHED)
    assert (await read_post(app, post_id)).status == "failed"


async def test_poll_first_then_webhook(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str]
) -> None:
    post_id = await publishing_post(client, app, alice, "v_pub_file~v2-1.1")
    assert await poll_applies(app, post_id, PUBLISHED)
    assert not await webhook_fails(client, "v_pub_file~v2-1.1")
    post = await read_post(app, post_id)
    assert (post.status, post.last_error) == ("published", None)


@pytest.mark.parametrize("round_", range(8))
async def test_simultaneous_poll_and_webhook_settle_once(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], round_: int
) -> None:
    publish_id = f"v_pub_file~v2-1.{round_}"
    post_id = await publishing_post(client, app, alice, publish_id)
    polled, hooked = await asyncio.gather(
        poll_applies(app, post_id, PUBLISHED), webhook_fails(client, publish_id)
    )
    assert polled != hooked  # exactly one of them settled the post
    post = await read_post(app, post_id)
    assert post.status == ("published" if polled else "failed")
    if polled:
        assert post.platform_fail_reason is None
    else:
        assert post.published_at is None


async def test_tiktoks_deliveries_settle_a_publish_and_polling_finds_nothing_to_do(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: dict[str, str],
    account: int,
    emulator: Emulator,
    publisher: TikTokPublisher,
) -> None:
    delivered = len(emulator.webhook_deliveries())  # reset() keeps past deliveries
    media_id, _ = await stored_media(app, await user_id(client, alice), 2_000_000)
    post = await create_post(client, alice, social_account_id=account, media_id=media_id)
    await mark_publishing(app, post["id"])
    publish_ids: list[str] = []
    publish_id = await start(app, publisher, post["id"], publish_ids)
    emulator.advance_clock(2)  # TikTok finishes processing; its webhook follows

    settled = await wait_for(app, post["id"], "published")

    assert settled.platform_status == "PUBLISH_COMPLETE"

    async def deliveries() -> list[str]:
        return [e.event for e in emulator.webhook_deliveries()[delivered:]]

    # The emulator records a delivery when the app's 200 reaches it, after the app committed.
    await wait_until(deliveries, ["post.publish.complete"])
    outcome = await publisher.check(await job_for(app, post["id"]), publish_id)
    assert outcome.state is OutcomeState.published
    assert not await poll_applies(app, post["id"], outcome)  # the webhook was first
    assert emulator.count_publications() == 1


async def test_tiktoks_inbox_and_authorization_deliveries(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: dict[str, str],
    account: int,
    emulator: Emulator,
    publisher: TikTokPublisher,
) -> None:
    media_id, _ = await stored_media(app, await user_id(client, alice), 2_000_000)
    post = await create_post(
        client, alice, social_account_id=account, media_id=media_id, post_mode="inbox"
    )
    await mark_publishing(app, post["id"])
    publish_id = await start(app, publisher, post["id"], [])
    emulator.advance_clock(2)
    drafted = await wait_for(app, post["id"], "published")
    assert drafted.platform_status == "SEND_TO_USER_INBOX"

    emulator.simulate_user_post(publish_id)  # the creator posts the draft in the app
    await wait_until(lambda: _platform_status(app, post["id"]), "PUBLISH_COMPLETE")
    [public] = emulator.publication(publish_id).post_ids  # posted publicly: its id follows
    await wait_until(lambda: _post_ids(app, post["id"]), [str(public)])

    emulator.remove_authorization(SANDBOX_CLIENT_KEY, "creator_one")
    await wait_until(lambda: _account_status(app, account), "reauth_required")


async def _platform_status(app: FastAPI, post_id: int) -> str | None:
    return (await read_post(app, post_id)).platform_status


async def _post_ids(app: FastAPI, post_id: int) -> list[str]:
    return (await read_post(app, post_id)).platform_post_ids


async def _account_status(app: FastAPI, account_id: int) -> str:
    async with app.state.services.sessionmaker() as session:
        account = await session.get(SocialAccount, account_id)
        assert account is not None
        return account.status


async def test_settling_keeps_each_log_id_once_and_only_the_newest(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str]
) -> None:
    post_id = await publishing_post(client, app, alice, "v_pub_file~v2-1.9")
    older = [f"log-{n}" for n in range(25)]
    async with app.state.services.sessionmaker() as session, session.begin():
        post = await session.get(Post, post_id)
        assert post is not None
        post.platform_log_ids = [*older, "log-3"]
    verdict = PublishOutcome(OutcomeState.published, log_id="log-24")

    assert await poll_applies(app, post_id, verdict)
    assert not await poll_applies(app, post_id, PUBLISHED)

    settled = await read_post(app, post_id)
    assert settled.status == "published"
    assert settled.platform_log_ids == older[-MAX_LOG_IDS:]
