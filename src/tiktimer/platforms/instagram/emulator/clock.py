"""The emulator's clock: wall time plus an offset tests advance instead of sleeping."""

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

    def as_datetime(self) -> datetime:
        """`now` as an aware UTC datetime, for clients that must share this clock."""
        return datetime.fromtimestamp(self.now(), UTC)

    async def sleep(self, seconds: float) -> None:
        """A client's sleep that advances this clock instead of waiting (tests)."""
        self.advance(seconds)
        await asyncio.sleep(0)
