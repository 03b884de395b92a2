"""The small rules under pre-flight and polling, without the app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tiktimer.platforms.tiktok import fail_reasons
from tiktimer.platforms.tiktok.budget import busiest_window
from tiktimer.posts.machine.polling import GIVE_UP_AFTER, poll_delay, should_give_up
from tiktimer.webhooks.events import exact_id

T0 = datetime(2031, 1, 1, 12, tzinfo=UTC)


def hours(*values: float) -> list[datetime]:
    return [T0 + timedelta(hours=h) for h in values]


@pytest.mark.parametrize(
    ("others", "expected"),
    [
        ([], 1),
        (hours(-23, -1, 0.5, 23), 4),  # [-23 h, +1 h) holds three others and this one
        (hours(-23, -1, 1, 23), 3),  # a window is 24 h, its end excluded
        (hours(-25, 25), 1),  # more than a day away on both sides
        (hours(-20, -10, 10, 20), 3),  # no window holds all four others
        (hours(0, 0), 3),  # the same minute counts
    ],
)
def test_busiest_24_hours_around_a_post(others: list[datetime], expected: int) -> None:
    assert busiest_window(T0, others) == expected


def test_polls_stay_within_tiktoks_rate_and_stop() -> None:
    delays = [poll_delay(attempt) for attempt in range(30)]
    assert all(2.0 <= delay <= 60.0 for delay in delays)
    assert sum(1 for d in delays if d < 2.0) == 0  # 30 status calls a minute at most
    assert not should_give_up(T0, T0 + GIVE_UP_AFTER - timedelta(seconds=1))
    assert should_give_up(T0, T0 + GIVE_UP_AFTER)


FAIL_REASONS = [
    "file_format_check_failed",
    "duration_check_failed",
    "frame_rate_check_failed",
    "picture_size_check_failed",
    "internal",
    "video_pull_failed",
    "photo_pull_failed",
    "publish_cancelled",
    "auth_removed",
    "spam_risk_too_many_posts",
    "spam_risk_user_banned_from_posting",
    "spam_risk_text",
    "spam_risk",
]


@pytest.mark.parametrize("reason", FAIL_REASONS)
def test_every_documented_fail_reason_has_words(reason: str) -> None:
    words = fail_reasons.describe(reason)
    assert reason not in words.replace("internal problem", "")  # words, not TikTok's codes
    assert words.endswith(".")
    assert fail_reasons.retryable(reason) == (
        reason in ("internal", "video_pull_failed", "photo_pull_failed")
    )


def test_post_ids_stay_exact() -> None:
    big = 7_412_345_678_901_234_567
    assert exact_id(big) == "7412345678901234567"
    assert exact_id("7412345678901234567") == "7412345678901234567"
    assert exact_id(float(big)) is None  # a float has lost digits already
    assert exact_id(True) is None
    assert exact_id("12abc") is None
