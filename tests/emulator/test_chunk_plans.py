"""The FILE_UPLOAD plan rules at init: floor count, chunk bounds, single-chunk limits."""

from __future__ import annotations

import pytest

from tests.emulator.flows import TikTok, error_code, video_body
from tiktimer.platforms.tiktok.emulator import EmulatorConfig
from tiktimer.platforms.tiktok.emulator.chunks import validate_plan
from tiktimer.platforms.tiktok.emulator.errors import ApiError


@pytest.mark.parametrize(
    ("video_size", "chunk_size", "count"),
    [
        (50_000_123, 10_000_000, 5),  # the guide's example: last chunk 10,000,123 bytes
        (4_194_304, 4_194_304, 1),  # the guide's whole-upload example
        (64_000_000, 64_000_000, 1),
        (66_259_900, 10_000_000, 6),
        (128_000_000, 64_000_000, 2),
        (4 * 1024**3, 10_000_000, 429),
        (10_485_760, 5_242_880, 2),
    ],
)
async def test_valid_plans_are_accepted(
    tiktok: TikTok, video_size: int, chunk_size: int, count: int
) -> None:
    body = video_body(video_size=video_size, chunk_size=chunk_size, count=count)

    response = await tiktok.init_video(tiktok.tokens(), body)

    assert response.status_code == 200, response.text
    tiktok.emulator.advance_clock(60)


@pytest.mark.parametrize(
    ("video_size", "chunk_size", "count"),
    [
        (50_000_123, 10_000_000, 6),  # ceil instead of floor
        (12_000_000, 10_000_000, 1),  # one chunk that is not the whole video
        (66_259_900, 66_259_900, 1),  # one chunk above 64,000,000 (post-for-me #327)
        (15_000_000, 5_000_000, 3),  # chunks under 5 MiB
        (140_000_000, 70_000_000, 2),  # chunks over 64 MB
        (4 * 1024**3 + 1, 10_000_000, 429),  # over 4 GiB
        (3_000_000, 5_242_880, 0),  # chunk_size larger than the video
        (0, 0, 0),
    ],
)
async def test_invalid_plans_are_refused_with_the_plural_code(
    tiktok: TikTok, video_size: int, chunk_size: int, count: int
) -> None:
    body = video_body(video_size=video_size, chunk_size=chunk_size, count=count)

    response = await tiktok.init_video(tiktok.tokens(), body)

    assert (response.status_code, error_code(response)) == (400, "invalid_params")
    assert response.json()["error"]["message"].startswith("The chunk size is invalid")


def test_chunk_count_and_final_chunk_bounds_are_configurable() -> None:
    config = EmulatorConfig(max_chunks=3, max_final_chunk_bytes=12_000_000)

    with pytest.raises(ApiError, match="at most 3 chunks"):
        validate_plan(40_000_000, 10_000_000, 4, config)
    with pytest.raises(ApiError, match="final chunk"):
        validate_plan(29_000_000, 10_000_000, 2, config)
    assert validate_plan(30_000_000, 10_000_000, 3, config).total_chunk_count == 3


def test_plan_tells_the_next_expected_range() -> None:
    plan = validate_plan(50_000_123, 10_000_000, 5, EmulatorConfig())

    assert plan.expected_chunk(0) == (0, 9_999_999)
    assert plan.expected_chunk(30_000_000) == (30_000_000, 39_999_999)
    assert plan.expected_chunk(40_000_000) == (40_000_000, 50_000_122)
    assert plan.expected_chunk(50_000_123) is None
