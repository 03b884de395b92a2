"""Pure parts: the backoff and poll policies."""

from __future__ import annotations

import random

from tiktimer.posts.machine.retry import PollPolicy, RetryPolicy


def test_backoff_is_exponential_with_full_jitter_and_a_cap() -> None:
    policy = RetryPolicy(max_attempts=5, base_seconds=10, cap_seconds=60, rng=random.Random(7))
    for attempt, ceiling in [(1, 10), (2, 20), (3, 40), (4, 60), (9, 60)]:
        draws = [policy.delay(attempt) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in draws)
        assert max(draws) > ceiling * 0.8  # full jitter spreads over the whole range
        assert min(draws) < ceiling * 0.2


def test_platform_retry_after_is_a_floor() -> None:
    policy = RetryPolicy(base_seconds=1, cap_seconds=5, rng=random.Random(1))
    assert all(60 <= policy.delay(1, retry_after=60) <= 60.25 for _ in range(100))


def test_attempts_run_out() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert not policy.exhausted(2)
    assert policy.exhausted(3)


def test_polls_start_quick_then_stretch_and_stop() -> None:
    poll = PollPolicy(first_seconds=2, max_seconds=30, timeout_seconds=600)
    waited, checks = 0.0, []
    while not poll.expired(waited):
        checks.append(waited)
        waited += poll.next_delay(waited)
    gaps = [b - a for a, b in zip(checks, checks[1:], strict=False)]
    assert gaps[:4] == [2, 2, 2, 3]  # checks at 2, 4, 6, 9, 13.5… s after the upload
    assert max(gaps) == 30
    assert gaps == sorted(gaps)
    assert len(checks) < 40  # far under TikTok's 30 status calls a minute
