"""The worker's job: route new events, then send due deliveries, signed, with retries.

Runs beside the dispatcher as one of its chores (`tiktimer worker`, and `tiktimer serve`
with the in-process scheduler), never in a request. A delivery is a POST of the event's
JSON to the endpoint's URL through the SSRF guard (TIKTIMER_FETCH_ALLOW), without
following redirects; any 2xx is delivered, anything else is tried again after the
project's `Backoff` (full jitter) until MAX_ATTEMPTS tries were made.

Nothing secret is logged or stored: the log has ids and status codes, never the URL
(it may carry a token), the secret or the receiver's body.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
from datetime import datetime, timedelta
from typing import Any

import httpx

from tiktimer.db.dialect import Writes
from tiktimer.kit.backoff import Backoff
from tiktimer.kit.crypto import TokenCipher
from tiktimer.kit.safe_fetch import FetchPolicy, guarded_client
from tiktimer.kit.time import utc_now
from tiktimer.notifications import queue
from tiktimer.notifications.signing import HEADER, signature

log = logging.getLogger("tiktimer.notifications")

MAX_ATTEMPTS = 8
RETRIES = Backoff(initial=30.0, factor=2.0, maximum=3600.0, minimum=5.0, jitter=0.5)
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
TOTAL_SECONDS = 15.0
LEASE = timedelta(seconds=60)  # well beyond TOTAL_SECONDS: a lease never runs out mid-send
KEEP = timedelta(days=30)  # events and deliveries older than this are deleted
BATCH = 20
ERROR_MAX = 300


def event_body(event: dict[str, Any]) -> bytes:
    """The JSON a receiver gets; the same bytes on every try of one delivery."""
    created: datetime = event["created_at"]
    document = {
        "id": f"evt_{event['id']}",
        "type": event["type"],
        "created_at": created.isoformat().replace("+00:00", "Z"),
        "data": {
            "post_id": event["post_id"],
            "account_id": event["account_id"],
            "detail": event["detail"],
        },
    }
    return json.dumps(document, separators=(",", ":")).encode()


class Notifier:
    """Sends notifications; `run_once` is the chore, safe in every worker at once."""

    def __init__(
        self,
        writes: Writes,
        cipher: TokenCipher,
        policy: FetchPolicy,
        *,
        retries: Backoff = RETRIES,
        worker_id: str | None = None,
        total_seconds: float = TOTAL_SECONDS,
    ) -> None:
        self.writes = writes
        self.total_seconds = total_seconds
        self.cipher = cipher
        self.policy = policy
        self.retries = retries
        self.worker_id = worker_id or f"notify:{socket.gethostname()}:{os.getpid()}:{id(self)}"

    async def run_once(self) -> int:
        """Route what is new and send what is due; how many deliveries were tried."""
        now = utc_now()
        async with self.writes.engine.connect() as connection:
            if not await queue.has_work(connection, now):
                return 0
        while await queue.route_events(self.writes, now, limit=100):
            pass
        jobs = await queue.claim_due(self.writes, self.worker_id, now, LEASE, BATCH)
        if not jobs:
            return 0
        async with guarded_client(self.policy, timeout=TIMEOUT, follow_redirects=False) as client:
            await asyncio.gather(*(self._send(client, job) for job in jobs))
        return len(jobs)

    async def prune(self) -> int:
        """Delete events (and their deliveries) older than KEEP; how many events went."""
        return await queue.prune(self.writes, utc_now() - KEEP)

    async def _send(self, client: httpx.AsyncClient, job: queue.Job) -> None:
        body = event_body(job.event)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "TikTimer-Webhooks/1",
            "TikTimer-Event": str(job.event["type"]),
            "TikTimer-Delivery": str(job.delivery_id),
            HEADER: signature(self.cipher.decrypt(job.secret_encrypted), body, int(time.time())),
        }
        code: int | None = None
        error: str | None = None
        try:
            # The answer's body is never read (it could be endless), and the whole try
            # ends well inside the lease, so no other worker can take the delivery meanwhile.
            async with asyncio.timeout(self.total_seconds):
                request = client.stream("POST", job.url, content=body, headers=headers)
                async with request as response:
                    code = response.status_code
        except httpx.HTTPError as exc:
            error = _describe(exc)
        except TimeoutError:
            error = f"no answer within {self.total_seconds:g} s"
        await self._record(job, code, error)

    async def _record(self, job: queue.Job, code: int | None, error: str | None) -> None:
        now = utc_now()
        attempts = job.attempts + 1
        delivered = code is not None and 200 <= code < 300
        if not delivered and error is None:
            error = f"the endpoint answered HTTP {code}"
        values: dict[str, Any] = {
            "attempts": attempts,
            "last_attempt_at": now,
            "last_status_code": code,
            "last_error": error,
        }
        if delivered:
            values |= {"status": queue.DELIVERED, "delivered_at": now, "next_attempt_at": None}
        elif attempts >= MAX_ATTEMPTS:
            values |= {"status": queue.FAILED, "next_attempt_at": None}
        else:
            delay = self.retries.delay(attempts - 1)
            values["next_attempt_at"] = now + timedelta(seconds=delay)
        kept = await queue.record_try(self.writes, job.delivery_id, self.worker_id, values)
        log.info(
            "notifications.delivery id=%d attempt=%d status=%s code=%s kept=%s",
            job.delivery_id,
            attempts,
            values.get("status", queue.PENDING),
            code,
            kept,
        )


def _describe(exc: httpx.HTTPError) -> str:
    """Why a try failed, in words without the URL (which may carry a token)."""
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str):
        return reason[:ERROR_MAX]
    kind = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer in time ({kind})"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect to the endpoint"
    return f"the request failed ({kind})"
