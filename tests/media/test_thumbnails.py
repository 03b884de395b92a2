"""Poster frames made with FFmpeg (PyAV): upright, fitted, real JPEG; none for what fails."""

from __future__ import annotations

import io

import av
import pytest

from tests.media_factory import MediaSamples
from tiktimer.media.probe import probe_file
from tiktimer.media.thumbnails import MAX_SIDE, is_thumbnail_key, poster_jpeg, thumbnail_key


def decoded(data: bytes) -> tuple[str, int, int]:
    """What FFmpeg reads in the bytes: its format and picture size."""
    with av.open(io.BytesIO(data), format="jpeg_pipe") as container:
        frame = next(container.decode(video=0))
        return container.format.name, frame.width, frame.height


@pytest.mark.parametrize(
    ("sample", "size"),
    [
        ("h264_mp4", (MAX_SIDE, 180)),  # 640×360, fitted within 320
        ("vp9_webm", (MAX_SIDE, 180)),
        ("portrait_phone_clip", (180, MAX_SIDE)),  # landscape pixels shown upright
        ("clip_200x200", (200, 200)),  # small pictures are not enlarged
        ("jpeg", (MAX_SIDE, 240)),
        ("png", (MAX_SIDE, 240)),
    ],
)
def test_poster_is_an_upright_jpeg_within_bounds(
    media_samples: MediaSamples, sample: str, size: tuple[int, int]
) -> None:
    path = media_samples[sample]
    data = poster_jpeg(path, probe_file(path))
    assert data is not None
    assert data[:2] == b"\xff\xd8"
    assert decoded(data) == ("jpeg_pipe", *size)


def test_a_file_that_cannot_be_decoded_has_no_poster(media_samples: MediaSamples) -> None:
    path = media_samples["h264_mp4"]
    info = probe_file(path)
    broken = media_samples.directory / "emptied.mp4"
    broken.write_bytes(b"\0" * 4096)
    assert poster_jpeg(broken, info) is None


def test_thumbnail_keys_sit_beside_the_media() -> None:
    key = "u/7/2026/12/06/0b8f4a3e-1111-2222-3333-444455556666.mp4"
    assert thumbnail_key(key) == "u/7/2026/12/06/0b8f4a3e-1111-2222-3333-444455556666.poster.jpg"
    assert is_thumbnail_key(thumbnail_key(key))
    assert not is_thumbnail_key(key)
    assert not is_thumbnail_key("u/7/2026/12/06/0b8f4a3e.jpg")
