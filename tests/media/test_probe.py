"""`probe_file` on real files generated with PyAV: what they are, whatever they are called."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import av
import pytest

from tests.media_factory import LONG_CLIP_SECONDS, MediaSamples
from tiktimer.media.probe import MediaInfo, MediaKind, NotMediaError, probe_file
from tiktimer.media.verdict import tiktok_verdict


@pytest.mark.parametrize(
    ("sample", "container", "codec", "content_type"),
    [
        ("h264_mp4", "mp4", "h264", "video/mp4"),
        ("h265_mp4", "mp4", "hevc", "video/mp4"),
        ("h264_mov", "mov", "h264", "video/quicktime"),
        ("vp9_webm", "webm", "vp9", "video/webm"),
        ("vp8_webm", "webm", "vp8", "video/webm"),
        ("mpeg4_mkv", "mkv", "mpeg4", "video/x-matroska"),
    ],
)
def test_videos(
    media_samples: MediaSamples, sample: str, container: str, codec: str, content_type: str
) -> None:
    info = probe_file(media_samples[sample])

    assert info.kind is MediaKind.video
    assert (info.container, info.video_codec) == (container, codec)
    assert (info.width, info.height) == (640, 360)
    assert info.frame_rate == 30
    assert info.duration_sec == pytest.approx(1.0, abs=0.05)
    assert info.size_bytes == media_samples[sample].stat().st_size
    assert (info.bit_rate or 0) > 0
    assert info.rotation == 0
    assert info.content_type == content_type


def test_audio_is_detected(media_samples: MediaSamples) -> None:
    assert probe_file(media_samples["h264_mp4"]).has_audio
    assert probe_file(media_samples["vp9_webm"]).has_audio
    assert not probe_file(media_samples["h264_mov"]).has_audio


def test_frame_rate_duration_and_size_are_read_from_the_streams(
    media_samples: MediaSamples,
) -> None:
    assert probe_file(media_samples["clip_15fps"]).frame_rate == 15
    assert probe_file(media_samples["long_clip"]).duration_sec == pytest.approx(
        LONG_CLIP_SECONDS, abs=0.05
    )
    small = probe_file(media_samples["clip_200x200"])
    assert (small.width, small.height) == (200, 200)


def test_display_rotation_is_reported(media_samples: MediaSamples) -> None:
    info = probe_file(media_samples["portrait_phone_clip"])

    assert (info.width, info.height, info.rotation) == (640, 360, 90)
    assert tiktok_verdict(info).ok


@pytest.mark.parametrize(
    ("sample", "image_format", "size"),
    [
        ("jpeg", "jpeg", (320, 240)),
        ("webp", "webp", (320, 240)),
        ("png", "png", (320, 240)),
        ("large_jpeg", "jpeg", (2048, 1080)),
    ],
)
def test_images(
    media_samples: MediaSamples, sample: str, image_format: str, size: tuple[int, int]
) -> None:
    info = probe_file(media_samples[sample])

    assert info.kind is MediaKind.image
    assert info.container == image_format
    assert (info.width, info.height) == size
    assert (info.video_codec, info.frame_rate, info.duration_sec) == (None, None, None)


def test_heif_family_stills_are_images(media_samples: MediaSamples) -> None:
    if "libsvtav1" not in av.codecs_available:
        pytest.skip("this FFmpeg build has no AV1 encoder to make a sample")

    info = probe_file(media_samples["avif"])

    assert (info.kind, info.container, info.content_type) == (MediaKind.image, "avif", "image/avif")
    assert (info.width, info.height) == (320, 240)


@pytest.mark.parametrize("sample", ["h264_mp4", "vp9_webm", "jpeg", "png"])
@pytest.mark.parametrize("name", ["upload", "upload.png", "upload.mp4", "upload.txt"])
def test_the_file_name_does_not_matter(
    media_samples: MediaSamples, tmp_path: Path, sample: str, name: str
) -> None:
    renamed = shutil.copyfile(media_samples[sample], tmp_path / name)

    assert probe_file(renamed) == probe_file(media_samples[sample])


def test_an_image_named_like_a_video_is_an_image(media_samples: MediaSamples) -> None:
    info = probe_file(media_samples["jpeg_named_mp4"])

    assert (info.kind, info.container, info.extension) == (MediaKind.image, "jpeg", ".jpg")


@pytest.mark.parametrize(
    ("sample", "reason"),
    [
        ("renamed_text", "not a video or image we can read"),
        ("truncated_mp4", "truncated"),
        ("truncated_faststart_mp4", "truncated"),
        ("truncated_webm", "truncated"),
        ("audio_only", r"no video or image stream \(audio only\)"),
    ],
)
def test_not_media(media_samples: MediaSamples, sample: str, reason: str) -> None:
    with pytest.raises(NotMediaError, match=reason):
        probe_file(media_samples[sample])


def test_huge_pictures_are_measured_without_decoding(
    media_samples: MediaSamples, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tiktimer.media.probe.MAX_DECODE_PIXELS", 100)

    info = probe_file(media_samples["jpeg"])

    assert (info.width, info.height) == (320, 240)


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.mp4").touch()

    with pytest.raises(NotMediaError, match="empty"):
        probe_file(tmp_path / "empty.mp4")


def test_playlists_are_not_followed(tmp_path: Path) -> None:
    playlist = tmp_path / "video.m3u8"
    playlist.write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/hostname\n#EXT-X-ENDLIST\n"
    )

    with pytest.raises(NotMediaError):
        probe_file(playlist)


@pytest.mark.parametrize("sample", ["h264_mp4", "vp9_webm", "jpeg"])
def test_damaged_files_only_ever_raise_not_media(
    media_samples: MediaSamples, tmp_path: Path, sample: str
) -> None:
    """Cuts and overwrites anywhere give a MediaInfo or NotMediaError, never another error."""
    data = media_samples[sample].read_bytes()
    damaged = tmp_path / "damaged"
    for step in range(1, 40):
        at = len(data) * step // 40
        for variant in (data[:at], data[:at] + bytes(64) + data[at + 64 :]):
            damaged.write_bytes(variant)
            try:
                probe_file(damaged)
            except NotMediaError:
                pass


def test_media_info_roundtrips_through_json(media_samples: MediaSamples) -> None:
    info = probe_file(media_samples["h264_mp4"])

    stored = json.loads(json.dumps(info.model_dump(mode="json")))

    assert stored["kind"] == "video"
    assert stored["has_audio"] is True
    assert MediaInfo.model_validate(stored) == info
