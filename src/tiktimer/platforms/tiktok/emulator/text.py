"""Caption lengths as TikTok counts them: UTF-16 code units, so an emoji counts as two."""

from __future__ import annotations

VIDEO_TITLE_MAX = 2200
PHOTO_TITLE_MAX = 90
PHOTO_DESCRIPTION_MAX = 4000


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
