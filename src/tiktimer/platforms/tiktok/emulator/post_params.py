"""The 400s of Content Posting: what TikTok refuses in the request itself.

These run before any check of the creator's or client's standing (the 403s in
`publishing`), as the reference orders them; none needs the emulator's state.
"""

from __future__ import annotations

from .chunks import ChunkPlan, validate_plan
from .config import EmulatorConfig
from .enums import MediaType, PostMode, PrivacyLevel, Source
from .errors import ApiError
from .models import Creator
from .schemas import ContentInit, VideoPostInfo, VideoSourceInfo
from .text import PHOTO_DESCRIPTION_MAX, PHOTO_TITLE_MAX, utf16_length

MAX_PHOTOS = 35


def video_source(
    source: VideoSourceInfo, config: EmulatorConfig
) -> tuple[ChunkPlan | None, str | None]:
    """The chunk plan of a FILE_UPLOAD, or the URL of a PULL_FROM_URL."""
    if source.source == Source.FILE_UPLOAD:
        size, chunk, count = source.video_size, source.chunk_size, source.total_chunk_count
        if size is None or chunk is None or count is None:
            raise ApiError(
                "invalid_param",
                "FILE_UPLOAD needs video_size, chunk_size and total_chunk_count.",
            )
        return validate_plan(size, chunk, count, config), None
    if source.source == Source.PULL_FROM_URL:
        if not source.video_url:
            raise ApiError("invalid_param", "PULL_FROM_URL needs video_url.")
        return None, source.video_url
    raise ApiError("invalid_param", "source_info.source must be FILE_UPLOAD or PULL_FROM_URL.")


def check_length(field: str, text: str | None, limit: int) -> None:
    """TikTok counts text limits in UTF-16 code units, not characters."""
    if text is not None and utf16_length(text) > limit:
        raise ApiError("invalid_param", f"{field} exceeds {limit} UTF-16 code units.")


def check_video_ux(post: VideoPostInfo, privacy: PrivacyLevel, creator: Creator) -> None:
    """The UX rules a video post must honour: toggles the creator disabled stay off."""
    if post.brand_content_toggle is None:
        raise ApiError("invalid_param", "post_info.brand_content_toggle is required.")
    check_photo_ux(post.brand_content_toggle, post.disable_comment, privacy, creator)
    settings = creator.settings
    if (settings.duet_disabled or settings.is_private) and not post.disable_duet:
        raise ApiError("invalid_param", "The creator disabled duets: send disable_duet=true.")
    if (settings.stitch_disabled or settings.is_private) and not post.disable_stitch:
        raise ApiError("invalid_param", "The creator disabled stitches: send disable_stitch=true.")


def check_photo_ux(
    branded: bool, disable_comment: bool, privacy: PrivacyLevel, creator: Creator
) -> None:
    """Branded content is never private; comments off when the creator disabled them."""
    if branded and privacy is PrivacyLevel.SELF_ONLY:
        raise ApiError("invalid_param", "Branded content visibility cannot be set to private.")
    if creator.settings.comment_disabled and not disable_comment:
        raise ApiError("invalid_param", "The creator disabled comments: send disable_comment=true.")


def check_photo_params(body: ContentInit) -> None:
    """The shape of a photo init: PULL_FROM_URL, 1-35 images, a cover among them."""
    if body.media_type != MediaType.PHOTO:
        raise ApiError("invalid_param", "media_type must be PHOTO.")
    if body.post_mode not in set(PostMode):
        raise ApiError("invalid_param", "post_mode must be DIRECT_POST or MEDIA_UPLOAD.")
    source = body.source_info
    if source.source != Source.PULL_FROM_URL:
        raise ApiError("invalid_param", "Photos can only be posted with PULL_FROM_URL.")
    if not 1 <= len(source.photo_images) <= MAX_PHOTOS:
        raise ApiError("invalid_param", f"photo_images must hold 1 to {MAX_PHOTOS} URLs.")
    if source.photo_cover_index >= len(source.photo_images):
        raise ApiError("invalid_param", "photo_cover_index is out of range.")
    check_length("post_info.title", body.post_info.title, PHOTO_TITLE_MAX)
    check_length("post_info.description", body.post_info.description, PHOTO_DESCRIPTION_MAX)
