"""The `video` resource rules `videos.insert` enforces before any byte is sent (§4, §10).

Each rule raises `ApiError(400, reason)`; the reasons are YouTube's (`invalidTitle`, …).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .errors import ApiError

INSERT_PARTS = frozenset(
    {
        "id",
        "snippet",
        "status",
        "contentDetails",
        "processingDetails",
        "recordingDetails",
        "localizations",
        "paidProductPlacementDetails",
        "fileDetails",
        "player",
        "statistics",
        "topicDetails",
        "suggestions",
    }
)
WRITABLE_PARTS = frozenset({"snippet", "status", "recordingDetails", "localizations"})
PRIVACY = frozenset({"public", "unlisted", "private"})
CATEGORIES = frozenset(
    {"1", "2", "10", "15", "17", "19", "20", "22", "23", "24", "25", "26", "27", "28", "29"}
)
STATUS_BOOLEANS = (
    "selfDeclaredMadeForKids",
    "containsSyntheticMedia",
    "embeddable",
    "publicStatsViewable",
)
TITLE_LIMIT, DESCRIPTION_BYTES, TAGS_LIMIT = 100, 5000, 500


def parse_parts(raw: str | None) -> tuple[str, ...]:
    parts = tuple(p.strip() for p in (raw or "").split(",") if p.strip())
    if not parts:
        raise ApiError(400, "required", "Required parameter: part")
    if unknown := [p for p in parts if p not in INSERT_PARTS]:
        raise ApiError(400, "unknownPart", f"Unknown part: {unknown[0]}")
    return parts


def validate(resource: Any, parts: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(resource, dict):
        raise _metadata("The request metadata is invalid.")
    for key in resource:
        if key not in WRITABLE_PARTS:
            raise _metadata(f"The part {key!r} cannot be set on insert.")
        if key not in parts:
            raise ApiError(400, "unexpectedPart", f"The body sets {key!r}, not named in part.")
    snippet = resource.get("snippet") or {}
    status = resource.get("status") or {}
    if not isinstance(snippet, dict) or not isinstance(status, dict):
        raise _metadata("snippet and status must be objects.")
    _check_snippet(snippet)
    _check_status(status)
    return resource


def _check_snippet(snippet: dict[str, Any]) -> None:
    title = snippet.get("title")
    if not isinstance(title, str) or not title.strip():
        raise _video(400, "invalidTitle", "The video title is required.")
    if len(title) > TITLE_LIMIT or "<" in title or ">" in title:
        raise _video(400, "invalidTitle", "The request metadata specifies an invalid title.")
    description = snippet.get("description", "")
    if not isinstance(description, str) or (
        len(description.encode()) > DESCRIPTION_BYTES or "<" in description or ">" in description
    ):
        raise _video(400, "invalidDescription", "The video description is invalid.")
    tags = snippet.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise _video(400, "invalidTags", "The video keywords are invalid.")
    if tags_length(tags) > TAGS_LIMIT:
        raise _video(400, "invalidTags", "The video keywords are too long.")
    category = snippet.get("categoryId")
    if category is not None and str(category) not in CATEGORIES:
        raise _video(400, "invalidCategoryId", "The video category is invalid.")


def tags_length(tags: list[str]) -> int:
    """Commas between tags count, and a tag with a space counts as if quoted."""
    quoted = sum(len(t) + (2 if " " in t else 0) for t in tags)
    return quoted + max(len(tags) - 1, 0)


def _check_status(status: dict[str, Any]) -> None:
    privacy = status.get("privacyStatus")
    if privacy is not None and privacy not in PRIVACY:
        raise _metadata(f"Invalid privacyStatus {privacy!r}.")
    for name in STATUS_BOOLEANS:
        if name in status and not isinstance(status[name], bool):
            raise _metadata(f"status.{name} must be a boolean.")
    publish_at = status.get("publishAt")
    if publish_at is not None:
        if privacy != "private":
            raise _video(400, "invalidPublishAt", "publishAt needs privacyStatus private.")
        try:
            datetime.fromisoformat(str(publish_at).replace("Z", "+00:00"))
        except ValueError as error:
            raise _video(400, "invalidPublishAt", "publishAt is not a date-time.") from error


def _video(status: int, reason: str, message: str) -> ApiError:
    return ApiError(status, reason, message, domain="youtube.video")


def _metadata(message: str) -> ApiError:
    return _video(400, "invalidVideoMetadata", message)
