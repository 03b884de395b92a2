"""Which attempt ids have settled: every row with a smaller id is committed (or never will be).

Ids are handed out before commit, so a row with a smaller id may appear after a larger one.
An id counts as settled once a scrape saw it as the largest at least `settle_seconds` ago:
attempts are written in short transactions, so by then every smaller one has committed.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

SETTLE_SECONDS = 120.0


class SettledIds:
    def __init__(
        self, settle_seconds: float = SETTLE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.settle_seconds = settle_seconds
        self.clock = clock
        self._seen: deque[tuple[float, int]] = deque()  # (when, largest id then)

    def advance(self, newest: int | None) -> int | None:
        """Note the largest id now; the largest id that has settled since, if any."""
        if math.isinf(self.settle_seconds):  # folding off: nothing ever settles
            return None
        now = self.clock()
        self._seen.append((now, int(newest or 0)))
        settled = None
        while self._seen and self._seen[0][0] <= now - self.settle_seconds:
            settled = self._seen.popleft()[1]
        return settled
