"""Minimal MP4s the emulator's processing reads: ftyp, moov (mvhd duration), mdat."""

from __future__ import annotations

import struct


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def reel_mp4(*, seconds: float = 12.0, moov_first: bool = True, data: int = 4096) -> bytes:
    timescale = 1000
    mvhd = bytes(4) + struct.pack(">IIII", 0, 0, timescale, int(seconds * timescale)) + bytes(80)
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41")
    moov = _box(b"moov", _box(b"mvhd", mvhd))
    mdat = _box(b"mdat", bytes(data))
    return ftyp + (moov + mdat if moov_first else mdat + moov)
