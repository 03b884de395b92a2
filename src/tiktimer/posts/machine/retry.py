"""When to try again: exponential backoff with full jitter, and the status-poll cadence."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from tiktimer.kit.backoff import Backoff


@dataclass(frozen=True)
class RetryPolicy:
    """Attempt `n` (1-based) failed: wait a uniform draw from [0, min(cap, base·2^(n-1))].

    Full jitter (`kit.backoff`) spreads the retries of many posts that failed together, so
    they do not hit TikTok again in one burst. A platform-given `retry_after` (TikTok's
    one-minute rate-limit window) is a floor.
    """

    max_attempts: int = 5
    base_seconds: float = 30.0
    cap_seconds: float = 1800.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        backoff = Backoff(self.base_seconds, 2.0, self.cap_seconds, jitter=1.0, rng=self.rng)
        wait = backoff.delay(attempt - 1)
        if retry_after is not None and retry_after > 0:
            # Everything that was refused in the same window would come back together.
            spread = min(self.base_seconds, retry_after) * 0.25
            wait = max(wait, retry_after + self.rng.uniform(0, spread))
        return wait

    def exhausted(self, attempts_made: int) -> bool:
        return attempts_made >= self.max_attempts


@dataclass(frozen=True)
class PollPolicy:
    """Status checks after the upload: the gap grows with the time already waited.

    Checks come `first_seconds` after the upload, then every half of the time waited so far
    (×1.5 growth), capped at `max_seconds`; after `timeout_seconds` the post stops waiting.
    With the defaults (2 s, 30 s) that is 2, 4, 6, 9, 13.5, 20… s: quick for the usual
    seconds-long processing, and far below TikTok's 30 status calls per minute per account.
    """

    first_seconds: float = 2.0
    max_seconds: float = 30.0
    timeout_seconds: float = 1800.0

    def next_delay(self, waited: float) -> float:
        return min(self.max_seconds, max(self.first_seconds, waited * 0.5))

    def expired(self, waited: float) -> bool:
        return waited >= self.timeout_seconds
