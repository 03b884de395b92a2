"""YouTube's limits on a video's metadata, checked before any call (youtube-api.md §4).

Each problem is a sentence for the user; an empty list means YouTube should accept it.
"""

from __future__ import annotations

from tiktimer.platforms.youtube.schemas import VideoMetadata

TITLE_LIMIT = 100  # characters
DESCRIPTION_LIMIT = 5000  # UTF-8 bytes, not characters
TAGS_LIMIT = 500  # characters, commas included, a tag with a space counted as quoted
PRIVACY = ("public", "unlisted", "private")


def tags_length(tags: tuple[str, ...]) -> int:
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(len(tags) - 1, 0)


def problems(meta: VideoMetadata) -> list[str]:
    found: list[str] = []
    if not meta.title.strip():
        found.append("A YouTube title is required.")
    if len(meta.title) > TITLE_LIMIT:
        found.append(f"The YouTube title is longer than {TITLE_LIMIT} characters.")
    if "<" in meta.title or ">" in meta.title:
        found.append("The YouTube title cannot contain < or >.")
    if len(meta.description.encode()) > DESCRIPTION_LIMIT:
        found.append(f"The YouTube description is longer than {DESCRIPTION_LIMIT} bytes.")
    if "<" in meta.description or ">" in meta.description:
        found.append("The YouTube description cannot contain < or >.")
    if tags_length(meta.tags) > TAGS_LIMIT:
        found.append(f"The YouTube tags add up to more than {TAGS_LIMIT} characters.")
    if meta.privacy_status not in PRIVACY:
        found.append("The YouTube privacy must be public, unlisted or private.")
    return found
