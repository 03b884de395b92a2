"""The chunk plan follows the reference's safe algorithm (§5.1) at every bound."""

from __future__ import annotations

import pytest

from tiktimer.platforms.tiktok.chunks import (
    DEFAULT_CHUNK_SIZE,
    MAX_CHUNK_COUNT,
    MAX_FINAL_CHUNK_SIZE,
    MAX_VIDEO_SIZE,
    ChunkPlan,
    plan_chunks,
)
from tiktimer.platforms.tiktok.schemas import FileUploadSource

MB = 1_000_000
GIB = 1024**3


def assert_invariants(plan: ChunkPlan) -> None:
    chunks = list(plan)
    assert len(chunks) == plan.total_chunk_count
    assert 1 <= plan.total_chunk_count <= MAX_CHUNK_COUNT
    assert plan.total_chunk_count == plan.video_size // plan.chunk_size
    assert sum(c.length for c in chunks) == plan.video_size
    assert chunks[0].start == 0
    assert chunks[-1].end == plan.video_size
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert before.end == after.start
    for chunk in chunks[:-1]:
        assert chunk.length == plan.chunk_size
    final = chunks[-1].length
    assert plan.chunk_size <= final < 2 * plan.chunk_size
    assert final <= MAX_FINAL_CHUNK_SIZE


@pytest.mark.parametrize("size", [1, 4 * 1024 * 1024, 4 * MB, 5 * 1024 * 1024, 50_000_123, 64 * MB])
def test_up_to_64_000_000_bytes_is_one_whole_chunk(size: int) -> None:
    plan = plan_chunks(size)
    assert (plan.video_size, plan.chunk_size, plan.total_chunk_count) == (size, size, 1)
    assert [c.content_range for c in plan] == [f"bytes 0-{size - 1}/{size}"]
    assert_invariants(plan)


def test_the_official_whole_upload_example() -> None:
    plan = plan_chunks(4_194_304)
    assert FileUploadSource.from_plan(plan).model_dump() == {
        "source": "FILE_UPLOAD",
        "video_size": 4_194_304,
        "chunk_size": 4_194_304,
        "total_chunk_count": 1,
    }


def test_one_byte_over_64_000_000_splits_with_the_remainder_in_the_last_chunk() -> None:
    plan = plan_chunks(64_000_001)
    assert (plan.chunk_size, plan.total_chunk_count) == (DEFAULT_CHUNK_SIZE, 6)
    chunks = list(plan)
    assert chunks[-1].start == 50_000_000
    assert chunks[-1].length == 14_000_001
    assert chunks[-1].content_range == "bytes 50000000-64000000/64000001"
    assert_invariants(plan)


def test_64_mib_is_split_because_tiktok_counts_64_mb_in_decimal() -> None:
    plan = plan_chunks(64 * 1024 * 1024)
    assert plan.total_chunk_count == 6
    assert_invariants(plan)


@pytest.mark.parametrize(
    ("size", "count", "final"),
    [
        (130 * MB, 13, 10_000_000),
        (130 * MB + 9_999_999, 13, 19_999_999),
        (1_200 * MB, 120, 10_000_000),
        (1_200 * MB + 123, 120, 10_000_123),
        (4_000 * MB, 400, 10_000_000),
        (4 * GIB, 429, 4 * GIB - 428 * 10_000_000),
    ],
)
def test_large_videos_use_10_000_000_byte_chunks(size: int, count: int, final: int) -> None:
    plan = plan_chunks(size)
    assert (plan.chunk_size, plan.total_chunk_count) == (10_000_000, count)
    assert list(plan)[-1].length == final
    assert_invariants(plan)


def test_the_content_ranges_are_inclusive_and_contiguous() -> None:
    plan = plan_chunks(130 * MB)
    ranges = [c.content_range for c in plan]
    assert ranges[0] == "bytes 0-9999999/130000000"
    assert ranges[1] == "bytes 10000000-19999999/130000000"
    assert ranges[-1] == "bytes 120000000-129999999/130000000"


@pytest.mark.parametrize("size", [0, -1, MAX_VIDEO_SIZE + 1, 10 * GIB])
def test_sizes_tiktok_does_not_accept_are_refused(size: int) -> None:
    with pytest.raises(ValueError, match="video_size"):
        plan_chunks(size)


def test_the_maximum_size_is_configurable() -> None:
    with pytest.raises(ValueError, match="exceeds"):
        plan_chunks(4_000_000_001, max_video_size=4_000_000_000)
    assert plan_chunks(4_000_000_000, max_video_size=4_000_000_000).total_chunk_count == 400


@pytest.mark.parametrize("chunk_size", [5 * 1024 * 1024 - 1, 64_000_001])
def test_chunk_sizes_outside_tiktok_bounds_are_refused(chunk_size: int) -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        plan_chunks(130 * MB, chunk_size=chunk_size)


def test_more_than_1000_chunks_are_refused() -> None:
    with pytest.raises(ValueError, match="1000"):
        plan_chunks(6 * GIB, chunk_size=5 * 1024 * 1024, max_video_size=10 * GIB)


def test_plans_tiktok_would_reject_cannot_be_built_by_hand() -> None:
    # The bug seen in the wild: a 12 MB file with 10 MB chunks gives one chunk != size.
    with pytest.raises(ValueError, match="single-chunk"):
        ChunkPlan(video_size=12 * MB, chunk_size=10 * MB, total_chunk_count=1)
    with pytest.raises(ValueError, match="floor"):
        ChunkPlan(video_size=130 * MB, chunk_size=10 * MB, total_chunk_count=14)
    with pytest.raises(ValueError, match="single-chunk"):
        ChunkPlan(video_size=66_259_900, chunk_size=66_259_900, total_chunk_count=1)
    # TikTok's own multi-chunk example stays valid.
    example = ChunkPlan(video_size=50_000_123, chunk_size=10_000_000, total_chunk_count=5)
    assert list(example)[-1].content_range == "bytes 40000000-50000122/50000123"


def test_index_at_only_knows_chunk_boundaries() -> None:
    plan = plan_chunks(130 * MB)
    assert plan.index_at(0) == 0
    assert plan.index_at(20_000_000) == 2
    assert plan.index_at(130 * MB) == plan.total_chunk_count
    assert plan.index_at(20_000_001) is None
    assert plan.index_at(129_999_999) is None
    assert plan.index_at(-10_000_000) is None


def test_file_upload_source_is_built_from_the_plan() -> None:
    assert FileUploadSource.for_size(130 * MB).model_dump(mode="json") == {
        "source": "FILE_UPLOAD",
        "video_size": 130_000_000,
        "chunk_size": 10_000_000,
        "total_chunk_count": 13,
    }
    with pytest.raises(ValueError, match="single-chunk"):
        FileUploadSource(video_size=12 * MB, chunk_size=10 * MB, total_chunk_count=1)
