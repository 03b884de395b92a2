"""Prompt wake-ups: a post that becomes due soon wakes the dispatchers, wherever they run.

Dispatchers poll every `TIKTIMER_SCHEDULER_POLL_SECONDS` and sleep no longer than until the
next known due time, so nothing depends on a wake-up being delivered; wake-ups only cut
the latency of posts created or moved to "now". On PostgreSQL the request's transaction
runs `pg_notify('tiktimer_due', …)`, delivered to every listening worker when it commits;
an in-process dispatcher (SQLite) is woken through an asyncio event after the commit.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.db.dialect import listen_until_lost, notify
from tiktimer.kit.time import utc_now

log = logging.getLogger("tiktimer.scheduler")

CHANNEL = "tiktimer_due"


class Wakeup:
    """What a dispatcher sleeps on between claim rounds (loop-bound; set it from the loop)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    async def wait(self, seconds: float) -> bool:
        """True when woken, False when `seconds` passed; clears the signal either way."""
        try:
            async with asyncio.timeout(max(0.0, seconds)):
                await self._event.wait()
            return True
        except TimeoutError:
            return False
        finally:
            self._event.clear()


class DueSignal:
    """Told by the posts service when a post became due soon (created, moved, publish now)."""

    def __init__(self, *, horizon: timedelta, local: Wakeup | None = None) -> None:
        self.horizon = horizon
        self.local = local

    async def post_due(self, session: AsyncSession, due_at: datetime) -> None:
        if due_at - utc_now() > self.horizon:
            return  # a dispatcher's poll finds it in time
        await notify(session, CHANNEL)  # PostgreSQL: other processes' dispatchers
        if self.local is not None:
            wakeup = self.local
            event.listen(session.sync_session, "after_commit", lambda _: wakeup.set(), once=True)


class PgListener:
    """LISTEN (PostgreSQL) on a dedicated connection, reconnecting with backoff when it drops."""

    def __init__(self, database_url: str, wakeup: Wakeup) -> None:
        self._database_url = database_url
        self._wakeup = wakeup
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="tiktimer-listen")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        delay = 0.5
        while True:
            try:
                # Listen until the connection drops; set the wakeup on each notification.
                await listen_until_lost(self._database_url, CHANNEL, self._wakeup.set)
                delay = 0.5
                log.warning("scheduler.listen.lost: reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # polling carries on meanwhile; never give up listening
                log.warning("scheduler.listen.unavailable error=%s retry_in=%.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
