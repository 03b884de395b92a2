"""Each TikTok event applied to the matching post or account."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from tests.publishing.helpers import read_post
from tests.webhooks.conftest import deliver, envelope, publishing_post
from tiktimer.models import Post, PostStatus, SocialAccount
from tiktimer.platforms.tiktok import fail_reasons
from tiktimer.platforms.tiktok.emulator import Emulator
from tiktimer.posts.queue.outcomes import mark_unconfirmed

PUBLISH_ID = "v_pub_file~v2-1.7"
BIG_ID = 7_412_345_678_901_234_567  # > 2**53: a float would change it


def content(**extra: Any) -> dict[str, Any]:
    return {"publish_id": PUBLISH_ID, "publish_type": "DIRECT_POST", **extra}


async def send(client: httpx.AsyncClient, event: str, **extra: Any) -> str:
    response = await deliver(client, envelope(event, content(**extra)))
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status


@pytest.fixture
async def post_id(client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str]) -> int:
    return await publishing_post(client, app, alice, PUBLISH_ID)


async def test_complete_then_publicly_available(
    client: httpx.AsyncClient, app: FastAPI, post_id: int
) -> None:
    assert await send(client, "post.publish.complete") == "published"
    post = await read_post(app, post_id)
    assert (post.status, post.platform_status) == ("published", "PUBLISH_COMPLETE")
    assert post.published_at is not None
    assert await send(client, "post.publish.publicly_available", post_id=BIG_ID) == (
        "post_id_added"
    )
    post = await read_post(app, post_id)
    assert post.platform_post_ids == [str(BIG_ID)]
    assert post.platform_post_id == str(BIG_ID)
    assert await send(client, "post.publish.no_longer_publicaly_available") == "noted"
    assert (await read_post(app, post_id)).platform_status == "NO_LONGER_PUBLICLY_AVAILABLE"


async def test_publicly_available_first_settles_with_the_id_as_a_string(
    client: httpx.AsyncClient, app: FastAPI, post_id: int
) -> None:
    assert await send(client, "post.publish.publicly_available", post_id=str(BIG_ID)) == (
        "published"
    )
    assert (await read_post(app, post_id)).platform_post_ids == [str(BIG_ID)]


async def test_inbox_delivered_then_the_creator_posts_it(
    client: httpx.AsyncClient, app: FastAPI, post_id: int
) -> None:
    assert await send(client, "post.publish.inbox_delivered", publish_type="INBOX_SHARE") == (
        "in_inbox"
    )
    post = await read_post(app, post_id)
    assert (post.status, post.platform_status) == ("published", "SEND_TO_USER_INBOX")
    assert await send(client, "post.publish.complete", publish_type="INBOX_SHARE") == "noted"
    assert (await read_post(app, post_id)).platform_status == "PUBLISH_COMPLETE"


async def test_failed_in_words_the_user_understands(
    client: httpx.AsyncClient, app: FastAPI, post_id: int
) -> None:
    assert await send(client, "post.publish.failed", reason="duration_check_failed") == "failed"
    post = await read_post(app, post_id)
    assert post.status == "failed"
    assert post.platform_fail_reason == "duration_check_failed"
    assert post.last_error == fail_reasons.describe("duration_check_failed")
    assert "too long" in (post.last_error or "")


async def test_retryable_failures_are_left_to_the_poller(
    client: httpx.AsyncClient, app: FastAPI, post_id: int
) -> None:
    assert await send(client, "post.publish.failed", reason="internal") == "left_to_polling"
    assert (await read_post(app, post_id)).status == "publishing"


async def test_a_late_webhook_settles_an_unconfirmed_post(
    client: httpx.AsyncClient, app: FastAPI, post_id: int
) -> None:
    async with app.state.services.sessionmaker() as session, session.begin():
        assert await mark_unconfirmed(session, post_id, "TikTok has not confirmed it")
    post = await read_post(app, post_id)
    assert (post.status, post.last_error_code) == ("unconfirmed", "not_confirmed")
    assert await send(client, "post.publish.complete") == "published"
    post = await read_post(app, post_id)
    assert (post.status, post.last_error) == ("published", None)


async def test_unknown_publish_ids_and_events_are_acknowledged(
    client: httpx.AsyncClient, app: FastAPI, post_id: int
) -> None:
    other = envelope("post.publish.complete", {"publish_id": "v_pub_file~v2-1.999"})
    assert (await deliver(client, other)).json() == {"status": "unknown_publish_id"}
    assert (await deliver(client, envelope("video.upload.failed", {}))).json() == {
        "status": "ignored"
    }
    assert (await read_post(app, post_id)).status == "publishing"


async def test_settled_posts_are_not_reopened(
    client: httpx.AsyncClient, app: FastAPI, post_id: int
) -> None:
    async with app.state.services.sessionmaker() as session, session.begin():
        await session.execute(
            update(Post).where(Post.id == post_id).values(status=PostStatus.cancelled)
        )
    assert await send(client, "post.publish.complete") == "already_settled"
    assert (await read_post(app, post_id)).status == "cancelled"


async def test_authorization_removed_flags_the_account(
    client: httpx.AsyncClient, app: FastAPI, account: int, emulator: Emulator
) -> None:
    async with app.state.services.sessionmaker() as session:
        stored = await session.get(SocialAccount, account)
        assert stored is not None
        open_id = stored.open_id
    body = envelope("authorization.removed", {"reason": 1}, user_openid=open_id)
    response = await deliver(client, body)
    assert response.json() == {"status": "account_reauth_required"}
    async with app.state.services.sessionmaker() as session:
        stored = await session.get(SocialAccount, account)
        assert stored is not None
        assert stored.status == "reauth_required"
        assert "disconnected TikTimer" in (stored.status_reason or "")
