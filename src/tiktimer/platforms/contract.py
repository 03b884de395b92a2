"""The contract between the durable scheduler and a platform (TikTok, `fake`, …).

The scheduler owns *when* and *how often*: claiming due posts, leases, attempts, retries,
polling cadence and the post's status. A publisher owns *how*: one platform's calls. It
never commits post state itself, except through `on_publish_id`, which the scheduler
persists the moment the platform hands out an id, so that a crash after that point is
reconciled by polling instead of publishing twice.

    PublishError(kind=…)
      retry        transient (network, 5xx, rate limit): the same step later, with backoff
      refresh      the access token was refused: refresh it, then retry at once
      reauthorize  the account's grant is gone: the account needs its owner, the post fails
      reinitialize the upload session is dead (URL expired, 403/404): start over with a new init
      fail         permanent (invalid params, spam risk, privacy mismatch…): the post fails
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from tiktimer.platforms.preflight_report import PreflightReport


class ErrorKind(enum.StrEnum):
    retry = "retry"
    refresh = "refresh"
    reauthorize = "reauthorize"
    reinitialize = "reinitialize"
    fail = "fail"


class PublishError(Exception):
    """A failed publishing step, classified so the scheduler knows what to do next.

    `message` is written for the user (it ends up in the post's `last_error`); `code` is
    the platform's error code; `maybe_applied` says a side-effecting call may have taken
    effect even though it failed (for example an init whose response was lost).
    """

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        code: str | None = None,
        retry_after: float | None = None,
        log_id: str | None = None,
        maybe_applied: bool = False,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.code = code
        self.retry_after = retry_after
        self.log_id = log_id
        self.maybe_applied = maybe_applied


class OutcomeState(enum.StrEnum):
    processing = "processing"  # the platform has not decided yet: check again later
    published = "published"  # live (direct post)
    in_inbox = "in_inbox"  # delivered to the creator's inbox as a draft
    failed = "failed"  # the platform refused it after the upload


@dataclass(frozen=True, slots=True)
class PublishOutcome:
    state: OutcomeState
    platform_status: str | None = None
    post_ids: list[str] = field(default_factory=list)
    fail_reason: str | None = None
    message: str | None = None  # for the user, when failed
    log_id: str | None = None


@dataclass(frozen=True, slots=True)
class PublishJob:
    """What a publisher needs to know about the post being published."""

    post_id: int
    attempt_id: int
    user_id: int
    account_id: int | None
    platform: str  # the registry name of the account's platform ("tiktok")


PublishIdSink = Callable[[str, str | None], Awaitable[None]]
"""Persist (publish_id, log_id) durably before the upload starts."""


class Publisher(Protocol):
    async def start(self, job: PublishJob, on_publish_id: PublishIdSink) -> str:
        """Validate, initialise and upload; return the platform's publish id.

        Must call `on_publish_id` as soon as the platform returns the id (before uploading),
        and raise `PublishError` for every failure.
        """
        ...

    async def check(self, job: PublishJob, publish_id: str) -> PublishOutcome:
        """One status check of an initialised publication; raise `PublishError` on failure."""
        ...


class Pacer(Protocol):
    """Keeps calls per (account, bucket) within the platform's limits, across processes."""

    async def acquire(self, account_id: int, bucket: str) -> None:
        """Wait until a call in `bucket` (e.g. "init", "status", "creator_info") may go."""
        ...


class Platform(Publisher, Protocol):
    """One platform behind the registry (`tiktimer.platforms.registry`).

    The scheduler knows nothing of a platform but this: its name and the words it uses for
    itself, which rate buckets a call takes (pacing is per account and bucket; bucket names
    are unique across platforms), the two publishing steps, and how to refresh an account's
    access. Connecting an account and pre-flight checks are platform-specific flows behind
    `connect` and `validate`.
    """

    name: str  # the registry key, stored in social_accounts.platform
    title: str  # how users read it: "TikTok"

    def rate_buckets(self) -> dict[str, int]:
        """Each bucket this platform paces, with its calls per window."""
        ...

    def start_buckets(self, post_mode: str | None) -> tuple[str, ...]:
        """The buckets a new attempt takes in one grant, before `start` (init first)."""
        ...

    @property
    def status_bucket(self) -> str | None:
        """The bucket of one `check` (None: checks are not paced)."""
        ...

    async def connect(self, user_id: int, **details: Any) -> Any:
        """Begin (or, for a platform with no consent step, complete) linking an account."""
        ...

    async def refresh(self, account_id: int) -> object:
        """Renew the account's access after the platform refused its token."""
        ...

    async def prefetch(self, account: Any) -> Any:
        """What pre-flight asks the platform first about an active account (a `SocialAccount`
        row; TikTok: creator_info), before the request opens a transaction; None when the
        platform needs nothing. Passed to `validate` as the facts' `creator`."""
        ...

    def validate(self, post: Any, facts: Any) -> PreflightReport:
        """Pre-flight: every reason the platform would refuse `post`, given `facts`."""
        ...

    def describe_failure(self, fail_reason: str | None) -> str:
        """The platform's fail reason in words the user understands."""
        ...
