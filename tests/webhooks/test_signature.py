"""Only TikTok's genuine, fresh deliveries are applied, and each only once."""

from __future__ import annotations

import time

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from tests.publishing.helpers import read_post
from tests.webhooks.conftest import URL, deliver, envelope, publishing_post
from tiktimer.models import WebhookEvent
from tiktimer.webhooks.signature import SignatureError, sign, verify

COMPLETE = {"publish_id": "v_pub_file~v2-1.1", "publish_type": "DIRECT_POST"}


async def event_count(app: FastAPI) -> int:
    async with app.state.services.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(WebhookEvent)) or 0)


async def test_a_genuine_delivery_is_applied(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str]
) -> None:
    post_id = await publishing_post(client, app, alice, "v_pub_file~v2-1.1")
    response = await deliver(client, envelope("post.publish.complete", COMPLETE))
    assert response.status_code == 200
    assert response.json() == {"status": "published"}
    assert (await read_post(app, post_id)).status == "published"


@pytest.mark.parametrize(
    "forgery",
    ["wrong_secret", "tampered_body", "no_header", "garbage_header", "empty_signature"],
)
async def test_forged_deliveries_change_nothing(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], forgery: str
) -> None:
    post_id = await publishing_post(client, app, alice, "v_pub_file~v2-1.1")
    body = envelope("post.publish.complete", COMPLETE)
    now = int(time.time())
    match forgery:
        case "wrong_secret":
            response = await deliver(client, body, secret="not-the-client-secret")
        case "tampered_body":
            other = envelope("post.publish.failed", {**COMPLETE, "reason": "spam_risk"})
            response = await deliver(client, other, header=sign("x", body, now))
        case "no_header":
            response = await client.post(URL, content=body)
        case "garbage_header":
            response = await deliver(client, body, header="s=deadbeef")
        case _:
            response = await deliver(client, body, header=f"t={now},s=")
    assert response.status_code == 403
    assert (await read_post(app, post_id)).status == "publishing"
    assert await event_count(app) == 0


@pytest.mark.parametrize("skew", [-301, 301])
async def test_stale_or_future_timestamps_are_refused(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], skew: int
) -> None:
    post_id = await publishing_post(client, app, alice, "v_pub_file~v2-1.1")
    body = envelope("post.publish.complete", COMPLETE)
    response = await deliver(client, body, at=time.time() + skew)
    assert response.status_code == 403
    assert "tolerance" in response.json()["detail"]
    assert (await read_post(app, post_id)).status == "publishing"
    within = await deliver(client, body, at=time.time() - 290)
    assert within.status_code == 200


async def test_a_replayed_delivery_is_a_no_op(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str]
) -> None:
    post_id = await publishing_post(client, app, alice, "v_pub_file~v2-1.1")
    body = envelope("post.publish.failed", {**COMPLETE, "reason": "spam_risk_text"})
    first = await deliver(client, body)
    again = await deliver(client, body)  # TikTok retries with a fresh signature
    assert first.json() == {"status": "failed"}
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate"}
    assert await event_count(app) == 1
    assert (await read_post(app, post_id)).status == "failed"


async def test_malformed_bodies_and_other_apps(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str]
) -> None:
    assert (await deliver(client, b"not json")).status_code == 400
    assert (await deliver(client, b'{"no": "event"}')).status_code == 400
    bad_content = b'{"event": "post.publish.complete", "content": "{oops"}'
    assert (await deliver(client, bad_content)).status_code == 400
    other = envelope("post.publish.complete", COMPLETE, client_key="someone-else")
    assert (await deliver(client, other)).json() == {"status": "other_client"}
    huge = await deliver(client, b"x" * (65 * 1024))
    assert huge.status_code == 413


def test_verify_uses_the_timestamp_as_sent() -> None:
    body = b'{"event": "x"}'
    header = sign("secret", body, 1_700_000_000)
    assert verify(header, body, "secret", now=1_700_000_100, tolerance=300) == 1_700_000_000
    with pytest.raises(SignatureError):
        verify(header.replace("t=1", "t=01"), body, "secret", now=1_700_000_100, tolerance=300)
    upper = header.upper().replace("T=", "t=").replace("S=", "s=")
    assert verify(upper, body, "secret", now=1_700_000_100, tolerance=300)
