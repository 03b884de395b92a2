"""What pre-flight judges: the post's settings and the facts gathered about it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from tiktimer.platforms.tiktok.budget import Budget
from tiktimer.platforms.tiktok.schemas import CreatorInfo

_PHOTO_CONTENT_TYPES = {"image/jpeg": "jpeg", "image/webp": "webp"}


class PostLike(Protocol):
    """The post fields pre-flight reads (an ORM `Post`, a snapshot, a request body)."""

    @property
    def post_mode(self) -> str: ...

    @property
    def media_type(self) -> str: ...

    @property
    def content(self) -> str: ...

    @property
    def title(self) -> str | None: ...

    @property
    def privacy_level(self) -> str | None: ...

    @property
    def allow_comment(self) -> bool: ...

    @property
    def allow_duet(self) -> bool: ...

    @property
    def allow_stitch(self) -> bool: ...

    @property
    def video_cover_timestamp_ms(self) -> int | None: ...

    @property
    def photo_cover_index(self) -> int | None: ...

    @property
    def brand_organic_toggle(self) -> bool: ...

    @property
    def brand_content_toggle(self) -> bool: ...

    @property
    def is_aigc(self) -> bool: ...

    @property
    def auto_add_music(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class PostSettings:
    """A snapshot of a post's TikTok settings (safe to keep once the session is gone)."""

    post_mode: str = "direct"
    media_type: str = "video"
    content: str = ""
    title: str | None = None
    privacy_level: str | None = None
    allow_comment: bool = False
    allow_duet: bool = False
    allow_stitch: bool = False
    video_cover_timestamp_ms: int | None = None
    photo_cover_index: int | None = None
    brand_organic_toggle: bool = False
    brand_content_toggle: bool = False
    is_aigc: bool = False
    auto_add_music: bool = False

    @classmethod
    def of(cls, post: PostLike) -> PostSettings:
        return cls(**{name: getattr(post, name) for name in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class MediaFacts:
    id: str
    kind: str  # video | image
    content_type: str
    size: int
    status: str  # ready | deleted
    storage_key: str
    probe: dict[str, Any] = field(default_factory=dict)
    verdict: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_sec(self) -> float | None:
        value = self.probe.get("duration_sec")
        return float(value) if isinstance(value, int | float) else None

    @property
    def photo_format(self) -> str | None:
        container = self.probe.get("container")
        if isinstance(container, str):
            return container
        return _PHOTO_CONTENT_TYPES.get(self.content_type)


@dataclass(frozen=True, slots=True)
class AccountFacts:
    id: int
    status: str
    status_reason: str | None
    scopes: tuple[str, ...]
    display_name: str | None = None
    platform: str | None = None  # the registry name (social_accounts.platform)


@dataclass(frozen=True, slots=True)
class CreatorLookup:
    """creator_info as pre-flight sees it: the data, TikTok's refusal, or no answer now."""

    info: CreatorInfo | None = None
    error_code: str | None = None
    error_message: str | None = None

    @property
    def unavailable(self) -> bool:
        return self.info is None and self.error_code is None


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything `evaluate` needs besides the post itself."""

    account: AccountFacts | None
    media: Sequence[MediaFacts]
    creator: CreatorLookup | None
    budget: Budget | None = None
    photo_urls_https: bool = True
