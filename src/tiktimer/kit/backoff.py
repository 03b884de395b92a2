"""The one exponential backoff: the scheduler's retries, TikTok's chunk retries and status
polls, and the start-up wait for the database all draw their delays from `Backoff`.

`jitter` is the fraction of each delay that may be cut at random: 0 for fixed delays,
1 for "full jitter" (a uniform draw below the ceiling, which spreads the retries of many
clients that failed together; AWS architecture blog, "Exponential Backoff And Jitter").
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before retry `attempt` (0-based): ``initial * factor**attempt`` clamped to
    ``[minimum, maximum]``, shortened by up to ``jitter`` (a fraction) at random."""

    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 30.0
    minimum: float = 0.0
    jitter: float = 0.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.initial < 0 or self.factor < 1 or self.maximum < self.minimum:
            raise ValueError("invalid backoff parameters")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be a fraction within [0, 1]")

    def ceiling(self, attempt: int) -> float:
        """The delay before jitter (exponent capped, so huge attempt numbers stay finite)."""
        return min(self.maximum, self.initial * self.factor ** min(max(attempt, 0), 64))

    def delay(self, attempt: int) -> float:
        base = self.ceiling(attempt)
        if self.jitter:
            base *= 1 - self.jitter * self.rng.random()
        return max(self.minimum, base)

    def delays(self, attempts: int | None = None) -> Iterator[float]:
        """Successive delays; endless when `attempts` is None."""
        attempt = 0
        while attempts is None or attempt < attempts:
            yield self.delay(attempt)
            attempt += 1
