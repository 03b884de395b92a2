"""What a post's run needs, passed in once by the dispatcher's process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from tiktimer.platforms.contract import Platform
from tiktimer.posts.machine.retry import PollPolicy, RetryPolicy
from tiktimer.posts.pacing.window import SlidingWindowPacer
from tiktimer.posts.queue.leases import PostQueue


class LeaseLost(Exception):
    """This worker no longer holds the post (expired, or the user took it back)."""


class Accounts(Protocol):
    """What the machine needs from `AccountTokens` (refreshing is the platform's)."""

    async def mark_reauth_required(self, account_id: int, reason: str) -> None: ...


class PlatformLookup(Protocol):
    """The registry's `Platforms`: a post's platform by name."""

    def get(self, name: str) -> Platform: ...


@dataclass(frozen=True)
class MachineContext:
    queue: PostQueue
    platforms: PlatformLookup
    pacer: SlidingWindowPacer
    accounts: Accounts | None
    retry: RetryPolicy
    poll: PollPolicy
    worker_id: str
    # A post whose account must wait longer than this for a platform call slot goes back to
    # the queue with that due time, instead of holding a worker slot while it waits.
    max_pacing_wait: float = 2.0
    # Told when a post's publish id is stored: the rest (upload, verdict) may yield to
    # other posts' inits, so the dispatcher can claim the next due post at once.
    on_initiated: Callable[[int], None] | None = None
    # Asked once a post's upload is done: True lets the run keep its claim through the first
    # status check (it waits `poll.first_seconds` in its task, off the dispatcher's upload
    # count) instead of releasing the post and claiming it again for that check.
    may_await_check: Callable[[int], bool] | None = None
