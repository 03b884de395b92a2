"""The calendar's days are the user's local days, also around DST changes (no browser)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from tiktimer.web.calendar_pages import day_start, grid, local_day, shift
from tiktimer.web.week import changes_offset, hour_kind, week_rows

PARIS = ZoneInfo("Europe/Paris")


def test_days_around_dst_changes_are_23_and_25_hours() -> None:
    spring = day_start(date(2026, 3, 30), PARIS) - day_start(date(2026, 3, 29), PARIS)
    autumn = day_start(date(2026, 10, 26), PARIS) - day_start(date(2026, 10, 25), PARIS)
    assert spring.total_seconds() == 23 * 3600
    assert autumn.total_seconds() == 25 * 3600


def test_an_instant_lands_on_its_local_day() -> None:
    # 23:30 UTC on 24 Oct is 01:30 on 25 Oct in Paris (summer time, UTC+2).
    assert local_day(datetime(2026, 10, 24, 23, 30, tzinfo=UTC), PARIS) == date(2026, 10, 25)
    # 23:30 UTC on 25 Oct is 00:30 on 26 Oct (winter time, UTC+1): the 25-hour day is over.
    assert local_day(datetime(2026, 10, 25, 23, 30, tzinfo=UTC), PARIS) == date(2026, 10, 26)
    assert local_day(datetime(2026, 10, 25, 22, 59, tzinfo=UTC), PARIS) == date(2026, 10, 25)


def test_month_grid_is_whole_weeks_monday_first() -> None:
    first, last = grid("month", date(2026, 3, 15), date(2026, 3, 15))
    assert (first, last) == (date(2026, 2, 23), date(2026, 4, 5))
    assert first.weekday() == 0
    assert last.weekday() == 6
    assert grid("week", date(2026, 3, 29), date(2026, 3, 29)) == (
        date(2026, 3, 23),
        date(2026, 3, 29),
    )


def test_shift_moves_by_months_across_years() -> None:
    assert shift("month", date(2026, 12, 4), 1) == date(2027, 1, 1)
    assert shift("month", date(2026, 1, 31), -1) == date(2025, 12, 1)
    assert shift("week", date(2026, 12, 4), -1) == date(2026, 11, 27)


def test_week_slots_mark_the_hours_dst_skips_and_repeats() -> None:
    assert hour_kind(date(2027, 3, 28), 2, PARIS) == "skipped"
    assert hour_kind(date(2027, 10, 31), 2, PARIS) == "repeated"
    assert [hour_kind(date(2027, 3, 28), h, PARIS) for h in (1, 3)] == [None, None]
    assert hour_kind(date(2027, 3, 27), 2, PARIS) is None
    assert changes_offset(date(2027, 3, 28), PARIS)
    assert changes_offset(date(2027, 10, 31), PARIS)
    assert not changes_offset(date(2027, 3, 29), PARIS)


def test_week_rows_put_each_post_in_its_local_hour_around_dst() -> None:
    days = [date(2027, 10, 25) + timedelta(days=n) for n in range(7)]  # Monday to Sunday
    posts = [
        {"id": 1, "scheduled_time": datetime(2027, 10, 31, 0, 30, tzinfo=UTC)},  # 02:30 CEST
        {"id": 2, "scheduled_time": datetime(2027, 10, 31, 1, 30, tzinfo=UTC)},  # 02:30 CET
        {"id": 3, "scheduled_time": datetime(2027, 10, 31, 2, 30, tzinfo=UTC)},  # 03:30 CET
        {"id": 4, "scheduled_time": datetime(2027, 10, 24, 22, 30, tzinfo=UTC)},  # Mon 00:30
        {"id": 5, "scheduled_time": datetime(2027, 10, 31, 23, 30, tzinfo=UTC)},  # next week
    ]
    rows = week_rows(days, posts, PARIS)
    assert len(rows) == 24
    assert all(len(row) == 7 for row in rows)
    assert [p["id"] for p in rows[2][6].posts] == [1, 2]  # the repeated hour holds both
    assert [p["id"] for p in rows[3][6].posts] == [3]
    assert [p["id"] for p in rows[0][0].posts] == [4]
    assert sum(len(slot.posts) for row in rows for slot in row) == 4
    assert rows[2][6].dst == "repeated"
    assert rows[2][5].dst is None
