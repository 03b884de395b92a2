"""Argon2id password hashing on a small, low-priority thread pool.

Hashing is deliberately slow; running it on the event loop would stall every request, and
running it on many threads at normal priority would starve the loop on a small machine. A
bounded pool whose threads are niced keeps `/health` fast during a login storm: logins queue
instead of everything else.
"""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): strong against offline
# cracking, yet cheap enough that a login storm on a small machine stays a queue, not an outage.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified when the user does not exist, so a login costs the same either way.
_DUMMY_HASH = _hasher.hash("tiktimer-timing-equaliser")


def _lower_thread_priority() -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass


class PasswordHashing:
    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._pool = ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix="pwhash", initializer=_lower_thread_priority
        )

    async def hash(self, password: str) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, _hasher.hash, password)

    async def verify(self, hashed: str | None, password: str) -> bool:
        """Check a password; `hashed=None` (unknown user) still spends a full verification."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, _verify, hashed, password)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _verify(hashed: str | None, password: str) -> bool:
    try:
        ok = _hasher.verify(hashed or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return ok and hashed is not None
