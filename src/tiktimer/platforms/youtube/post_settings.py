"""A post's YouTube metadata, read from the post's columns until posts carry per-platform
settings (cross-posting, issue 16 part 5)."""

from __future__ import annotations

from typing import Any

from tiktimer.platforms.youtube.metadata import TITLE_LIMIT
from tiktimer.platforms.youtube.schemas import VideoMetadata

# TikTok's privacy words, the only ones a post has today, in YouTube's terms; anything
# not plainly public stays private (the conservative reading).
PRIVACY = {"PUBLIC_TO_EVERYONE": "public", "MUTUAL_FOLLOW_FRIENDS": "unlisted"}


def metadata_of(post: Any) -> VideoMetadata:
    """`post` is any object with the post's columns (an ORM row or a pre-flight PostLike)."""
    content = str(getattr(post, "content", "") or "")
    title = str(getattr(post, "title", "") or "").strip() or _title_from(content)
    return VideoMetadata(
        title=title,
        description=content,
        privacy_status=PRIVACY.get(str(getattr(post, "privacy_level", "") or ""), "private"),
        made_for_kids=False,  # no post setting yet: the declaration defaults to "not for kids"
        contains_synthetic_media=bool(getattr(post, "is_aigc", False)),
    )


def _title_from(content: str) -> str:
    """The caption's first line, cut at the title limit, when the post has no title."""
    first = content.strip().splitlines()[0] if content.strip() else ""
    return first[:TITLE_LIMIT]
