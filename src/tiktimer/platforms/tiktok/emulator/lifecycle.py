"""Where a publish task stands at a given moment, derived from its timestamps.

Nothing ticks: status is computed from the clock, so advancing the clock (or waiting the
configured processing time) is all it takes to move a task along.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .enums import PostMode, PrivacyLevel, PublishStatus, Source
from .models import PublishTask


@dataclass(frozen=True)
class StatusView:
    status: PublishStatus
    fail_reason: str | None = None
    post_ids: tuple[int, ...] = ()
    completed_at: float | None = None
    delivered_at: float | None = None


def status_of(
    task: PublishTask, now: float, *, processing_seconds: float, moderation_seconds: float
) -> StatusView:
    if task.failed_at is not None and task.failed_at <= now:
        return StatusView(PublishStatus.FAILED, task.fail_reason)
    in_progress = StatusView(
        PublishStatus.PROCESSING_UPLOAD
        if task.source is Source.FILE_UPLOAD
        else PublishStatus.PROCESSING_DOWNLOAD
    )
    if task.transfer_done_at is None:
        return in_progress
    done_at = task.transfer_done_at + processing_seconds
    if now < done_at:
        return in_progress
    if task.scripted_fail_reason is not None:
        return StatusView(PublishStatus.FAILED, task.scripted_fail_reason)
    if task.mode is PostMode.DIRECT_POST:
        return _complete(task, done_at, task.privacy_level, now, moderation_seconds)
    if task.user_posted_at is not None:
        privacy = task.user_post_privacy
        view = _complete(task, task.user_posted_at, privacy, now, moderation_seconds)
        return replace(view, delivered_at=done_at)
    return StatusView(PublishStatus.SEND_TO_USER_INBOX, delivered_at=done_at)


def _complete(
    task: PublishTask,
    completed_at: float,
    privacy: PrivacyLevel | None,
    now: float,
    moderation_seconds: float,
) -> StatusView:
    # Only public posts get an id, and only once moderation has passed (§4.5).
    visible = (
        privacy is PrivacyLevel.PUBLIC_TO_EVERYONE and now >= completed_at + moderation_seconds
    )
    return StatusView(
        PublishStatus.PUBLISH_COMPLETE,
        post_ids=(task.post_id,) if visible and task.post_id is not None else (),
        completed_at=completed_at,
    )
