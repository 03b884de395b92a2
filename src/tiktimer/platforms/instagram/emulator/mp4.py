"""What processing checks in a fetched video (§9): MP4/MOV with the moov atom at the front,
3 s ≤ duration ≤ 15 min, ≤ 300 MB. Only the head of the file is needed: a moov that is not
in it is not at the front.

Not checked (yet): codecs, frame rate, width, aspect ratio, bitrate.
"""

from __future__ import annotations

import struct

from .state import VideoFacts

MAX_BYTES = 300 * 1024 * 1024
MIN_MS, MAX_MS = 3_000, 900_000
HEAD_BYTES = 4 * 1024 * 1024
UNSUPPORTED_FORMAT = 2207026  # §10.2: 352 / 2207026
CANNOT_PROCESS = 2207085  # §10.2: format, duration, resolution (in the container status)


def video_facts(head: bytes, size: int) -> VideoFacts:
    boxes = dict(_top_level_boxes(head))
    if head[4:8] != b"ftyp" or "moov" not in boxes:
        return VideoFacts(size, None, UNSUPPORTED_FORMAT)
    if "mdat" in boxes and boxes["mdat"][0] < boxes["moov"][0]:
        return VideoFacts(size, None, UNSUPPORTED_FORMAT)  # moov after the data
    start, end = boxes["moov"]
    duration_ms = _duration_ms(head[start:end])
    if duration_ms is None:
        return VideoFacts(size, None, UNSUPPORTED_FORMAT)
    if size > MAX_BYTES or not MIN_MS <= duration_ms <= MAX_MS:
        return VideoFacts(size, duration_ms, CANNOT_PROCESS)
    return VideoFacts(size, duration_ms, None)


def _top_level_boxes(data: bytes) -> list[tuple[str, tuple[int, int]]]:
    """(type, (payload start, end)) of each top-level box that begins inside `data`."""
    found, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        header = 8
        if size == 1 and offset + 16 <= len(data):
            size, header = struct.unpack(">Q", data[offset + 8 : offset + 16])[0], 16
        elif size == 0:
            size = len(data) - offset
        if size < header:
            break
        found.append((kind.decode("latin-1"), (offset + header, offset + size)))
        offset += size
    return found


def _duration_ms(moov: bytes) -> int | None:
    for kind, (start, end) in _top_level_boxes(moov):
        if kind != "mvhd" or end > len(moov):
            continue
        body = moov[start:end]
        if body[:1] == b"\x01" and len(body) >= 32:
            timescale, duration = struct.unpack(">IQ", body[20:32])
        elif len(body) >= 20:
            timescale, duration = struct.unpack(">II", body[12:20])
        else:
            return None
        return duration * 1000 // timescale if timescale else None
    return None
