"""What the queue hands out: a claim and where its post stands, and a step's result."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection


class Stage(enum.StrEnum):
    """Where a `publishing` post stands (`posts.publish_stage`)."""

    claimed = "claimed"  # claimed, nothing sent to the platform: cancel/reschedule are safe
    initializing = "initializing"  # attempt recorded, validate + init in flight, no publish id
    uploading = "uploading"  # publish id stored, media upload in flight
    confirming = "confirming"  # upload done, waiting for the platform's verdict


class AttemptOutcome(enum.StrEnum):
    running = "running"
    published = "published"
    in_inbox = "in_inbox"
    failed = "failed"
    retry = "retry"  # failed, retried later with backoff
    reinitialize = "reinitialize"  # upload session dead, a new init follows
    interrupted = "interrupted"  # the worker stopped before the platform returned a publish id
    unconfirmed = "unconfirmed"  # the platform never gave a verdict in time
    missed = "missed"  # due too long ago for the post's late-publish window (lateness)


@dataclass(frozen=True, slots=True)
class Claim:
    """A post this worker now holds, and what the previous holder had left behind."""

    post_id: int
    user_id: int
    account_id: int | None
    attempt_count: int
    publish_id: str | None
    stage: Stage  # the stage the post was in (claimed for a fresh claim)
    stage_at: datetime | None
    scheduled_time: datetime
    previous_worker: str | None  # set when a worker's lease expired under it
    fresh: bool  # claimed from `scheduled` (False: a reclaim or a status check)
    last_error: str | None = None
    account_status: str | None = None
    account_reason: str | None = None
    running_attempt_id: int | None = None  # the attempt a status check continues
    post_mode: str | None = None  # direct | inbox: the platform decides what that costs
    # The registry name of the account's platform (the post's own, without an account).
    platform: str = ""

    def blocked(self, title: str) -> str | None:
        """Why this post's account cannot publish now (None: it can); `title` names the
        platform ("TikTok")."""
        if self.account_id is None:
            return f"The post has no connected {title} account; connect one and retry."
        if self.account_status is None:
            return f"The post's {title} account no longer exists; connect one and retry."
        if self.account_status == "reauth_required":
            return (
                f"{title} access for this account was revoked or expired; reconnect the "
                f"account and retry ({self.account_reason or 'reauthorization required'})."
            )
        if self.account_status == "disconnected":
            return f"The post's {title} account was disconnected; reconnect it and retry."
        return None


@dataclass(frozen=True, slots=True)
class Started:
    attempt_id: int
    number: int
    slot_refs: Mapping[str, str] | None = None  # bucket → the slot taken with it


@dataclass(frozen=True, slots=True)
class Paced:
    """The account's init window is full: the post is due again in `wait` seconds."""

    wait: float


TransactionalPacing = Callable[[AsyncConnection], Awaitable[tuple[float, dict[str, str] | None]]]
"""Takes pacing slots inside the caller's transaction: (0, ref per bucket) or (wait, None)."""
