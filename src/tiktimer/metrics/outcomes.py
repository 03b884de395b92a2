"""Publish outcomes, folded as attempts settle and finish, so a scrape reads only new rows.

An attempt's outcome is final once it is not `running`: every write that ends an attempt
is guarded by `outcome = 'running'` (`posts.queue`). So each process keeps the counts of
finished attempts up to a settled id (`metrics.settling`) and each scrape counts only the
attempts after it, plus those it saw running below it (`pending`: posts in flight, a few
per worker), until they finish. A process's first scrapes read the whole table once.

The folded counts never go down: a deleted post's attempts stay counted by the processes
that folded them (the dashboards and alerts take `max` across API processes).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import bindparam, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from tiktimer.metrics.lag import NEWEST
from tiktimer.metrics.settling import SETTLE_SECONDS, SettledIds
from tiktimer.posts.queue.records import AttemptOutcome
from tiktimer.posts.queue.tables import attempts, posts

OutcomeKey = tuple[str, str, str | None]  # (platform, outcome, error code)


class OutcomeTally:
    """One process's folded outcome counts for one database."""

    def __init__(
        self, settle_seconds: float = SETTLE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.settled = SettledIds(settle_seconds, clock)
        self.upto = 0
        self.pending: set[int] = set()  # ids up to `upto` that were running when folded
        self.folded: Counter[OutcomeKey] = Counter()
        self._lock = asyncio.Lock()

    async def read(self, connection: AsyncConnection) -> Counter[OutcomeKey]:
        """Every finished attempt, by platform, outcome and error code."""
        async with self._lock:
            settled = self.settled.advance((await connection.execute(NEWEST)).scalar())
            if settled is not None and settled > self.upto:
                await self._fold(connection, settled)
            tail = await connection.execute(
                _COUNT, {"after": self.upto, "pending": sorted(self.pending)}
            )
            return self.folded + _counted(tail.all())

    async def _fold(self, connection: AsyncConnection, settled: int) -> None:
        """Fold the newly settled attempts and the pending ones that finished, in one
        statement (one snapshot: an attempt finishing meanwhile is seen once, either way)."""
        params = {"after": self.upto, "upto": settled, "pending": sorted(self.pending)}
        still: set[int] = set()
        for attempt_id, platform, outcome, code, count in await connection.execute(
            _FOLDING, params
        ):
            if outcome == AttemptOutcome.running:
                still.add(int(attempt_id))
            elif platform is not None:
                self.folded[(str(platform), str(outcome), code)] += int(count)
        # A pending attempt that finished is folded now; one gone with its post is dropped.
        self.pending = still
        self.upto = settled


def _counted(rows: Iterable[Any]) -> Counter[OutcomeKey]:
    return Counter(
        {(str(platform), str(outcome), code): int(n) for platform, outcome, code, n in rows}
    )


_JOINED = attempts.join(posts, posts.c.id == attempts.c.post_id)
_PENDING = attempts.c.id.in_(bindparam("pending", expanding=True))


def _folding_statement() -> Any:
    in_range = (attempts.c.id > bindparam("after")) & (attempts.c.id <= bindparam("upto"))
    running = attempts.c.outcome == AttemptOutcome.running
    # Each running (or pending) attempt is its own group, with its id; the rest are counts.
    # The CASE is computed in a subquery, so the GROUP BY names a column, not parameters.
    rows = (
        select(
            posts.c.platform,
            attempts.c.outcome,
            attempts.c.error_code,
            case((or_(running, _PENDING), attempts.c.id)).label("attempt_id"),
        )
        .select_from(attempts.outerjoin(posts, posts.c.id == attempts.c.post_id))
        .where(or_(in_range, _PENDING))
        .subquery("folding")
    )
    return select(
        rows.c.attempt_id, rows.c.platform, rows.c.outcome, rows.c.error_code, func.count()
    ).group_by(rows.c.attempt_id, rows.c.platform, rows.c.outcome, rows.c.error_code)


_FOLDING = _folding_statement()

# The tail: finished attempts after the folded id, and pending ones that have finished.
_COUNT = (
    select(posts.c.platform, attempts.c.outcome, attempts.c.error_code, func.count())
    .select_from(_JOINED)
    .where(
        or_(attempts.c.id > bindparam("after"), _PENDING),
        attempts.c.outcome != AttemptOutcome.running,
    )
    .group_by(posts.c.platform, attempts.c.outcome, attempts.c.error_code)
)
