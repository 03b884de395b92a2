from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tiktimer.kit.time import AmbiguousLocalTime, local_to_utc


def test_local_to_utc_handles_dst() -> None:
    assert local_to_utc(datetime(2031, 7, 1, 12), "America/New_York") == datetime(
        2031, 7, 1, 16, tzinfo=UTC
    )
    assert local_to_utc(datetime(2031, 1, 1, 12), "America/New_York") == datetime(
        2031, 1, 1, 17, tzinfo=UTC
    )


@pytest.mark.parametrize("naive", [datetime(2031, 3, 9, 2, 30), datetime(2031, 11, 2, 1, 30)])
def test_gap_and_fold_are_refused(naive: datetime) -> None:
    with pytest.raises(AmbiguousLocalTime):
        local_to_utc(naive, "America/New_York")


def test_gap_and_fold_are_told_apart() -> None:
    with pytest.raises(AmbiguousLocalTime, match="does not exist"):
        local_to_utc(datetime(2031, 3, 9, 2, 30), "America/New_York")
    with pytest.raises(AmbiguousLocalTime, match="is ambiguous"):
        local_to_utc(datetime(2031, 11, 2, 1, 30), "America/New_York")
