"""Pydantic models of TikTok request and response payloads.

Requests (``extra="forbid"``) validate what TikTok would reject anyway, so the caller
learns before spending a rate-limited init. Responses (``extra="ignore"``) tolerate new
fields; every response model keeps TikTok's ``log_id``. Tokens are ``SecretStr`` so a
``repr`` in a log or traceback never shows them.
"""

from __future__ import annotations

import enum
import re
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StrictBool,
    model_validator,
)

from tiktimer.platforms.tiktok.chunks import ChunkPlan, plan_chunks
from tiktimer.platforms.tiktok.errors import TikTokAction, fail_reason_action

__all__ = [
    "Acknowledgement",
    "AuthorizationCallback",
    "CreatorInfo",
    "FileUploadSource",
    "PhotoDraftInfo",
    "PhotoPostInfo",
    "PhotoSource",
    "PrivacyLevel",
    "PublishInit",
    "PublishStatus",
    "PublishStatusValue",
    "PullFromUrlSource",
    "TokenSet",
    "UploadResult",
    "UserInfo",
    "VideoPostInfo",
    "VideoSource",
    "utf16_length",
]


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the unit of TikTok's title limits (emoji count 2)."""
    return len(text.encode("utf-16-le")) // 2


def _max_utf16(limit: int) -> AfterValidator:
    def check(value: str | None) -> str | None:
        if value is not None and utf16_length(value) > limit:
            raise ValueError(f"at most {limit} UTF-16 code units, got {utf16_length(value)}")
        return value

    return AfterValidator(check)


def _https_url(value: str) -> str:
    if not re.match(r"^https://[^/?#\s]+", value):
        raise ValueError("TikTok pulls media only from absolute https:// URLs")
    return value


HttpsUrl = Annotated[str, AfterValidator(_https_url)]


class PrivacyLevel(enum.StrEnum):
    PUBLIC_TO_EVERYONE = "PUBLIC_TO_EVERYONE"
    MUTUAL_FOLLOW_FRIENDS = "MUTUAL_FOLLOW_FRIENDS"
    FOLLOWER_OF_CREATOR = "FOLLOWER_OF_CREATOR"
    SELF_ONLY = "SELF_ONLY"


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    log_id: str | None = None
    """TikTok's ``log_id`` of the response (body, else the ``x-tt-logid`` header)."""


# --------------------------------------------------------------------------- OAuth


class AuthorizationCallback(BaseModel):
    """The validated query of TikTok's redirect back to ``redirect_uri``."""

    model_config = ConfigDict(frozen=True)

    code: SecretStr
    """Already URL-decoded; pass it to ``exchange_code`` as is."""
    state: str
    granted_scopes: tuple[str, ...]
    """From the ``scopes`` parameter (users may deny some scopes)."""


def _split_scopes(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(s for s in re.split(r"[,\s]+", value) if s)
    return value


Scopes = Annotated[tuple[str, ...], BeforeValidator(_split_scopes)]


class TokenSet(_Response):
    """A token response (code exchange or refresh). Persist it atomically."""

    access_token: SecretStr
    refresh_token: SecretStr
    open_id: str
    scopes: Scopes = Field(default=(), validation_alias=AliasChoices("scope", "scopes"))
    token_type: str = "Bearer"
    expires_in: int = Field(ge=0)
    refresh_expires_in: int = Field(ge=0)
    obtained_at: datetime
    """When the request was *sent* (not answered), so computed expiries err early."""

    @property
    def access_token_expires_at(self) -> datetime:
        return self.obtained_at + timedelta(seconds=self.expires_in)

    @property
    def refresh_token_expires_at(self) -> datetime:
        return self.obtained_at + timedelta(seconds=self.refresh_expires_in)

    def missing_scopes(self, required: tuple[str, ...] | list[str]) -> tuple[str, ...]:
        """Scopes in ``required`` the user did not grant (partial grants, §1.2)."""
        return tuple(s for s in required if s not in self.scopes)


class Acknowledgement(_Response):
    """An empty success (revoke, cancel): only the ``log_id`` is worth keeping."""


class UserInfo(_Response):
    """``data.user`` of ``/v2/user/info/``; only the requested fields are set."""

    open_id: str | None = None
    union_id: str | None = None
    avatar_url: str | None = None
    avatar_url_100: str | None = None
    avatar_large_url: str | None = None
    display_name: str | None = None
    bio_description: str | None = None
    profile_deep_link: str | None = None
    is_verified: bool | None = None
    username: str | None = None
    follower_count: int | None = None
    following_count: int | None = None
    likes_count: int | None = None
    video_count: int | None = None


# --------------------------------------------------------------- Content Posting


class CreatorInfo(_Response):
    """``creator_info/query`` data. Query it right before every direct post (§8.3)."""

    creator_avatar_url: str | None = None
    creator_username: str | None = None
    creator_nickname: str | None = None
    privacy_level_options: tuple[str, ...] = ()
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_video_post_duration_sec: int | None = None

    def allows_privacy(self, level: str) -> bool:
        return level in self.privacy_level_options


def _branded_not_private(info: VideoPostInfo | PhotoPostInfo) -> None:
    if info.brand_content_toggle and info.privacy_level == PrivacyLevel.SELF_ONLY:
        raise ValueError("branded content cannot be private (SELF_ONLY)")


class VideoPostInfo(_Request):
    """``post_info`` of a Direct Post video init. Booleans are always sent explicitly."""

    privacy_level: PrivacyLevel
    title: Annotated[str | None, _max_utf16(2200)] = None
    disable_comment: StrictBool = False
    disable_duet: StrictBool = False
    disable_stitch: StrictBool = False
    video_cover_timestamp_ms: int | None = Field(default=None, ge=0, le=2**31 - 1)
    brand_content_toggle: StrictBool = False
    brand_organic_toggle: StrictBool = False
    is_aigc: StrictBool = False

    @model_validator(mode="after")
    def _check(self) -> Self:
        _branded_not_private(self)
        return self


class FileUploadSource(_Request):
    """``source_info`` for FILE_UPLOAD; build it with :meth:`for_size` or :meth:`from_plan`."""

    source: Literal["FILE_UPLOAD"] = "FILE_UPLOAD"
    video_size: int
    chunk_size: int
    total_chunk_count: int

    @model_validator(mode="after")
    def _check(self) -> Self:
        self.plan()  # raises ValueError for a plan TikTok would refuse
        return self

    @classmethod
    def from_plan(cls, plan: ChunkPlan) -> Self:
        return cls(
            video_size=plan.video_size,
            chunk_size=plan.chunk_size,
            total_chunk_count=plan.total_chunk_count,
        )

    @classmethod
    def for_size(cls, video_size: int) -> Self:
        return cls.from_plan(plan_chunks(video_size))

    def plan(self) -> ChunkPlan:
        return ChunkPlan(self.video_size, self.chunk_size, self.total_chunk_count)


class PullFromUrlSource(_Request):
    """``source_info`` for PULL_FROM_URL (the URL's domain/prefix must be verified)."""

    source: Literal["PULL_FROM_URL"] = "PULL_FROM_URL"
    video_url: HttpsUrl


VideoSource = FileUploadSource | PullFromUrlSource


class PhotoPostInfo(_Request):
    """``post_info`` of a DIRECT_POST photo post (no duet/stitch/aigc for photos)."""

    privacy_level: PrivacyLevel
    title: Annotated[str | None, _max_utf16(90)] = None
    description: Annotated[str | None, _max_utf16(4000)] = None
    disable_comment: StrictBool = False
    auto_add_music: StrictBool = False
    brand_content_toggle: StrictBool = False
    brand_organic_toggle: StrictBool = False

    @model_validator(mode="after")
    def _check(self) -> Self:
        _branded_not_private(self)
        return self


class PhotoDraftInfo(_Request):
    """``post_info`` of a MEDIA_UPLOAD (inbox draft) photo post: text only."""

    title: Annotated[str | None, _max_utf16(90)] = None
    description: Annotated[str | None, _max_utf16(4000)] = None


class PhotoSource(_Request):
    """``source_info`` of a photo post: 1-35 verified https image URLs."""

    source: Literal["PULL_FROM_URL"] = "PULL_FROM_URL"
    photo_images: tuple[HttpsUrl, ...] = Field(min_length=1, max_length=35)
    photo_cover_index: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.photo_cover_index >= len(self.photo_images):
            raise ValueError("photo_cover_index must index photo_images (0-based)")
        return self


class PublishInit(_Response):
    """Init result. ``upload_url`` (FILE_UPLOAD only) is valid for one hour."""

    publish_id: str
    upload_url: str | None = Field(default=None, repr=False)
    """Carries the upload token: treat it as a credential (never log it)."""


class PublishStatusValue(enum.StrEnum):
    PROCESSING_UPLOAD = "PROCESSING_UPLOAD"
    PROCESSING_DOWNLOAD = "PROCESSING_DOWNLOAD"
    SEND_TO_USER_INBOX = "SEND_TO_USER_INBOX"
    PUBLISH_COMPLETE = "PUBLISH_COMPLETE"
    FAILED = "FAILED"


def _exact_int64(value: Any) -> int:
    # Post ids exceed 2**53: a float has already lost digits, so refuse it.
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError("post ids must be JSON integers (a float loses precision)")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]+", value):
        return int(value)
    raise ValueError(f"not an integer post id: {value!r}")


PostId = Annotated[int, BeforeValidator(_exact_int64)]


def _none_to_empty(value: Any) -> Any:
    return () if value is None else value


class PublishStatus(_Response):
    """``status/fetch`` data. Only ``status`` is guaranteed (FAILED bodies are sparse)."""

    status: str
    fail_reason: str | None = None
    publicaly_available_post_id: Annotated[tuple[PostId, ...], BeforeValidator(_none_to_empty)] = ()
    """TikTok's spelling. Exact int64 ids; filled once the post is public and moderated."""
    uploaded_bytes: int | None = None
    downloaded_bytes: int | None = None

    @property
    def post_ids(self) -> tuple[int, ...]:
        return self.publicaly_available_post_id

    @property
    def is_processing(self) -> bool:
        return self.status in (
            PublishStatusValue.PROCESSING_UPLOAD,
            PublishStatusValue.PROCESSING_DOWNLOAD,
        )

    @property
    def is_failed(self) -> bool:
        return self.status == PublishStatusValue.FAILED

    @property
    def is_published(self) -> bool:
        return self.status == PublishStatusValue.PUBLISH_COMPLETE

    @property
    def is_in_inbox(self) -> bool:
        """Inbox flows stop here unless the user posts the draft (maybe never)."""
        return self.status == PublishStatusValue.SEND_TO_USER_INBOX

    @property
    def fail_action(self) -> TikTokAction | None:
        """For a FAILED status, what to do (see ``errors.fail_reason_action``)."""
        return fail_reason_action(self.fail_reason) if self.is_failed else None


class UploadResult(BaseModel):
    """Outcome of ``upload_file``: TikTok answered 201, processing has started."""

    model_config = ConfigDict(frozen=True)

    uploaded_bytes: int
    chunk_count: int
    chunk_retries: int = 0
    resyncs: int = 0
    log_id: str | None = None
