"""Pre-flight for YouTube: the reasons YouTube would refuse a post, before it is due."""

from __future__ import annotations

from typing import Any

from tiktimer.platforms.preflight_report import (
    ACCOUNT_REQUIRED,
    MEDIA_REQUIRED,
    Issue,
    PreflightReport,
)
from tiktimer.platforms.youtube import metadata
from tiktimer.platforms.youtube.post_settings import metadata_of

SHORTS_MAX_SECONDS = 180  # since 2024-10-15 (youtube-api.md §5)


def evaluate(post: Any, facts: Any) -> PreflightReport:
    errors: list[Issue] = []
    warnings: list[Issue] = []
    account = getattr(facts, "account", None)
    if account is None or account.status != "active":
        errors.append(Issue("social_account_id", ACCOUNT_REQUIRED, "Connect a YouTube channel."))
    media = list(getattr(facts, "media", ()) or ())
    if not media:
        errors.append(Issue("media_ids", MEDIA_REQUIRED, "Attach the video to post."))
    elif len(media) > 1 or media[0].kind != "video":
        errors.append(Issue("media_ids", "youtube_one_video", "YouTube takes exactly one video."))
    elif (duration := media[0].duration_sec) is not None and duration > SHORTS_MAX_SECONDS:
        warnings.append(
            Issue(
                "media_ids",
                "youtube_not_a_short",
                f"Longer than {SHORTS_MAX_SECONDS} s: YouTube will not count it as a Short.",
            )
        )
    for problem in metadata.problems(metadata_of(post)):
        errors.append(Issue("title", "youtube_metadata", problem))
    return PreflightReport(errors=tuple(errors), warnings=tuple(warnings))
