"""What an uploaded file really is, read by FFmpeg's own demuxers and decoders (via PyAV).

The file's name and the client's Content-Type are never consulted: FFmpeg gets the bytes
as a nameless stream, so its format probe cannot lean on an extension. A file counts as
media only if FFmpeg can open it with one of a few demuxers (no playlists or other
formats that open further files or URLs), decode its first picture, and, for videos,
read its tail up to the end its index declares. That last step catches the usual damage,
an upload cut short, which otherwise opens fine when the MP4 index sits at the front.

`probe_file` blocks (it reads the file and decodes a frame); run it in a worker thread.
"""

from __future__ import annotations

import struct
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO

import av
from pydantic import BaseModel, ConfigDict

# Demuxers allowed to read uploads: what TikTok takes plus a few common look-alikes that
# are worth a precise verdict. None of them opens other files or URLs.
DEMUXERS = (
    "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,flv,mpegts,"
    "jpeg_pipe,png_pipe,webp_pipe,gif,bmp_pipe,tiff_pipe"
)
_IMAGE_CODECS = {"mjpeg": "jpeg", "png": "png", "webp": "webp", "gif": "gif", "bmp": "bmp"}
# ISO-BMFF brands of still images (HEIF from iPhones, AVIF).
_IMAGE_BRANDS = {"heic": "heic", "heix": "heic", "mif1": "heif", "msf1": "heif", "avif": "avif"}
_BMFF_FIRST_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"})
_WEBM_CODECS = frozenset({"vp8", "vp9", "av1", "vorbis", "opus"})
# Pictures this large are not decoded (a decompression bomb costs gigabytes); their
# dimensions alone already fail every TikTok limit.
MAX_DECODE_PIXELS = 8192 * 8192
# How far before the declared end the tail check starts reading, and how much earlier than
# declared the data may end: muxers derive the declared duration from the same packets
# (complete files measure within a few ms), while a cut-off upload loses whole clusters.
_TAIL_SECONDS = 1.0
_END_TOLERANCE_SECONDS = 0.1

_CONTENT_TYPES = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "png": "image/png",
    "gif": "image/gif",
    "heic": "image/heic",
    "heif": "image/heif",
    "avif": "image/avif",
}
_EXTENSIONS = {"jpeg": ".jpg"}


class NotMediaError(ValueError):
    """The file is not a video or image we can read; the message says why, for the user."""


class MediaKind(StrEnum):
    video = "video"
    image = "image"


class MediaInfo(BaseModel):
    """Facts read from the file's real streams; `model_dump(mode="json")` for JSON columns."""

    model_config = ConfigDict(frozen=True)

    kind: MediaKind
    #: Normalised format: mp4, mov, webm, mkv, 3gp, … for videos; jpeg, webp, png, … for images.
    container: str
    #: The FFmpeg demuxer that read the file, e.g. "mov,mp4,m4a,3gp,3g2,mj2".
    format_name: str
    size_bytes: int
    #: Coded picture size; `rotation` says how players turn it for display.
    width: int
    height: int
    video_codec: str | None = None
    frame_rate: float | None = None
    duration_sec: float | None = None
    has_audio: bool = False
    bit_rate: int | None = None
    #: Display rotation in degrees from the container's display matrix (phones record sideways).
    rotation: int = 0

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES.get(self.container, "application/octet-stream")

    @property
    def extension(self) -> str:
        """File extension for storage keys, derived from the real format."""
        return _EXTENSIONS.get(self.container, f".{self.container}")


def probe_file(path: Path) -> MediaInfo:
    """Inspect `path`; raise `NotMediaError` unless it is a readable, complete video or image."""
    with path.open("rb") as f:
        size = _file_size(f)
        if size == 0:
            raise NotMediaError("the file is empty")
        if _is_iso_bmff(f) and _boxes_overrun(f, size):
            raise NotMediaError("the file is truncated (its MP4/MOV boxes run past its end)")
        f.seek(0)
        try:
            with av.open(
                _Nameless(f),
                container_options={"format_whitelist": DEMUXERS},
                metadata_errors="replace",
            ) as container:
                return _inspect(container, size)
        except NotMediaError:
            raise
        except (av.FFmpegError, ValueError, ArithmeticError, LookupError, EOFError) as exc:
            # PyAV raises FFmpegError subclasses for what FFmpeg rejects, and a few plain
            # Python errors when headers are nonsense; all mean "not readable media".
            raise NotMediaError(
                f"it is not a video or image we can read ({_describe(exc)})"
            ) from exc


class _Nameless:
    """A file object without a `name`, so FFmpeg's probe cannot lean on the extension."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f

    def read(self, n: int) -> bytes:
        return self._f.read(n)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._f.seek(offset, whence)

    def tell(self) -> int:
        return self._f.tell()


def _inspect(container: Any, size: int) -> MediaInfo:
    videos = [s for s in container.streams.video if not _is_attached_picture(s)]
    if not videos:
        kind = "audio only" if container.streams.audio else "no picture"
        raise NotMediaError(f"it has no video or image stream ({kind})")
    stream = videos[0]
    codec = _codec_name(stream)
    container_name = _container_name(container)
    if container_name in _IMAGE_BRANDS.values() or _is_image_demuxer(container.format.name):
        return _image_info(container, stream, size, _IMAGE_CODECS.get(codec, container_name))
    return _video_info(container, stream, size, container_name, codec)


def _image_info(container: Any, stream: Any, size: int, image_format: str) -> MediaInfo:
    width, height, _ = _first_picture(container, stream)
    return MediaInfo(
        kind=MediaKind.image,
        container=image_format,
        format_name=container.format.name,
        size_bytes=size,
        width=width,
        height=height,
    )


def _video_info(container: Any, stream: Any, size: int, name: str, codec: str) -> MediaInfo:
    width, height, rotation = _first_picture(container, stream)
    declared = container.duration / av.time_base if container.duration else None
    measured = _data_end(container, declared)
    if declared is not None and measured < declared - _END_TOLERANCE_SECONDS:
        raise NotMediaError(
            f"the file is truncated (its index declares {declared:.2f} s "
            f"but its data ends at {measured:.2f} s)"
        )
    rate = stream.average_rate or stream.guessed_rate
    return MediaInfo(
        kind=MediaKind.video,
        container=name,
        format_name=container.format.name,
        size_bytes=size,
        width=width,
        height=height,
        video_codec=codec,
        frame_rate=round(float(rate), 3) if rate else None,
        duration_sec=round(declared if declared is not None else measured, 3),
        has_audio=bool(container.streams.audio),
        bit_rate=container.bit_rate or None,
        rotation=rotation,
    )


def _first_picture(container: Any, stream: Any) -> tuple[int, int, int]:
    """Decode the first frame (proof the data is real); return width, height, rotation."""
    if stream.codec_context is None:
        raise NotMediaError("its picture stream uses a codec we cannot decode")
    width, height = stream.codec_context.width, stream.codec_context.height
    if width * height > MAX_DECODE_PIXELS:
        return width, height, 0
    for frame in container.decode(stream):
        return frame.width, frame.height, round(frame.rotation or 0)
    raise NotMediaError("no picture in it could be decoded")


def _data_end(container: Any, declared: float | None) -> float:
    """Seconds from the start to the end of the last packet, reading only the final GOP."""
    start = (container.start_time or 0) / av.time_base
    if declared is not None:
        target = start + max(declared - _TAIL_SECONDS, 0.0)
        container.seek(int(target * av.time_base), backward=True, any_frame=False)
    end = start
    for packet in container.demux():
        if packet.is_corrupt:
            raise NotMediaError("the file is truncated or damaged (a packet is incomplete)")
        timestamp = packet.pts if packet.pts is not None else packet.dts
        if timestamp is not None and packet.time_base is not None:
            stop = Fraction(timestamp + (packet.duration or 0)) * packet.time_base
            end = max(end, float(stop))
    return end - start


def _container_name(container: Any) -> str:
    """Tell MP4 from MOV (and HEIF, 3GP) by the major brand, WebM from Matroska by codecs."""
    name: str = container.format.name
    if name.startswith("mov,"):
        brand = container.metadata.get("major_brand", "").strip().lower()
        if not brand or brand == "qt":  # QuickTime files may predate the `ftyp` box
            return "mov"
        if brand in _IMAGE_BRANDS:
            return _IMAGE_BRANDS[brand]
        return "3gp" if brand.startswith("3g") else "mp4"
    if name == "matroska,webm":
        codecs = {_codec_name(s) for s in (*container.streams.video, *container.streams.audio)}
        return "webm" if codecs <= _WEBM_CODECS else "mkv"
    return name.split(",")[0].removesuffix("_pipe")


def _codec_name(stream: Any) -> str:
    """The codec's canonical name ("av1", not the decoder's "libdav1d")."""
    context = stream.codec_context
    return "unknown" if context is None else str(context.codec.canonical_name)


def _is_image_demuxer(name: str) -> bool:
    return name.endswith("_pipe") or name == "gif"


def _is_attached_picture(stream: Any) -> bool:
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def _is_iso_bmff(f: BinaryIO) -> bool:
    """Whether the file starts like an ISO-BMFF file (MP4, MOV, 3GP, HEIF)."""
    f.seek(4)
    return f.read(4) in _BMFF_FIRST_BOXES


def _boxes_overrun(f: BinaryIO, size: int) -> bool:
    """Whether the top-level ISO-BMFF boxes claim more bytes than the file has."""
    offset = 0
    while offset < size:
        f.seek(offset)
        header = f.read(16)
        if len(header) < 8:
            return True
        box_size = struct.unpack(">I", header[:4])[0]
        if box_size == 1 and len(header) == 16:  # 64-bit size follows the type
            box_size = struct.unpack(">Q", header[8:])[0]
        elif box_size == 0:  # the box runs to the end of the file
            return False
        if box_size < 8:
            return True
        offset += box_size
    return offset > size


def _file_size(f: BinaryIO) -> int:
    end = f.seek(0, 2)
    f.seek(0)
    return end


def _describe(exc: Exception) -> str:
    if isinstance(exc, av.FFmpegError) and exc.strerror:
        return str(exc.strerror).rstrip(".").lower()
    return type(exc).__name__
