"""TikTok's publish status (reference §4.5) as a `PublishOutcome` the scheduler acts on.

PROCESSING_UPLOAD / PROCESSING_DOWNLOAD → processing (check again later)
PUBLISH_COMPLETE                         → published, public post ids as exact strings
SEND_TO_USER_INBOX                       → in_inbox (a draft waits in the creator's app)
FAILED + final reason                    → failed, with the reason in plain words
FAILED + internal / video|photo_pull_failed → PublishError(reinitialize): upload again
FAILED + auth_removed                    → failed (the publisher also flags the account)
"""

from __future__ import annotations

from tiktimer.platforms.contract import ErrorKind, OutcomeState, PublishError, PublishOutcome
from tiktimer.platforms.tiktok import fail_reasons
from tiktimer.platforms.tiktok.schemas import PublishStatus, PublishStatusValue


def post_ids(ids: tuple[int, ...] | list[int]) -> list[str]:
    """int64 ids as decimal strings: exact, and safe for JavaScript clients."""
    return [str(int(value)) for value in ids]


def outcome_of(status: PublishStatus) -> PublishOutcome:
    value = status.status
    if status.is_failed:
        return failed_outcome(status.fail_reason, log_id=status.log_id)
    if status.is_published:
        return PublishOutcome(
            OutcomeState.published,
            platform_status=value,
            post_ids=post_ids(status.post_ids),
            log_id=status.log_id,
        )
    if status.is_in_inbox:
        return PublishOutcome(OutcomeState.in_inbox, platform_status=value, log_id=status.log_id)
    # PROCESSING_* and any status TikTok may add later: not decided yet.
    return PublishOutcome(OutcomeState.processing, platform_status=value, log_id=status.log_id)


def failed_outcome(fail_reason: str | None, *, log_id: str | None = None) -> PublishOutcome:
    """A FAILED publish; raises for the reasons the scheduler must act on instead."""
    message = fail_reasons.describe(fail_reason)
    if fail_reasons.retryable(fail_reason):
        raise PublishError(ErrorKind.reinitialize, message, code=fail_reason, log_id=log_id)
    return PublishOutcome(
        OutcomeState.failed,
        platform_status=PublishStatusValue.FAILED.value,
        fail_reason=fail_reason,
        message=message,
        log_id=log_id,
    )
