"""An emulator's clock: wall time plus an offset tests can advance instead of sleeping.

Every platform emulator keeps its lifetimes, windows and processing delays on one of these
(persisted with its state where the state is).
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Seconds since the epoch, as the emulator sees them."""
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Jump forward so lifetimes, windows and processing delays elapse at once."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0

    @property
    def offset(self) -> float:
        """Seconds the clock was advanced by (persisted with the rest of the state)."""
        with self._lock:
            return self._offset

    def restore(self, offset: float) -> None:
        with self._lock:
            self._offset = max(offset, 0.0)

    def as_datetime(self) -> datetime:
        """`now` as an aware UTC datetime, for clients that must share this clock."""
        return to_datetime(self.now())

    async def sleep(self, seconds: float) -> None:
        """A client's sleep that advances this clock instead of waiting (tests)."""
        self.advance(seconds)
        await asyncio.sleep(0)


def to_datetime(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)
