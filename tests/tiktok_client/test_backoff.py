"""Backoff helpers: chunk retries and the status-poll pacing the scheduler can reuse."""

from __future__ import annotations

import itertools

import pytest

from tiktimer.platforms.tiktok.client import STATUS_POLL_BACKOFF, Backoff


def test_exponential_and_capped() -> None:
    backoff = Backoff(initial=1.0, factor=2.0, maximum=10.0)
    assert list(backoff.delays(6)) == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert backoff.delay(10_000) == 10.0


def test_jitter_only_shortens_and_minimum_holds() -> None:
    backoff = Backoff(initial=4.0, factor=1.0, maximum=4.0, minimum=3.5, jitter=0.5)
    for delay in backoff.delays(200):
        assert 3.5 <= delay <= 4.0


def test_status_polls_respect_30_per_minute() -> None:
    delays = list(itertools.islice(STATUS_POLL_BACKOFF.delays(), 50))
    assert all(2.0 <= d <= 60.0 for d in delays)
    assert delays[0] <= 5.0
    assert max(delays) > 50.0


@pytest.mark.parametrize(
    "kwargs",
    [{"initial": -1.0}, {"factor": 0.5}, {"minimum": 5.0, "maximum": 1.0}, {"jitter": 1.5}],
)
def test_invalid_parameters(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="backoff|jitter"):
        Backoff(**kwargs)
