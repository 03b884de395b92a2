"""Poster frames: a small JPEG of each upload, made with FFmpeg (via PyAV, as probing is).

The picture is a video's frame a moment in (the very first is often black) or an image
itself, turned as players turn it (the display matrix) and fitted within `MAX_SIDE`
pixels. It is stored beside the media's object, under `thumbnail_key(media key)`, through
the same `Storage`, so local disk and S3 both hold it; whoever removes the media's object
removes it too. A file we cannot make a poster of simply has none: the upload never fails
for it.

`poster_jpeg` blocks (it decodes video); run it in a worker thread.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from tiktimer.media.probe import DEMUXERS, MAX_DECODE_PIXELS, MediaInfo, MediaKind

log = logging.getLogger("tiktimer.media")

MAX_SIDE = 320
_SUFFIX = ".poster.jpg"
#: A video's poster is its picture this far in, or at a quarter of a shorter clip.
_POSTER_SECONDS = 1.0
#: Frames decoded after the seek at most, so a damaged index cannot make it read on and on.
_MAX_FRAMES = 120
_TIME_BASE = Fraction(1, 30)
# Display rotation (counter-clockwise degrees) → the filters that turn the picture upright.
_TURNS: dict[int, tuple[tuple[str, str | None], ...]] = {
    90: (("transpose", "cclock"),),
    180: (("hflip", None), ("vflip", None)),
    270: (("transpose", "clock"),),
}


def thumbnail_key(media_key: str) -> str:
    """`u/1/2026/12/06/<id>.mp4` → `u/1/2026/12/06/<id>.poster.jpg` (beside the media)."""
    stem, _, last = media_key.rpartition("/")
    name = last.split(".", 1)[0]
    return f"{stem}/{name}{_SUFFIX}" if stem else f"{name}{_SUFFIX}"


def is_thumbnail_key(key: str) -> bool:
    return key.endswith(_SUFFIX)


def poster_jpeg(path: Path, info: MediaInfo) -> bytes | None:
    """The poster of probed media as JPEG bytes, or None if none can be made."""
    if info.width * info.height > MAX_DECODE_PIXELS:
        return None
    try:
        options = {"format_whitelist": DEMUXERS}
        with av.open(str(path), container_options=options, metadata_errors="replace") as container:
            frame = _poster_frame(container, info)
            return None if frame is None else _encode(_fitted(frame, info.rotation))
    except (av.FFmpegError, ValueError, ArithmeticError, LookupError, EOFError) as exc:
        log.info("media.thumbnail.failed reason=%s", type(exc).__name__)
        return None


def _poster_frame(container: Any, info: MediaInfo) -> Any:
    stream = next(s for s in container.streams.video)
    target = 0.0
    if info.kind == MediaKind.video and info.duration_sec:
        target = min(_POSTER_SECONDS, info.duration_sec / 4)
        if target > 0 and stream.time_base is not None:
            container.seek(int(target / stream.time_base), stream=stream, backward=True)
    found = None
    for count, frame in enumerate(container.decode(stream)):
        found = frame
        if frame.time is None or frame.time >= target or count >= _MAX_FRAMES:
            break
    return found


def _fitted(frame: Any, rotation: int) -> Any:
    """The frame turned upright and scaled within MAX_SIDE × MAX_SIDE, in JPEG's colours."""
    turns = _TURNS.get(round(rotation / 90) * 90 % 360, ())
    quarter = len(turns) == 1  # a quarter turn swaps width and height
    width, height = (frame.height, frame.width) if quarter else (frame.width, frame.height)
    scale = min(1.0, MAX_SIDE / max(width, height))
    size = f"{max(2, round(width * scale / 2) * 2)}:{max(2, round(height * scale / 2) * 2)}"
    graph = av.filter.Graph()
    nodes = [
        graph.add_buffer(
            width=frame.width, height=frame.height, format=frame.format, time_base=_TIME_BASE
        )
    ]
    nodes += [graph.add(name, args) for name, args in turns]
    nodes += [graph.add("scale", size), graph.add("format", "yuvj420p"), graph.add("buffersink")]
    graph.link_nodes(*nodes).configure()
    frame.pts = None
    graph.vpush(frame)
    return graph.vpull()


def _encode(frame: Any) -> bytes:
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height, codec.pix_fmt = frame.width, frame.height, "yuvj420p"
    codec.time_base = _TIME_BASE
    return b"".join(bytes(packet) for packet in (*codec.encode(frame), *codec.encode(None)))
