"""TikTok scope names and what each one unlocks (reference §2)."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    USER_INFO_BASIC = "user.info.basic"
    USER_INFO_PROFILE = "user.info.profile"
    USER_INFO_STATS = "user.info.stats"
    VIDEO_LIST = "video.list"
    VIDEO_PUBLISH = "video.publish"
    VIDEO_UPLOAD = "video.upload"


ALL_SCOPES: tuple[str, ...] = tuple(scope.value for scope in Scope)

# Which scope each `/v2/user/info/` field needs.
USER_FIELD_SCOPES: dict[str, Scope] = {
    "open_id": Scope.USER_INFO_BASIC,
    "union_id": Scope.USER_INFO_BASIC,
    "avatar_url": Scope.USER_INFO_BASIC,
    "avatar_url_100": Scope.USER_INFO_BASIC,
    "avatar_large_url": Scope.USER_INFO_BASIC,
    "display_name": Scope.USER_INFO_BASIC,
    "bio_description": Scope.USER_INFO_PROFILE,
    "profile_deep_link": Scope.USER_INFO_PROFILE,
    "is_verified": Scope.USER_INFO_PROFILE,
    "username": Scope.USER_INFO_PROFILE,
    "follower_count": Scope.USER_INFO_STATS,
    "following_count": Scope.USER_INFO_STATS,
    "likes_count": Scope.USER_INFO_STATS,
    "video_count": Scope.USER_INFO_STATS,
}


def parse_scope_list(raw: str) -> list[str]:
    """Split TikTok's comma-separated scope list, keeping order and dropping blanks/repeats."""
    seen: list[str] = []
    for part in raw.split(","):
        name = part.strip()
        if name and name not in seen:
            seen.append(name)
    return seen
