"""Optional webhooks: signed `post.publish.*` events, retried until the receiver says 200."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

import httpx

from tests.emulator.flows import AUDITED_KEY, SECRET, TikTok, make_config, serve


class Receiver:
    """Records webhook posts; can refuse the first one to exercise retries."""

    def __init__(self, *, refuse_first: bool = False) -> None:
        self.posts: list[httpx.Request] = []
        self.refuse_first = refuse_first

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.posts.append(request)
        refused = self.refuse_first and len(self.posts) == 1
        return httpx.Response(500 if refused else 200)


async def _wait_for(tiktok: TikTok, count: int) -> None:
    for _ in range(200):
        await tiktok.http.get("/_emulator/faults")  # any request keeps the loop running
        if len(tiktok.emulator.webhook_deliveries()) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"only {len(tiktok.emulator.webhook_deliveries())} deliveries")


async def test_publish_events_are_signed_and_retried() -> None:
    receiver = Receiver(refuse_first=True)
    config = make_config(
        processing_seconds=0,
        webhook_url="https://hooks.example.com/tiktok",
        webhook_transport=receiver.transport(),
    )
    async with serve(config) as tiktok:
        token = tiktok.tokens()
        data = await tiktok.publish_file(token)

        await _wait_for(tiktok, 2)

        delivered = sorted(event.event for event in tiktok.emulator.webhook_deliveries())
        assert delivered == ["post.publish.complete", "post.publish.publicly_available"]
        first = receiver.posts[0]
        retried = [r for r in receiver.posts[1:] if r.content == first.content]
        assert retried, "the refused event was not sent again"
        envelope = json.loads(first.content)
        assert envelope["client_key"] == AUDITED_KEY
        assert envelope["user_openid"] == tiktok.emulator.open_id(AUDITED_KEY, "alice")
        assert isinstance(envelope["content"], str)
        assert json.loads(envelope["content"])["publish_id"] == data["publish_id"]
        timestamp, signature = (
            part.split("=", 1)[1] for part in first.headers["TikTok-Signature"].split(",")
        )
        expected = hmac.new(
            SECRET.encode(), f"{timestamp}.".encode() + first.content, hashlib.sha256
        ).hexdigest()
        assert hmac.compare_digest(signature, expected)


async def test_failed_publish_and_removed_authorization_events() -> None:
    receiver = Receiver()
    config = make_config(
        processing_seconds=0,
        webhook_url="https://hooks.example.com/tiktok",
        webhook_transport=receiver.transport(),
    )
    async with serve(config) as tiktok:
        token = tiktok.tokens()
        tiktok.emulator.fail_next_publish("duration_check_failed")
        await tiktok.publish_file(token)
        tiktok.emulator.remove_authorization(AUDITED_KEY, "alice")

        await _wait_for(tiktok, 2)

        events = {event.event: event.content for event in tiktok.emulator.webhook_deliveries()}
        assert events["post.publish.failed"]["reason"] == "duration_check_failed"
        assert events["authorization.removed"] == {"reason": 1}
