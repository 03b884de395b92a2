"""`AuditLog`: audit rows written off the request path, in batches, on their own transactions.

For events whose request does not commit (a refused login rolls back) or that happen in bulk
(a password-guessing storm): the request only appends to a list; one task inserts what has
gathered with a single statement, so a storm costs a few writes a second, not one per guess.
A failed write is logged and dropped: the audit log never fails or slows a request. Past
`capacity` pending rows (the database is down), new ones are dropped and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Unpack

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from tiktimer.audit.events import Event, Outcome, Who, entry
from tiktimer.models import AuditEvent

log = logging.getLogger("tiktimer.audit")

BATCH_ROWS = 500
CAPACITY_ROWS = 10_000
CLOSE_TIMEOUT_SECONDS = 5.0


class AuditLog:
    def __init__(
        self, engine: AsyncEngine, *, capacity: int = CAPACITY_ROWS, batch: int = BATCH_ROWS
    ) -> None:
        self._engine = engine
        self._capacity = capacity
        self._batch = batch
        self._pending: list[dict[str, Any]] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def record(self, event: Event, outcome: Outcome = Outcome.success, **who: Unpack[Who]) -> None:
        """Queue one row; returns at once."""
        if len(self._pending) >= self._capacity:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("audit.dropped rows=%d: the audit writer is behind", self.dropped)
            return
        self._pending.append(entry(event, outcome, **who))
        self._idle.clear()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="audit-writer")
        self._wake.set()

    async def flush(self) -> None:
        """Wait until every row queued so far is written (or dropped)."""
        await self._idle.wait()

    async def aclose(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.flush(), CLOSE_TIMEOUT_SECONDS)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                rows, self._pending = self._pending[: self._batch], self._pending[self._batch :]
                await self._write(rows)
            self._idle.set()

    async def _write(self, rows: list[dict[str, Any]]) -> None:
        try:
            async with self._engine.begin() as connection:
                await connection.execute(insert(AuditEvent), rows)
        except Exception as exc:  # auditing never breaks the service
            self.dropped += len(rows)
            log.warning("audit.write_failed rows=%d error=%s", len(rows), type(exc).__name__)
