"""The columns an import file may have, what each becomes in a `PostCreate`, and fingerprints."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

# Canonical column name → the `PostCreate` field it fills. `time`, `account` and `media` are
# resolved first (time zones, names, files); the rest are passed on after light parsing.
COLUMN_FIELDS: dict[str, str] = {
    "caption": "content",
    "time": "scheduled_time",
    "account": "social_account_id",
    "media": "media_ids",
    "privacy": "privacy_level",
    "title": "title",
    "post_mode": "post_mode",
    "media_type": "media_type",
    "allow_comment": "allow_comment",
    "allow_duet": "allow_duet",
    "allow_stitch": "allow_stitch",
    "video_cover_timestamp_ms": "video_cover_timestamp_ms",
    "photo_cover_index": "photo_cover_index",
    "brand_organic_toggle": "brand_organic_toggle",
    "brand_content_toggle": "brand_content_toggle",
    "is_aigc": "is_aigc",
    "auto_add_music": "auto_add_music",
    "draft": "draft",
}
# Other spellings people use, including the API's own field names.
ALIASES: dict[str, str] = {
    "content": "caption",
    "scheduled_time": "time",
    "social_account_id": "account",
    "media_id": "media",
    "media_ids": "media",
    "privacy_level": "privacy",
}
FIELD_COLUMNS: dict[str, str] = {field: column for column, field in COLUMN_FIELDS.items()}
FIELD_COLUMNS["media_id"] = "media"
BOOLEAN_COLUMNS = frozenset(
    {
        "allow_comment",
        "allow_duet",
        "allow_stitch",
        "brand_organic_toggle",
        "brand_content_toggle",
        "is_aigc",
        "auto_add_music",
        "draft",
    }
)
INTEGER_COLUMNS = frozenset({"video_cover_timestamp_ms", "photo_cover_index"})
UPPER_COLUMNS = frozenset({"privacy"})
LOWER_COLUMNS = frozenset({"post_mode", "media_type"})
REQUIRED_COLUMNS = ("time",)
_TRUE = frozenset({"true", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "off"})
# Several media in one cell (a photo post's images) are separated by this.
MEDIA_SEPARATOR = ";"


def canonical(header: str) -> str:
    """`Allow Comment`, `allow-comment` and `allow_comment` are the same column."""
    name = "_".join(header.strip().lower().replace("-", " ").split())
    return ALIASES.get(name, name)


def column_of(field: str) -> str | None:
    """The column a `PostCreate` field came from (for the service's 422s)."""
    return FIELD_COLUMNS.get(field)


def parse_boolean(value: str) -> bool:
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError("must be true or false (yes/no, 1/0 also work)")


def fingerprint(cells: Mapping[str, str]) -> str:
    """The same row gives the same fingerprint in any file, whatever its column order,
    spelling of the headers, or surrounding whitespace; empty cells do not count."""
    kept = {name: value.strip() for name, value in cells.items() if value.strip()}
    text = json.dumps(kept, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
