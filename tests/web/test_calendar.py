"""Rescheduling by drag and drop in the calendar: another day (month view) or another hour
(week view), validated by the API and refused in place, on days around a DST change.

The dates come from the zone's rules, not from today: the next spring-forward day at least
ten days away, whose month grid and week always hold every day these tests use.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.web.browser import VIEWPORTS, audit, tag
from tests.web.conftest import Tab
from tests.web.flows import ZONE, ready_user, schedule, visit
from tiktimer.web.week import hour_kind

pytestmark = pytest.mark.slow


def next_spring_forward(at_least_days: int = 10) -> date:
    """The next day on which the browser's zone skips 02:00, far enough ahead to drag to."""
    day = datetime.now(ZONE).date() + timedelta(days=at_least_days)
    while hour_kind(day, 2, ZONE) != "skipped":
        day += timedelta(days=1)
    return day


def slot(day: date, hour: int) -> str:
    """The week view's cell of that local day and wall-clock hour."""
    return f'.cal-slot[data-day="{day.isoformat()}"][data-hour="{hour:02d}"]'


def drag(page: Page, text: str, target: str) -> None:
    page.get_by_test_id("cal-post").filter(has_text=text).drag_to(page.locator(target))


def scheduled_time_of(page: Page, post_path: str) -> str:
    """The post as `GET /posts/{id}` answers it, asked from the page with its own token."""
    post_id = post_path.rstrip("/").rsplit("/", 1)[-1]
    return str(
        page.evaluate(
            "async (id) => (await (await TikTimer.api('/posts/' + id)).json()).scheduled_time",
            post_id,
        )
    )


@VIEWPORTS
def test_drag_to_another_day_keeps_the_time_and_validates(
    tab: Tab, server: str, tmp_path: Path, viewport: dict[str, int]
) -> None:
    page, watch = tab(viewport)
    name = "monthdrag" + tag(viewport)
    video = ready_user(page, watch, name, tmp_path)
    spring = next_spring_forward()
    # 02:30 on the Sunday before: a time that does not exist on the day of the change.
    schedule(
        page,
        video,
        "Move me",
        datetime.combine(spring - timedelta(days=7), datetime.min.time()).replace(
            hour=2, minute=30
        ),
    )
    visit(page, watch, f"/app/calendar?view=month&start={spring.isoformat()}")
    moved = spring - timedelta(days=4)
    target = f'[data-day="{moved.isoformat()}"]'
    drag(page, "Move me", target)
    expect(page.locator("#calendar-message")).to_contain_text("Moved to")
    expect(page.locator("#calendar-message")).to_contain_text("at 02:30")
    expect(page.locator(target).get_by_test_id("cal-post")).to_have_count(1)
    page.reload()
    expect(page.locator(target).get_by_test_id("cal-post")).to_have_count(1)  # saved by the API
    # To the day the clocks skip 02:00–03:00: the API refuses, the message says why.
    watch.expected.append("status of 422")
    drag(page, "Move me", f'[data-day="{spring.isoformat()}"]')
    expect(page.locator("#calendar-message")).to_contain_text("does not exist")
    expect(page.locator(target).get_by_test_id("cal-post")).to_have_count(1)
    audit(page)
    page.reload()
    expect(page.locator(target).get_by_test_id("cal-post")).to_have_count(1)


@VIEWPORTS
def test_drag_to_another_hour_in_the_week_view_across_dst(
    tab: Tab, server: str, tmp_path: Path, viewport: dict[str, int]
) -> None:
    page, watch = tab(viewport)
    name = "weekdrag" + tag(viewport)
    video = ready_user(page, watch, name, tmp_path)
    spring = next_spring_forward()
    friday = spring - timedelta(days=2)
    post = schedule(
        page,
        video,
        "Hour hop",
        datetime.combine(friday, datetime.min.time()).replace(hour=10, minute=15),
    )
    visit(page, watch, f"/app/calendar?view=week&start={spring.isoformat()}")
    expect(page.locator(slot(friday, 10)).get_by_test_id("cal-post")).to_have_count(1)
    expect(page.locator(slot(spring, 2))).to_contain_text("Clocks go forward")

    # To 03:00 on the day of the change: 03:15 summer time, 01:15 UTC (winter time is +1).
    drag(page, "Hour hop", slot(spring, 3))
    expect(page.locator("#calendar-message")).to_contain_text("at 03:15")
    page.reload()
    moved = page.locator(slot(spring, 3)).get_by_test_id("cal-post")
    expect(moved).to_have_count(1)
    expect(moved).to_contain_text("03:15 CEST")
    assert scheduled_time_of(page, post).startswith(f"{spring.isoformat()}T01:15:00")

    # Back to Friday at 07:00, then to the hour DST skips: refused in place, not moved.
    drag(page, "Hour hop", slot(friday, 7))
    expect(page.locator("#calendar-message")).to_contain_text("at 07:15")
    assert scheduled_time_of(page, post).startswith(f"{friday.isoformat()}T06:15:00")
    watch.expected.append("status of 422")
    drag(page, "Hour hop", slot(spring, 2))
    expect(page.locator("#calendar-message")).to_contain_text("does not exist")
    audit(page)
    page.reload()
    expect(page.locator(slot(friday, 7)).get_by_test_id("cal-post")).to_have_count(1)
