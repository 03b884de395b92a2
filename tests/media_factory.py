"""Real, tiny media files generated with PyAV at test time (no binary fixtures in the repo).

Each generator writes into a directory and returns the path. `MediaSamples` builds a
named sample on first use and reuses it, so a session pays only for what its tests use:

    samples = MediaSamples(tmp_path_factory.mktemp("media"))
    info = probe_file(samples["vp9_webm"])

Videos are 1 s of 640x360 at 30 fps unless the name says otherwise; encoding each takes
a few tens of milliseconds. "Too long" is tested cheaply: `long_clip` lasts
`LONG_CLIP_SECONDS` and tests lower the verdict's limit below that.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import av

LONG_CLIP_SECONDS = 2.0
_FAST = {
    "libx264": {"preset": "ultrafast"},
    "libx265": {"preset": "ultrafast", "x265-params": "log-level=none"},
    "libvpx": {"deadline": "realtime", "cpu-used": "8"},
    "libvpx-vp9": {"deadline": "realtime", "cpu-used": "8"},
}


@contextmanager
def normal_scheduling() -> Iterator[None]:
    """SVT-AV1 (FFmpeg's AV1 encoder, for the AVIF sample) run as root moves the thread that
    calls it to SCHED_FIFO 99. Every process the tests start afterwards would inherit that,
    and one busy real-time Chromium or server then starves the machine (tests hang, CI runs
    out of time). The thread gets its own policy back."""
    policy, param = os.sched_getscheduler(0), os.sched_getparam(0)
    try:
        yield
    finally:
        if os.sched_getscheduler(0) != policy:
            os.sched_setscheduler(0, policy, param)


_AUDIO_CODEC = {"mp4": "aac", "mov": "aac", "webm": "libopus", "matroska": "libopus"}


def _picture(width: int, height: int, index: int, pix_fmt: str = "yuv420p") -> av.VideoFrame:
    """A flat frame whose shade changes over time, so encoders see motion."""
    frame = av.VideoFrame(width, height, "yuv420p")
    for plane_index, plane in enumerate(frame.planes):
        plane.update(bytes([(index * 7 + plane_index * 60) % 256]) * plane.buffer_size)
    frame.pts = index
    return frame if pix_fmt == "yuv420p" else frame.reformat(format=pix_fmt)


def write_video(
    path: Path,
    *,
    fmt: str = "mp4",
    codec: str = "libx264",
    fps: int = 30,
    width: int = 640,
    height: int = 360,
    seconds: float = 1.0,
    audio: bool = False,
    rotation: int = 0,
    container_options: dict[str, str] | None = None,
) -> Path:
    with (
        normal_scheduling(),
        av.open(str(path), "w", format=fmt, container_options=container_options or {}) as out,
    ):
        video: Any = out.add_stream(codec, rate=fps, options=_FAST.get(codec, {}))
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        if rotation:
            video.set_display_rotation(rotation)
        sound = _add_audio(out, _AUDIO_CODEC[fmt]) if audio else None
        for index in range(round(seconds * fps)):
            out.mux(video.encode(_picture(width, height, index)))
        out.mux(video.encode(None))
        if sound is not None:
            _write_silence(out, sound, seconds)
    return path


def _add_audio(out: Any, codec: str) -> Any:
    return out.add_stream(codec, rate=48000, layout="stereo")


def _write_silence(out: Any, stream: Any, seconds: float) -> None:
    samples = stream.codec_context.frame_size or 1024
    for start in range(0, round(seconds * 48000), samples):
        frame = av.AudioFrame(
            format=stream.codec_context.format.name, layout="stereo", samples=samples
        )
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.sample_rate, frame.pts = 48000, start
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


# muxer, encoder and pixel format per image format
_IMAGE_ENCODERS = {
    "jpeg": ("image2", "mjpeg", "yuvj420p"),
    "webp": ("webp", "libwebp", "yuv420p"),
    "png": ("image2", "png", "rgb24"),
    "avif": ("avif", "libsvtav1", "yuv420p"),
}


def write_image(path: Path, image_format: str, *, width: int = 320, height: int = 240) -> Path:
    muxer, codec, pix_fmt = _IMAGE_ENCODERS[image_format]
    with normal_scheduling(), av.open(str(path), "w", format=muxer) as out:
        stream: Any = out.add_stream(codec, rate=1)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        out.mux(stream.encode(_picture(width, height, 0, pix_fmt)))
        out.mux(stream.encode(None))
    return path


# Videos


def h264_mp4(directory: Path) -> Path:
    return write_video(directory / "h264.mp4", audio=True)


def h265_mp4(directory: Path) -> Path:
    return write_video(directory / "h265.mp4", codec="libx265")


def h264_mov(directory: Path) -> Path:
    return write_video(directory / "h264.mov", fmt="mov")


def vp9_webm(directory: Path) -> Path:
    return write_video(directory / "vp9.webm", fmt="webm", codec="libvpx-vp9", audio=True)


def vp8_webm(directory: Path) -> Path:
    return write_video(directory / "vp8.webm", fmt="webm", codec="libvpx")


def mpeg4_mkv(directory: Path) -> Path:
    """A container and a codec TikTok does not take."""
    return write_video(directory / "mpeg4.mkv", fmt="matroska", codec="mpeg4")


def clip_15fps(directory: Path) -> Path:
    return write_video(directory / "15fps.mp4", fps=15)


def clip_200x200(directory: Path) -> Path:
    return write_video(directory / "200x200.mp4", width=200, height=200)


def portrait_phone_clip(directory: Path) -> Path:
    """Recorded sideways like a phone does: landscape pixels, a 90° display matrix."""
    return write_video(directory / "portrait.mov", fmt="mov", rotation=90)


def long_clip(directory: Path) -> Path:
    """Longer than a lowered duration limit (see `LONG_CLIP_SECONDS`)."""
    return write_video(directory / "long.mp4", seconds=LONG_CLIP_SECONDS)


def audio_only(directory: Path) -> Path:
    path = directory / "audio.m4a"
    with normal_scheduling(), av.open(str(path), "w", format="mp4") as out:
        _write_silence(out, _add_audio(out, "aac"), 1.0)
    return path


# Images


def jpeg(directory: Path) -> Path:
    return write_image(directory / "photo.jpg", "jpeg")


def webp(directory: Path) -> Path:
    return write_image(directory / "photo.webp", "webp")


def png(directory: Path) -> Path:
    return write_image(directory / "photo.png", "png")


def large_jpeg(directory: Path) -> Path:
    """Above TikTok's 1080p photo limit."""
    return write_image(directory / "large.jpg", "jpeg", width=2048, height=1080)


def avif(directory: Path) -> Path:
    """A HEIF-family still (the same box format as iPhone HEIC photos)."""
    return write_image(directory / "photo.avif", "avif")


# Things that only look like media


def renamed_text(directory: Path) -> Path:
    path = directory / "notes.mp4"
    path.write_text("These are my notes, not a video.\n" * 50)
    return path


def jpeg_named_mp4(directory: Path) -> Path:
    path = directory / "photo-as-video.mp4"
    shutil.copyfile(jpeg(directory), path)
    return path


def truncated_mp4(directory: Path) -> Path:
    """An upload cut in half; the index (moov) was to come at the end."""
    return _truncate(write_video(directory / "full.mp4", seconds=2.0), directory / "cut.mp4", 0.5)


def truncated_faststart_mp4(directory: Path) -> Path:
    """The index comes first and opens fine; the frames it lists are missing."""
    full = write_video(
        directory / "full-faststart.mp4", seconds=2.0, container_options={"movflags": "+faststart"}
    )
    return _truncate(full, directory / "cut-faststart.mp4", 0.7)


def truncated_webm(directory: Path) -> Path:
    full = write_video(directory / "full.webm", fmt="webm", codec="libvpx-vp9", seconds=2.0)
    return _truncate(full, directory / "cut.webm", 0.6)


def _truncate(source: Path, target: Path, fraction: float) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * fraction)])
    return target


SAMPLES: dict[str, Callable[[Path], Path]] = {
    function.__name__: function
    for function in (
        h264_mp4,
        h265_mp4,
        h264_mov,
        vp9_webm,
        vp8_webm,
        mpeg4_mkv,
        clip_15fps,
        clip_200x200,
        portrait_phone_clip,
        long_clip,
        audio_only,
        jpeg,
        webp,
        png,
        large_jpeg,
        avif,
        renamed_text,
        jpeg_named_mp4,
        truncated_mp4,
        truncated_faststart_mp4,
        truncated_webm,
    )
}


class MediaSamples:
    """Named samples generated on first use into one directory, then reused."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._built: dict[str, Path] = {}

    def __getitem__(self, name: str) -> Path:
        if name not in self._built:
            workdir = self.directory / name
            workdir.mkdir()
            self._built[name] = SAMPLES[name](workdir)
        return self._built[name]
