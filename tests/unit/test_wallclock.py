"""Weekly slots as wall-clock times: DST gaps and repeats follow RFC 5545's rule."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tiktimer.planning.wallclock import UnknownZone, parse_slot, slot_times, zone

NY = zone("America/New_York")
BERLIN = zone("Europe/Berlin")


def test_fall_back_repeated_time_is_its_first_occurrence() -> None:
    """Sunday 7 November 2027, New York repeats 01:00-02:00: 01:30 is the EDT one."""
    got = list(slot_times([(6, 90), (6, 540)], NY, datetime(2027, 11, 6, tzinfo=UTC), 4))
    assert got == [
        datetime(2027, 11, 7, 5, 30, tzinfo=UTC),  # 01:30 EDT
        datetime(2027, 11, 7, 14, 0, tzinfo=UTC),  # 09:00 EST
        datetime(2027, 11, 14, 6, 30, tzinfo=UTC),
        datetime(2027, 11, 14, 14, 0, tzinfo=UTC),
    ]


def test_a_skipped_slot_moves_past_the_gap_and_merges_with_a_slot_there() -> None:
    after = datetime(2027, 3, 27, tzinfo=UTC)
    got = list(slot_times([(6, 150), (6, 210)], BERLIN, after, 3))
    assert got[0] == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)  # 02:30 and 03:30 are one
    assert [t.astimezone(BERLIN).strftime("%H:%M") for t in got[1:]] == ["02:30", "03:30"]


def test_slots_stay_local_across_spring_forward() -> None:
    after = datetime(2027, 3, 12, tzinfo=UTC)
    got = list(slot_times([(d, 540) for d in range(7)], NY, after, 4))
    assert [t.hour for t in got] == [14, 14, 13, 13]  # 09:00 EST, then 09:00 EDT
    assert {t.astimezone(NY).hour for t in got} == {9}


def test_parsing() -> None:
    assert parse_slot("Mon 09:00") == (0, 540)
    assert parse_slot("sunday 18:30") == (6, 1110)
    for bad in ("mon", "xyz 09:00", "mon 24:00", "mon 9"):
        with pytest.raises(ValueError, match="write"):
            parse_slot(bad)
    with pytest.raises(UnknownZone):
        zone("Not/AZone")
