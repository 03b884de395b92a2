"""A request's hold on one resumable upload: a lease in its database row, kept alive meanwhile.

The lease replaces the file lock of a single machine. Its holder renews it every third of
`LEASE`; if the holder dies, the upload is free again once the lease runs out. A holder
that cannot renew (the database away, the process stalled) stops taking bytes a third of
a lease before anyone else could take the upload, so two writers never overlap (given
machine clocks that agree within those ten seconds, as NTP keeps them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import anyio
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from tiktimer.errors import Conflict
from tiktimer.kit.time import utc_now
from tiktimer.media import upload_rows

log = logging.getLogger("tiktimer.media")

LEASE = timedelta(seconds=30)


class Claim:
    """The claim token of one request; `check` before each write that must be exclusive."""

    def __init__(self, engine: AsyncEngine, upload_id: str, token: str, lease: timedelta) -> None:
        self.engine = engine
        self.upload_id = upload_id
        self.token = token
        self.lease = lease
        self.released = False
        self._lost = False
        self._deadline = self._next_deadline()

    def check(self) -> None:
        """Refuse to go on once another request may have taken the upload."""
        if self._lost or time.monotonic() > self._deadline:
            raise Conflict("This upload was taken over by another request; resume from HEAD")

    async def save(self, values: dict[str, Any], *, release: bool) -> None:
        """Record new state under the claim; 409 if the claim was lost meanwhile."""
        self.check()
        saved = await upload_rows.save(
            self.engine, self.upload_id, self.token, values, release=release
        )
        if not saved:
            self._lost = True
            self.check()
        self.released = self.released or release

    async def keep(self) -> None:
        """Renew until cancelled; mark the claim lost if the row says it is someone else's."""
        while not self._lost:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            until = utc_now() + self.lease
            deadline = self._next_deadline()
            try:
                renewed = await upload_rows.renew(self.engine, self.upload_id, self.token, until)
            except Exception:  # the deadline stops the writer if this goes on
                log.warning("media.resumable.renew_failed upload_id=%s", self.upload_id)
                continue
            if renewed:
                self._deadline = deadline
            else:
                self._lost = True

    def _next_deadline(self) -> float:
        return time.monotonic() + self.lease.total_seconds() * 2 / 3


@asynccontextmanager
async def claimed(
    engine: AsyncEngine,
    upload_id: str,
    user_id: int,
    now: datetime,
    *,
    offset: int | None = None,
    lease: timedelta = LEASE,
) -> AsyncIterator[tuple[Claim, Row[Any] | None]]:
    """Try to take the upload; yield the claim and the row (None if it could not be taken).

    The claim is renewed while the block runs and given back when it ends.
    """
    token = uuid.uuid4().hex
    row = await upload_rows.claim(
        engine, upload_id, user_id, token=token, now=now, until=now + lease, offset=offset
    )
    claim = Claim(engine, upload_id, token, lease)
    if row is None:
        yield claim, None
        return
    keeper = asyncio.create_task(claim.keep())
    try:
        yield claim, row
    finally:
        keeper.cancel()
        with anyio.CancelScope(shield=True):
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            if not claim.released:
                with contextlib.suppress(Exception):  # the lease runs out by itself
                    await upload_rows.release(engine, upload_id, token)
