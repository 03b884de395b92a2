"""Request bodies of the Content Posting API, parsed strictly (JSON types, int32/int64 bounds).

Models allow extra keys so the emulator can choose, by config, whether an unknown field is
an error (`unknown_fields` lists them, nested ones as dotted paths).
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ApiError

Int32 = Annotated[int, Field(ge=0, le=2**31 - 1)]
Int64 = Annotated[int, Field(le=2**63 - 1)]
ModelT = TypeVar("ModelT", bound=BaseModel)


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow", frozen=True)


class VideoPostInfo(_Body):
    title: str | None = None
    privacy_level: str | None = None
    disable_duet: bool = False
    disable_comment: bool = False
    disable_stitch: bool = False
    video_cover_timestamp_ms: Int32 | None = None
    brand_content_toggle: bool | None = None
    brand_organic_toggle: bool = False
    is_aigc: bool = False


class VideoSourceInfo(_Body):
    source: str
    video_size: Int64 | None = None
    chunk_size: Int64 | None = None
    total_chunk_count: Int64 | None = None
    video_url: str | None = None


class DirectVideoInit(_Body):
    post_info: VideoPostInfo | None = None
    source_info: VideoSourceInfo


class InboxVideoInit(_Body):
    source_info: VideoSourceInfo
    # Not part of the documented body: accepted, recorded as ignored, never applied.
    post_info: dict[str, Any] | None = None


class PhotoPostInfo(_Body):
    title: str | None = None
    description: str | None = None
    privacy_level: str | None = None
    disable_comment: bool = False
    auto_add_music: bool = False
    brand_content_toggle: bool = False
    brand_organic_toggle: bool = False


class PhotoSourceInfo(_Body):
    source: str
    photo_images: list[str]
    photo_cover_index: Int32


class ContentInit(_Body):
    media_type: str
    post_mode: str
    post_info: PhotoPostInfo = Field(default_factory=PhotoPostInfo)
    source_info: PhotoSourceInfo


class PublishIdBody(_Body):
    publish_id: str


def parse_body(model: type[ModelT], raw: bytes, *, reject_unknown: bool) -> ModelT:
    """Validate `raw` JSON into `model`, mapping every problem to 400 `invalid_param`."""
    try:
        parsed = model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise ApiError("invalid_param", f"{where}: {first['msg']}") from None
    if reject_unknown and (unknown := unknown_fields(parsed)):
        raise ApiError("invalid_param", f"unknown field(s): {', '.join(unknown)}")
    return parsed


def unknown_fields(model: BaseModel, prefix: str = "") -> list[str]:
    found = [prefix + name for name in (model.model_extra or {})]
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, _Body):
            found.extend(unknown_fields(value, f"{prefix}{name}."))
    return found
