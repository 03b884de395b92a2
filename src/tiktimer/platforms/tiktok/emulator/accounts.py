"""Sandbox creators: who can consent on the authorize page and post through the API."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from . import ids
from .config import USERNAME_PATTERN, ClientConfig, CreatorSettings, EmulatorConfig
from .enums import PRIVATE_ACCOUNT_OPTIONS, PUBLIC_ACCOUNT_OPTIONS, PrivacyLevel
from .errors import NotFoundError
from .models import Creator

DAY_SECONDS = 86_400.0


def username_from_name(name: str) -> str:
    """TikTok handles are 2–24 chars of a-z, 0-9, `.` and `_`; derive one from a display name."""
    slug = re.sub(r"[^a-z0-9._]", "", name.strip().lower().replace(" ", "_"))[:24]
    if not USERNAME_PATTERN.fullmatch(slug):
        raise ValueError(f"cannot make a TikTok username out of {name!r}")
    return slug


class CreatorDirectory:
    def __init__(self) -> None:
        self._creators: dict[str, Creator] = {}

    def add(self, settings: CreatorSettings, now: float) -> Creator:
        """Create the creator, or replace the settings of an existing one with that username."""
        creator = self._creators.get(settings.username)
        if creator is None:
            creator = Creator(settings=settings)
            self._creators[settings.username] = creator
        else:
            creator.settings = settings
        creator.seeded_post_times = [now] * settings.posts_today
        return creator

    def update(self, username: str, changes: dict[str, Any], now: float) -> Creator:
        creator = self.get(username)
        if changes.get("username", username) != username:
            raise ValueError("a creator's username cannot change")
        settings = dataclasses.replace(creator.settings, **changes)
        creator.settings = settings
        if "posts_today" in changes:
            creator.seeded_post_times = [now] * settings.posts_today
        return creator

    def get(self, username: str) -> Creator:
        creator = self._creators.get(username)
        if creator is None:
            raise NotFoundError(f"no creator {username!r}")
        return creator

    def find(self, username: str) -> Creator | None:
        return self._creators.get(username)

    def all(self) -> list[Creator]:
        return list(self._creators.values())

    def clear(self) -> None:
        self._creators.clear()

    def records(self) -> dict[str, Creator]:
        return self._creators

    def restore(self, creators: dict[str, Creator]) -> None:
        self._creators = creators


def privacy_options(
    creator: Creator, client: ClientConfig, config: EmulatorConfig
) -> tuple[PrivacyLevel, ...]:
    """What creator_info offers this creator through this client (§4.1, §8.1)."""
    if not client.audited and config.unaudited_self_only_options:
        return (PrivacyLevel.SELF_ONLY,)
    if creator.settings.privacy_level_options is not None:
        return creator.settings.privacy_level_options
    return PRIVATE_ACCOUNT_OPTIONS if creator.settings.is_private else PUBLIC_ACCOUNT_OPTIONS


def user_profile(open_id: str, settings: CreatorSettings) -> dict[str, Any]:
    """Every `/v2/user/info/` field for this creator (the route picks the requested ones)."""
    avatar = f"https://p16-sign.tiktokcdn.com/emulator/{settings.username}"
    return {
        "open_id": open_id,
        "union_id": ids.union_id(settings.username),
        "avatar_url": f"{avatar}.jpeg",
        "avatar_url_100": f"{avatar}~100x100.jpeg",
        "avatar_large_url": f"{avatar}~1080x1080.jpeg",
        "display_name": settings.display_name or settings.username,
        "bio_description": settings.bio_description,
        "profile_deep_link": f"https://vm.tiktok.com/emulator/{settings.username}",
        "is_verified": settings.is_verified,
        "username": settings.username,
        "follower_count": settings.follower_count,
        "following_count": settings.following_count,
        "likes_count": settings.likes_count,
        "video_count": settings.video_count,
    }
