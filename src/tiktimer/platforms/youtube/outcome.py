"""A `videos.list` reading as the contract's `PublishOutcome`, and fail reasons in words."""

from __future__ import annotations

from tiktimer.platforms.contract import OutcomeState, PublishOutcome
from tiktimer.platforms.youtube.schemas import VideoState

WORDS = {
    "duplicate": "YouTube rejected the video as a duplicate of one already on the channel.",
    "copyright": "YouTube rejected the video for a copyright claim.",
    "inappropriate": "YouTube rejected the video as inappropriate.",
    "termsOfUse": "YouTube rejected the video for breaking its terms of use.",
    "length": "YouTube rejected the video's length.",
    "uploaderAccountSuspended": "The YouTube channel is suspended.",
    "uploaderAccountClosed": "The YouTube channel is closed.",
    "trademark": "YouTube rejected the video for a trademark complaint.",
    "legal": "YouTube rejected the video for a legal complaint.",
    "claim": "YouTube rejected the video because of a claim on it.",
    "conversion": "YouTube could not convert the video.",
    "codec": "YouTube does not support the video's codec.",
    "invalidFile": "YouTube could not read the file as a video.",
    "emptyFile": "The video file YouTube received was empty.",
    "tooSmall": "The video file is too small for YouTube.",
    "uploadAborted": "The upload to YouTube was aborted.",
    "deleted": "The video was deleted from YouTube.",
    "missing": "YouTube has no video with this id any more.",
}


def outcome_of(state: VideoState | None) -> PublishOutcome:
    if state is None:
        return _failed("missing", None)
    match state.upload_status:
        case "processed":
            return PublishOutcome(
                OutcomeState.published, platform_status="processed", post_ids=[state.video_id]
            )
        case "failed":
            return _failed(state.failure_reason or "conversion", "failed")
        case "rejected":
            return _failed(state.rejection_reason or "termsOfUse", "rejected")
        case "deleted":
            return _failed("deleted", "deleted")
    return PublishOutcome(OutcomeState.processing, platform_status=state.upload_status)


def describe(reason: str | None) -> str:
    return WORDS.get(reason or "", f"YouTube refused the video ({reason or 'no reason given'}).")


def _failed(reason: str, status: str | None) -> PublishOutcome:
    return PublishOutcome(
        OutcomeState.failed, platform_status=status, fail_reason=reason, message=describe(reason)
    )
