"""Each change a user wants to hear about records one event, in the same transaction."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from tests.fixtures.users import user_headers
from tests.notifications.conftest import API
from tests.publishing.helpers import connect_creator
from tests.webhooks.conftest import deliver, envelope, publishing_post
from tiktimer.kit.time import utc_now
from tiktimer.models import Post, SocialAccount
from tiktimer.platforms.contract import OutcomeState, PublishOutcome
from tiktimer.platforms.tiktok.emulator import Emulator
from tiktimer.posts.queue.outcomes import mark_unconfirmed

PUBLISH_ID = "v_pub_file~v2-1.42"


async def listed(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get(f"{API}/", headers=headers)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    assert response.headers["X-Total-Count"] == str(len(found))
    return found


async def tiktok_says(client: httpx.AsyncClient, event: str, **extra: Any) -> None:
    body = envelope(event, {"publish_id": PUBLISH_ID, "publish_type": "DIRECT_POST", **extra})
    assert (await deliver(client, body)).status_code == 200


async def test_a_webhook_that_publishes_a_post_records_it_once(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str]
) -> None:
    post_id = await publishing_post(client, app, alice, PUBLISH_ID)
    await tiktok_says(client, "post.publish.complete")
    await tiktok_says(client, "post.publish.complete")  # a replay settles nothing
    [event] = await listed(client, alice)
    assert (event["type"], event["post_id"], event["read_at"]) == ("post.published", post_id, None)


async def test_a_failed_post_says_why(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str]
) -> None:
    post_id = await publishing_post(client, app, alice, PUBLISH_ID)
    await tiktok_says(client, "post.publish.failed", reason="duration_check_failed")
    [event] = await listed(client, alice)
    assert (event["type"], event["post_id"]) == ("post.failed", post_id)
    assert "too long" in event["detail"]


async def test_the_schedulers_settle_and_give_up_record_events(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str]
) -> None:
    """The worker's one-statement settle (a CTE on PostgreSQL) and its unconfirmed path."""
    steps = app.state.services.post_queue.steps
    first = await publishing_post(client, app, alice, PUBLISH_ID)
    second = await publishing_post(client, app, alice, "v_pub_file~v2-1.43")
    outcome = PublishOutcome(OutcomeState.published, post_ids=["7"])
    assert await steps.settle(first, outcome, utc_now())
    assert not await steps.settle(first, outcome, utc_now())
    async with app.state.services.sessionmaker() as session, session.begin():
        assert await mark_unconfirmed(session, second, "TikTok has not confirmed it")
    found = [(e["type"], e["post_id"]) for e in await listed(client, alice)]
    assert found == [("post.unconfirmed", second), ("post.published", first)]


async def test_a_post_failed_by_its_worker_is_recorded(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str]
) -> None:
    post_id = await publishing_post(client, app, alice, PUBLISH_ID)
    async with app.state.services.sessionmaker() as session, session.begin():
        await session.execute(update(Post).where(Post.id == post_id).values(claimed_by="w1"))
    steps = app.state.services.post_queue.steps
    assert await steps.fail(post_id, "w1", None, utc_now(), code="x", message="It broke.")
    [event] = await listed(client, alice)
    assert (event["type"], event["post_id"], event["detail"]) == (
        "post.failed",
        post_id,
        "It broke.",
    )


async def test_an_account_that_needs_reconnecting_is_told_once(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], emulator: Emulator
) -> None:
    account = await connect_creator(client, alice, emulator)
    tokens = app.state.services.account_tokens
    await tokens.mark_reauth_required(account, "TikTok refused the refresh: invalid_grant")
    await tokens.mark_reauth_required(account, "TikTok refused it again")
    [event] = await listed(client, alice)
    assert (event["type"], event["account_id"]) == ("account.reconnect_needed", account)
    assert "invalid_grant" in event["detail"]


async def test_marking_read_and_other_users(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str]
) -> None:
    await publishing_post(client, app, alice, PUBLISH_ID)
    await tiktok_says(client, "post.publish.complete")
    bob = await user_headers(client, "bob")
    assert await listed(client, bob) == []
    response = await client.post(f"{API}/read", headers=alice)
    assert response.json() == {"marked": 1}
    [event] = await listed(client, alice)
    assert event["read_at"] is not None
    assert (await client.post(f"{API}/read", headers=alice)).json() == {"marked": 0}


async def test_tiktok_removing_the_authorization_is_recorded(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], emulator: Emulator
) -> None:
    account = await connect_creator(client, alice, emulator)
    async with app.state.services.sessionmaker() as session:
        stored = await session.get(SocialAccount, account)
        assert stored is not None
        open_id = stored.open_id
    body = envelope("authorization.removed", {"reason": 1}, user_openid=open_id)
    assert (await deliver(client, body)).json() == {"status": "account_reauth_required"}
    assert (await deliver(client, body)).json() == {"status": "duplicate"}
    [event] = await listed(client, alice)
    assert (event["type"], event["account_id"]) == ("account.reconnect_needed", account)
    assert "reconnect it" in event["detail"]
