"""TikTok's verdict: one plain reason per limit a file breaks (tiktok-api.md §5.6, §4.4)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.media_factory import LONG_CLIP_SECONDS, MediaSamples
from tiktimer.media.probe import MediaInfo, MediaKind, probe_file
from tiktimer.media.verdict import (
    MAX_VIDEO_BYTES,
    MAX_VIDEO_DURATION_SEC,
    Verdict,
    tiktok_verdict,
)


def video(**overrides: Any) -> MediaInfo:
    fields: dict[str, Any] = {
        "kind": MediaKind.video,
        "container": "mp4",
        "format_name": "mov,mp4,m4a,3gp,3g2,mj2",
        "size_bytes": 10_000_000,
        "width": 1080,
        "height": 1920,
        "video_codec": "h264",
        "frame_rate": 30.0,
        "duration_sec": 42.0,
        "has_audio": True,
    }
    return MediaInfo(**(fields | overrides))


def photo(**overrides: Any) -> MediaInfo:
    fields: dict[str, Any] = {
        "kind": MediaKind.image,
        "container": "jpeg",
        "format_name": "jpeg_pipe",
        "size_bytes": 500_000,
        "width": 1080,
        "height": 1920,
    }
    return MediaInfo(**(fields | overrides))


def reasons(info: MediaInfo, **kwargs: Any) -> list[str]:
    return tiktok_verdict(info, **kwargs).reasons


def test_a_typical_phone_video_is_accepted() -> None:
    assert tiktok_verdict(video()) == Verdict(ok=True, reasons=[], kind=MediaKind.video)


@pytest.mark.parametrize(
    "overrides",
    [
        {"container": "mov"},
        {"container": "webm", "video_codec": "vp9"},
        {"container": "webm", "video_codec": "vp8"},
        {"video_codec": "hevc"},
        {"frame_rate": 23.0},
        {"frame_rate": 23.976},
        {"frame_rate": 60.0},
        {"width": 360, "height": 360},
        {"width": 4096, "height": 2160},
        {"duration_sec": float(MAX_VIDEO_DURATION_SEC)},
        {"size_bytes": MAX_VIDEO_BYTES},
    ],
)
def test_limits_are_inclusive(overrides: dict[str, Any]) -> None:
    assert reasons(video(**overrides)) == []


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"frame_rate": 15.0}, "frame rate 15 fps is below TikTok's minimum of 23"),
        ({"frame_rate": 22.9}, "frame rate 22.9 fps is below TikTok's minimum of 23"),
        ({"frame_rate": 120.0}, "frame rate 120 fps is above TikTok's maximum of 60"),
        ({"frame_rate": None}, "the frame rate could not be determined"),
        ({"width": 200}, "width 200 px is below TikTok's minimum of 360 px"),
        ({"height": 359}, "height 359 px is below TikTok's minimum of 360 px"),
        ({"width": 7680}, "width 7680 px is above TikTok's maximum of 4096 px"),
        ({"duration_sec": 600.5}, "duration 600.5 s is above the maximum of 600 s"),
        (
            {"size_bytes": MAX_VIDEO_BYTES + 1},
            "file size 4.01 GB is above TikTok's maximum of 4 GB",
        ),
        (
            {"size_bytes": 4_600_000_000},
            "file size 4.6 GB is above TikTok's maximum of 4 GB",
        ),
        (
            {"container": "mkv"},
            "container Matroska is not accepted by TikTok (use MP4, WebM or MOV)",
        ),
        (
            {"container": "avi"},
            "container AVI is not accepted by TikTok (use MP4, WebM or MOV)",
        ),
        (
            {"video_codec": "av1"},
            "video codec AV1 is not accepted by TikTok (use H.264, H.265, VP8 or VP9)",
        ),
    ],
)
def test_each_broken_video_limit_has_a_reason(overrides: dict[str, Any], reason: str) -> None:
    verdict = tiktok_verdict(video(**overrides))

    assert not verdict.ok
    assert verdict.reasons == [reason]


def test_every_broken_limit_is_reported() -> None:
    info = video(container="avi", video_codec="mpeg4", frame_rate=15.0, width=200, height=200)

    assert len(reasons(info)) == 5


def test_duration_limit_can_be_lowered_per_creator() -> None:
    assert reasons(video(duration_sec=200.0)) == []
    assert reasons(video(duration_sec=200.0), max_duration_sec=180) == [
        "duration 200 s is above the maximum of 180 s"
    ]


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"container": "webp"},
        {"width": 1920, "height": 1080},
        {"width": 1080, "height": 1920},
        {"size_bytes": 20_000_000},
    ],
)
def test_photos_within_limits_are_accepted(overrides: dict[str, Any]) -> None:
    assert tiktok_verdict(photo(**overrides)) == Verdict(ok=True, reasons=[], kind=MediaKind.image)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"container": "png"}, "PNG images are not accepted by TikTok (use JPEG or WebP)"),
        ({"container": "heic"}, "HEIC images are not accepted by TikTok (use JPEG or WebP)"),
        (
            {"width": 2048, "height": 1080},
            "image 2048x1080 px is larger than TikTok's maximum of 1080p "
            "(1920x1080 either way round)",
        ),
        (
            {"width": 1200, "height": 1200},
            "image 1200x1200 px is larger than TikTok's maximum of 1080p "
            "(1920x1080 either way round)",
        ),
        (
            {"size_bytes": 25_000_000},
            "image file size 25 MB is above TikTok's maximum of 20 MB",
        ),
    ],
)
def test_each_broken_photo_limit_has_a_reason(overrides: dict[str, Any], reason: str) -> None:
    verdict = tiktok_verdict(photo(**overrides))

    assert (verdict.ok, verdict.reasons, verdict.kind) == (False, [reason], MediaKind.image)


# The same verdicts on real files, probed.


@pytest.mark.parametrize("sample", ["h264_mp4", "h265_mp4", "h264_mov", "vp9_webm", "vp8_webm"])
def test_real_videos_tiktok_takes(media_samples: MediaSamples, sample: str) -> None:
    assert tiktok_verdict(probe_file(media_samples[sample])).ok


@pytest.mark.parametrize("sample", ["jpeg", "webp"])
def test_real_photos_tiktok_takes(media_samples: MediaSamples, sample: str) -> None:
    assert tiktok_verdict(probe_file(media_samples[sample])).ok


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("clip_15fps", ["frame rate 15 fps is below TikTok's minimum of 23"]),
        (
            "clip_200x200",
            [
                "width 200 px is below TikTok's minimum of 360 px",
                "height 200 px is below TikTok's minimum of 360 px",
            ],
        ),
        ("png", ["PNG images are not accepted by TikTok (use JPEG or WebP)"]),
        (
            "mpeg4_mkv",
            [
                "container Matroska is not accepted by TikTok (use MP4, WebM or MOV)",
                "video codec MPEG4 is not accepted by TikTok (use H.264, H.265, VP8 or VP9)",
            ],
        ),
        (
            "large_jpeg",
            [
                "image 2048x1080 px is larger than TikTok's maximum of 1080p "
                "(1920x1080 either way round)"
            ],
        ),
    ],
)
def test_real_files_tiktok_refuses(
    media_samples: MediaSamples, sample: str, expected: list[str]
) -> None:
    assert tiktok_verdict(probe_file(media_samples[sample])).reasons == expected


def test_real_clip_longer_than_the_limit(media_samples: MediaSamples) -> None:
    info = probe_file(media_samples["long_clip"])
    limit = LONG_CLIP_SECONDS / 2

    assert tiktok_verdict(info).ok
    assert reasons(info, max_duration_sec=limit) == [
        f"duration {info.duration_sec:g} s is above the maximum of {limit:g} s"
    ]


def test_verdict_is_json_ready() -> None:
    verdict = tiktok_verdict(video(frame_rate=15.0))

    assert verdict.model_dump(mode="json") == {
        "ok": False,
        "reasons": ["frame rate 15 fps is below TikTok's minimum of 23"],
        "kind": "video",
    }
