"""The FILE_UPLOAD chunk plan (reference §5.1, "safe client algorithm").

TikTok never defines "MB", so every bound below takes the strictest reading:

* up to 64,000,000 bytes (decimal; smaller than 64 MiB) the video goes in one chunk and
  ``chunk_size == video_size`` (TikTok rejects larger single chunks with
  ``invalid_params`` "The chunk size is invalid");
* above that, chunks are ``DEFAULT_CHUNK_SIZE`` (10,000,000: TikTok's own example
  value, between the 5 MiB minimum and the 64,000,000 maximum), ``total_chunk_count =
  floor(video_size / chunk_size)`` and the last chunk absorbs the remainder, so it is in
  ``[chunk_size, 2 * chunk_size)`` and far below 128,000,000.

The same plan must be used for the init request and for the PUTs: build it once with
:func:`plan_chunks` and pass it to both (or rebuild it from the same size).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "MAX_CHUNK_COUNT",
    "MAX_CHUNK_SIZE",
    "MAX_FINAL_CHUNK_SIZE",
    "MAX_SINGLE_CHUNK_SIZE",
    "MAX_VIDEO_SIZE",
    "MIN_CHUNK_SIZE",
    "Chunk",
    "ChunkPlan",
    "plan_chunks",
]

MIN_CHUNK_SIZE = 5 * 1024 * 1024
"""5 MB, binary reading (5,242,880): the larger, hence stricter, lower bound."""
MAX_CHUNK_SIZE = 64_000_000
"""64 MB, decimal reading: the smaller, hence stricter, upper bound of a chunk."""
MAX_SINGLE_CHUNK_SIZE = 64_000_000
"""Largest video sent as one chunk (TikTok enforces this decimal threshold, §5.1)."""
MAX_FINAL_CHUNK_SIZE = 128_000_000
"""Largest final chunk under the decimal reading of 128 MB."""
MAX_CHUNK_COUNT = 1000
DEFAULT_CHUNK_SIZE = 10_000_000
MAX_VIDEO_SIZE = 4 * 1024 * 1024 * 1024
"""4 GB, binary reading (4,294,967,296): the reference's algorithm covers a 4 GiB file.
Pass ``max_video_size`` to :func:`plan_chunks` for a stricter (4,000,000,000) or a
newer, larger limit."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """One PUT of the upload: bytes ``[start, end)`` of the video."""

    index: int
    start: int
    end: int
    """Exclusive."""
    total: int
    """The whole video size."""

    @property
    def length(self) -> int:
        return self.end - self.start

    @property
    def content_range(self) -> str:
        """``Content-Range`` header value: 0-based, inclusive last byte (§5.2)."""
        return f"bytes {self.start}-{self.end - 1}/{self.total}"


@dataclass(frozen=True, slots=True)
class ChunkPlan:
    """``source_info`` numbers for the init request and the byte ranges to PUT."""

    video_size: int
    chunk_size: int
    total_chunk_count: int

    def __post_init__(self) -> None:
        _check_plan(self.video_size, self.chunk_size, self.total_chunk_count)

    def chunk(self, index: int) -> Chunk:
        if not 0 <= index < self.total_chunk_count:
            raise IndexError(f"chunk index {index} outside 0..{self.total_chunk_count - 1}")
        start = index * self.chunk_size
        last = index == self.total_chunk_count - 1
        end = self.video_size if last else start + self.chunk_size
        return Chunk(index=index, start=start, end=end, total=self.video_size)

    def __iter__(self) -> Iterator[Chunk]:
        return (self.chunk(i) for i in range(self.total_chunk_count))

    def __len__(self) -> int:
        return self.total_chunk_count

    def index_at(self, offset: int) -> int | None:
        """Index of the chunk starting at byte ``offset`` (``total_chunk_count`` for the
        end of the video), or None when ``offset`` is not a chunk boundary."""
        if offset == self.video_size:
            return self.total_chunk_count
        if offset < 0 or offset % self.chunk_size:
            return None
        index = offset // self.chunk_size
        return index if index < self.total_chunk_count else None


def plan_chunks(
    video_size: int,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_video_size: int = MAX_VIDEO_SIZE,
) -> ChunkPlan:
    """The chunk plan for a video of ``video_size`` bytes.

    Raises:
        ValueError: the size is not positive or above ``max_video_size``, or
            ``chunk_size`` is outside ``[MIN_CHUNK_SIZE, MAX_CHUNK_SIZE]`` or would need
            more than ``MAX_CHUNK_COUNT`` chunks.
    """
    if isinstance(video_size, bool) or not isinstance(video_size, int):
        raise TypeError("video_size must be an int")
    if video_size <= 0:
        raise ValueError(f"video_size must be positive, got {video_size}")
    if video_size > max_video_size:
        raise ValueError(f"video_size {video_size} exceeds the maximum of {max_video_size} bytes")
    if video_size <= MAX_SINGLE_CHUNK_SIZE:
        return ChunkPlan(video_size=video_size, chunk_size=video_size, total_chunk_count=1)
    return ChunkPlan(
        video_size=video_size, chunk_size=chunk_size, total_chunk_count=video_size // chunk_size
    )


def _check_plan(video_size: int, chunk_size: int, count: int) -> None:
    if video_size <= 0:
        raise ValueError(f"video_size must be positive, got {video_size}")
    if count == 1:
        if chunk_size != video_size or video_size > MAX_SINGLE_CHUNK_SIZE:
            raise ValueError(
                "a single-chunk upload needs chunk_size == video_size <= "
                f"{MAX_SINGLE_CHUNK_SIZE} (got chunk_size={chunk_size}, video_size={video_size})"
            )
        return
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(
            f"chunk_size must be within [{MIN_CHUNK_SIZE}, {MAX_CHUNK_SIZE}], got {chunk_size}"
        )
    if count != video_size // chunk_size or count < 2:
        raise ValueError(
            f"total_chunk_count must be floor(video_size / chunk_size) >= 2, got {count}"
        )
    if count > MAX_CHUNK_COUNT:
        raise ValueError(f"{count} chunks exceed TikTok's maximum of {MAX_CHUNK_COUNT}")
    final = video_size - (count - 1) * chunk_size
    if final > MAX_FINAL_CHUNK_SIZE:  # pragma: no cover - implied by chunk_size <= 64,000,000
        raise ValueError(f"final chunk of {final} bytes exceeds {MAX_FINAL_CHUNK_SIZE}")
