"""The one backoff (`kit.backoff`): fixed, partly and fully jittered delays."""

from __future__ import annotations

import itertools
import random

import pytest

from tiktimer.kit.backoff import Backoff
from tiktimer.platforms.tiktok.client import STATUS_POLL_BACKOFF


def test_exponential_and_capped() -> None:
    backoff = Backoff(initial=1.0, factor=2.0, maximum=10.0)
    assert list(backoff.delays(6)) == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert backoff.delay(10_000) == 10.0


def test_jitter_only_shortens_and_minimum_holds() -> None:
    backoff = Backoff(initial=4.0, factor=1.0, maximum=4.0, minimum=3.5, jitter=0.5)
    for delay in backoff.delays(200):
        assert 3.5 <= delay <= 4.0


def test_full_jitter_spreads_over_the_whole_range_below_the_ceiling() -> None:
    backoff = Backoff(initial=10.0, factor=2.0, maximum=60.0, jitter=1.0, rng=random.Random(3))
    for attempt, ceiling in [(0, 10.0), (2, 40.0), (5, 60.0)]:
        draws = [backoff.delay(attempt) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in draws)
        assert max(draws) > ceiling * 0.8
        assert min(draws) < ceiling * 0.2


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
