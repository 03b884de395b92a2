"""The FILE_UPLOAD chunk rules of the media transfer guide (reference §5.1–5.3).

Bounds use the strictest reading of "MB": chunks ≥ 5 MiB (5,242,880) but ≤ 64,000,000
bytes, a final chunk ≤ 128,000,000, and a single chunk only when `chunk_size ==
video_size` ≤ 64,000,000.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .config import EmulatorConfig
from .errors import CHUNK_SIZE_INVALID, ApiError

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


@dataclass(frozen=True)
class ChunkPlan:
    video_size: int
    chunk_size: int
    total_chunk_count: int

    def expected_chunk(self, received: int) -> tuple[int, int] | None:
        """Inclusive byte range the next PUT must carry, or None when all bytes are in."""
        if received >= self.video_size:
            return None
        index = received // self.chunk_size
        if index >= self.total_chunk_count - 1:
            return received, self.video_size - 1
        return received, received + self.chunk_size - 1


def validate_plan(
    video_size: int, chunk_size: int, total_chunk_count: int, config: EmulatorConfig
) -> ChunkPlan:
    """Refuse plans TikTok refuses, with its `invalid_params` spelling (§4.2 spelling trap)."""
    if video_size <= 0 or chunk_size <= 0 or total_chunk_count <= 0:
        raise _invalid("video_size, chunk_size and total_chunk_count must be positive")
    if video_size > config.max_video_bytes:
        raise _invalid(f"video_size exceeds {config.max_video_bytes} bytes")
    if total_chunk_count != video_size // chunk_size:
        raise _invalid("total_chunk_count must be floor(video_size / chunk_size)")
    if total_chunk_count > config.max_chunks:
        raise _invalid(f"at most {config.max_chunks} chunks")
    if total_chunk_count == 1:
        if chunk_size != video_size or video_size > config.max_chunk_bytes:
            raise _invalid("a single chunk must be the whole video and at most 64 MB")
        return ChunkPlan(video_size, chunk_size, total_chunk_count)
    if not config.min_chunk_bytes <= chunk_size <= config.max_chunk_bytes:
        raise _invalid("chunk_size must be between 5 MB and 64 MB")
    final = video_size - (total_chunk_count - 1) * chunk_size
    if final > config.max_final_chunk_bytes:
        raise _invalid("the final chunk must be at most 128 MB")
    return ChunkPlan(video_size, chunk_size, total_chunk_count)


def _invalid(detail: str) -> ApiError:
    return ApiError("invalid_params", f"{CHUNK_SIZE_INVALID}: {detail}")


def parse_content_range(header: str) -> tuple[int, int, int] | None:
    """`bytes first-last/total` (0-based, inclusive) → numbers, or None if malformed."""
    match = _CONTENT_RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last, total = (int(group) for group in match.groups())
    if first > last or last >= total:
        return None
    return first, last, total


def progress_header(received: int, total: int) -> str:
    """The `Content-Range` the upload host answers with: last byte received, or `*`."""
    return f"bytes 0-{received - 1}/{total}" if received else f"bytes */{total}"
