"""Content Posting webhooks (§9): `post.publish.*` events signed with the client secret.

Statuses are derived from the clock, so a small background loop looks for newly reached
states, queues one event per state in the `Outbox` (part of the persisted state) and
delivers it. A receiver that does not answer 200 gets the event again later with
exponential backoff (delivery is at-least-once). A process claims a delivery for
`CLAIM_SECONDS` before sending it, so processes sharing the state do not send it twice.
Timestamps are real time, not the emulator clock, because receivers check them against
their own clocks. Events carry no secret: the sender signs with the client's secret.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from .config import ClientConfig
from .enums import PostMode, PublishStatus
from .lifecycle import StatusView
from .models import PublishTask

POLL_SECONDS = 0.05
MAX_ATTEMPTS = 10
MAX_BACKOFF_SECONDS = 3600.0
CLAIM_SECONDS = 30.0

log = logging.getLogger("tiktimer.sandbox")


@dataclass(frozen=True)
class WebhookEvent:
    client_key: str
    event: str
    user_openid: str
    content: dict[str, Any]
    create_time: int = field(default_factory=lambda: int(time.time()))

    def body(self) -> bytes:
        """The same bytes on every attempt, so receivers can dedupe retries."""
        envelope = {
            "client_key": self.client_key,
            "event": self.event,
            "create_time": self.create_time,
            "user_openid": self.user_openid,
            "content": json.dumps(self.content),  # a JSON *string*, as TikTok sends it
        }
        return json.dumps(envelope).encode()


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},s={digest}"


def events_for(task: PublishTask, view: StatusView) -> list[tuple[str, dict[str, Any]]]:
    """Every event this task has earned by now, keyed by name (deduplicated by the caller)."""
    publish_type = "DIRECT_POST" if task.mode is PostMode.DIRECT_POST else "INBOX_SHARE"
    base = {"publish_id": task.publish_id, "publish_type": publish_type}
    events: list[tuple[str, dict[str, Any]]] = []
    if view.status is PublishStatus.FAILED:
        events.append(("post.publish.failed", base | {"reason": view.fail_reason}))
    if view.delivered_at is not None:
        events.append(("post.publish.inbox_delivered", base))
    if view.status is PublishStatus.PUBLISH_COMPLETE:
        events.append(("post.publish.complete", base))
    for post_id in view.post_ids:
        events.append(("post.publish.publicly_available", base | {"post_id": post_id}))
    return events


def unsent_events(
    views: Iterable[tuple[PublishTask, StatusView]], clients: Mapping[str, ClientConfig]
) -> list[WebhookEvent]:
    """Events earned since the last call; each task remembers which ones it has sent."""
    events = []
    for task, view in views:
        client = clients.get(task.client_key)
        for name, content in events_for(task, view):
            if client is None or name in task.events_sent:
                continue
            task.events_sent.add(name)
            events.append(
                WebhookEvent(
                    client_key=client.client_key,
                    event=name,
                    user_openid=task.open_id,
                    content=content,
                )
            )
    return events


@dataclass
class Delivery:
    id: int
    event: WebhookEvent
    attempts: int = 0
    next_at: float = 0.0  # wall-clock seconds
    claimed_until: float | None = None  # a process is sending it until then


@dataclass
class Outbox:
    """Deliveries not yet acknowledged (persisted with the rest of the state)."""

    pending: list[Delivery] = field(default_factory=list)
    next_id: int = 0

    def add(self, events: Iterable[WebhookEvent]) -> None:
        for event in events:
            self.next_id += 1
            self.pending.append(Delivery(self.next_id, event))

    def claim_due(self, now: float) -> list[Delivery]:
        """Due deliveries nobody is sending, claimed for `CLAIM_SECONDS`."""
        due = [
            d
            for d in self.pending
            if d.next_at <= now and (d.claimed_until is None or d.claimed_until <= now)
        ]
        for delivery in due:
            delivery.claimed_until = now + CLAIM_SECONDS
        return [Delivery(d.id, d.event, d.attempts, d.next_at, d.claimed_until) for d in due]

    def settle(self, delivery_id: int, delivered: bool, now: float) -> None:
        """Drop a delivered (or given-up) event; schedule a retry with backoff otherwise."""
        found = [d for d in self.pending if d.id == delivery_id]
        if not found:
            return
        delivery = found[0]
        delivery.claimed_until = None
        delivery.attempts += 1
        if delivered or delivery.attempts >= MAX_ATTEMPTS:
            self.pending.remove(delivery)
            return
        delivery.next_at = now + min(2.0**delivery.attempts * 0.1, MAX_BACKOFF_SECONDS)

    def clear(self) -> None:
        self.pending.clear()


TakeDue = Callable[[], Awaitable[list[tuple[Delivery, str]]]]
Settle = Callable[[list[tuple[Delivery, bool]]], Awaitable[None]]


class WebhookSender:
    """Polls the outbox, signs and posts due events to `url`, reports each outcome back."""

    def __init__(
        self,
        url: str,
        *,
        take_due: TakeDue,
        settle: Settle,
        transport: httpx.AsyncBaseTransport | None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._url = url
        self._take_due = take_due
        self._settle = settle
        self._transport = transport
        self._poll_seconds = poll_seconds
        self._task: asyncio.Task[None] | None = None
        self.delivered: list[WebhookEvent] = []

    def ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        async with httpx.AsyncClient(transport=self._transport) as client:
            while True:
                try:
                    await self._round(client)
                except Exception as exc:  # the state store is down: try again later
                    log.warning("sandbox.webhooks.round_failed error=%s", type(exc).__name__)
                await asyncio.sleep(self._poll_seconds)

    async def _round(self, client: httpx.AsyncClient) -> None:
        batch = await self._take_due()
        if not batch:
            return
        outcomes = [
            (delivery, await self._post(client, delivery.event, secret))
            for delivery, secret in batch
        ]
        # The receiver has these whether or not the outcome can be stored now (a failed
        # settle only means they are sent again once their claim runs out).
        self.delivered.extend(d.event for d, ok in outcomes if ok)
        await self._settle(outcomes)

    async def _post(self, client: httpx.AsyncClient, event: WebhookEvent, secret: str) -> bool:
        body = event.body()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "TikTok-Signature": signature_header(secret, body, timestamp),
        }
        try:
            response = await client.post(self._url, content=body, headers=headers)
        except httpx.HTTPError:
            return False
        return response.status_code == 200
