"""Whether TikTok will take a file, judged against its published limits before uploading.

TikTok reports most violations only after the upload, asynchronously (`FAILED` with
`file_format_check_failed`, `picture_size_check_failed`, …), so we check up front and
tell the user why in plain words. The limits below are TikTok's media restrictions
(tiktok-api.md §5.6 and §4.4); where a source gives "MB"/"GB" we read it in decimal,
the stricter reading.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict

from tiktimer.media.probe import MediaInfo, MediaKind

VIDEO_CONTAINERS = ("mp4", "webm", "mov")
VIDEO_CODECS = ("h264", "hevc", "vp8", "vp9")
MIN_FRAME_RATE = 23
MAX_FRAME_RATE = 60
MIN_VIDEO_SIDE_PX = 360
MAX_VIDEO_SIDE_PX = 4096
#: The API's ceiling; many creators are limited lower: pass their
#: `max_video_post_duration_sec` from creator info when it is known.
MAX_VIDEO_DURATION_SEC = 600
MAX_VIDEO_BYTES = 4_000_000_000

PHOTO_FORMATS = ("jpeg", "webp")
#: "Max 1080p": the long side at most 1920 px and the short side at most 1080 px.
MAX_PHOTO_LONG_SIDE_PX = 1920
MAX_PHOTO_SHORT_SIDE_PX = 1080
MAX_PHOTO_BYTES = 20_000_000
MAX_PHOTOS_PER_POST = 35

_NAMES = {
    "mp4": "MP4",
    "mov": "MOV",
    "webm": "WebM",
    "mkv": "Matroska",
    "h264": "H.264",
    "hevc": "H.265",
    "vp8": "VP8",
    "vp9": "VP9",
    "av1": "AV1",
    "jpeg": "JPEG",
    "webp": "WebP",
    "png": "PNG",
}


class Verdict(BaseModel):
    """`ok` with no reasons, or not ok with one plain sentence per violated limit."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    reasons: list[str]
    kind: MediaKind


def tiktok_verdict(info: MediaInfo, *, max_duration_sec: float | None = None) -> Verdict:
    """Judge `info` against TikTok's limits; `max_duration_sec` overrides the API ceiling."""
    if info.kind is MediaKind.image:
        reasons = _photo_reasons(info)
    else:
        limit = MAX_VIDEO_DURATION_SEC if max_duration_sec is None else max_duration_sec
        reasons = _video_reasons(info, limit)
    return Verdict(ok=not reasons, reasons=reasons, kind=info.kind)


def _video_reasons(info: MediaInfo, max_duration_sec: float) -> list[str]:
    reasons = []
    if info.container not in VIDEO_CONTAINERS:
        reasons.append(
            f"container {_name(info.container)} is not accepted by TikTok "
            f"(use {_either(VIDEO_CONTAINERS)})"
        )
    if info.video_codec not in VIDEO_CODECS:
        reasons.append(
            f"video codec {_name(info.video_codec or 'unknown')} is not accepted by TikTok "
            f"(use {_either(VIDEO_CODECS)})"
        )
    reasons += _frame_rate_reasons(info.frame_rate)
    for side, px in (("width", info.width), ("height", info.height)):
        if px < MIN_VIDEO_SIDE_PX:
            reasons.append(f"{side} {px} px is below TikTok's minimum of {MIN_VIDEO_SIDE_PX} px")
        elif px > MAX_VIDEO_SIDE_PX:
            reasons.append(f"{side} {px} px is above TikTok's maximum of {MAX_VIDEO_SIDE_PX} px")
    if info.duration_sec is not None and info.duration_sec > max_duration_sec:
        reasons.append(
            f"duration {_num(info.duration_sec)} s is above the maximum of "
            f"{_num(max_duration_sec)} s"
        )
    if info.size_bytes > MAX_VIDEO_BYTES:
        reasons.append(
            f"file size {_gb(info.size_bytes)} is above TikTok's maximum of {_gb(MAX_VIDEO_BYTES)}"
        )
    return reasons


def _frame_rate_reasons(frame_rate: float | None) -> list[str]:
    if frame_rate is None:
        return ["the frame rate could not be determined"]
    if frame_rate < MIN_FRAME_RATE:
        return [f"frame rate {_num(frame_rate)} fps is below TikTok's minimum of {MIN_FRAME_RATE}"]
    if frame_rate > MAX_FRAME_RATE:
        return [f"frame rate {_num(frame_rate)} fps is above TikTok's maximum of {MAX_FRAME_RATE}"]
    return []


def _photo_reasons(info: MediaInfo) -> list[str]:
    reasons = []
    if info.container not in PHOTO_FORMATS:
        reasons.append(
            f"{_name(info.container)} images are not accepted by TikTok "
            f"(use {_either(PHOTO_FORMATS)})"
        )
    long_side, short_side = max(info.width, info.height), min(info.width, info.height)
    if long_side > MAX_PHOTO_LONG_SIDE_PX or short_side > MAX_PHOTO_SHORT_SIDE_PX:
        reasons.append(
            f"image {info.width}x{info.height} px is larger than TikTok's maximum of 1080p "
            f"({MAX_PHOTO_LONG_SIDE_PX}x{MAX_PHOTO_SHORT_SIDE_PX} either way round)"
        )
    if info.size_bytes > MAX_PHOTO_BYTES:
        reasons.append(
            f"image file size {_mb(info.size_bytes)} is above TikTok's maximum of "
            f"{_mb(MAX_PHOTO_BYTES)}"
        )
    return reasons


def _name(code: str) -> str:
    return _NAMES.get(code, code.upper())


def _either(codes: tuple[str, ...]) -> str:
    names = [_name(code) for code in codes]
    return f"{', '.join(names[:-1])} or {names[-1]}"


def _num(value: float) -> str:
    return f"{value:g}"


def _gb(size: int) -> str:
    # Rounded up, so a file just over the limit never reads as equal to it.
    return f"{math.ceil(size / 1e7) / 100:g} GB"


def _mb(size: int) -> str:
    return f"{math.ceil(size / 1e5) / 10:g} MB"
