"""Content Posting webhooks (§9): `post.publish.*` events signed with the client secret.

Statuses are derived from the clock, so a small background loop looks for newly reached
states, queues one event per state and delivers it. A receiver that does not answer 200
gets the event again later with exponential backoff (delivery is at-least-once).
Timestamps are real time, not the emulator clock, because receivers check them against
their own clocks.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterable, Mapping
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


@dataclass(frozen=True)
class WebhookEvent:
    client_key: str
    client_secret: str
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
                    client_secret=client.client_secret,
                    event=name,
                    user_openid=task.open_id,
                    content=content,
                )
            )
    return events


@dataclass
class _Pending:
    event: WebhookEvent
    attempts: int = 0
    next_at: float = 0.0


class WebhookSender:
    """Polls for events, signs and posts them to `url`, retrying until the receiver says 200."""

    def __init__(
        self,
        url: str,
        collect: Callable[[], list[WebhookEvent]],
        transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        self._url = url
        self._collect = collect
        self._transport = transport
        self._pending: list[_Pending] = []
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
                self._pending.extend(_Pending(event) for event in self._collect())
                await self._deliver_due(client)
                await asyncio.sleep(POLL_SECONDS)

    async def _deliver_due(self, client: httpx.AsyncClient) -> None:
        now = time.monotonic()
        for pending in [p for p in self._pending if p.next_at <= now]:
            if await self._post(client, pending.event):
                self._pending.remove(pending)
                self.delivered.append(pending.event)
                continue
            pending.attempts += 1
            pending.next_at = now + min(2.0**pending.attempts * 0.1, MAX_BACKOFF_SECONDS)
            if pending.attempts >= MAX_ATTEMPTS:
                self._pending.remove(pending)

    async def _post(self, client: httpx.AsyncClient, event: WebhookEvent) -> bool:
        body = event.body()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "TikTok-Signature": signature_header(event.client_secret, body, timestamp),
        }
        try:
            response = await client.post(self._url, content=body, headers=headers)
        except httpx.HTTPError:
            return False
        return response.status_code == 200
