"""The posting queue and recurring posts in the browser: slots on the account, drafts
added to the queue and shared next, a post that repeats every day, pause and resume."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.web.browser import DESKTOP, PHONE, Watch, audit
from tests.web.conftest import Tab
from tests.web.flows import local_minutes_ahead, ready_user, upload, visit

pytestmark = pytest.mark.slow


def save_draft(page: Page, video: Path, caption: str) -> None:
    page.goto("/app/compose")
    upload(page, video)
    page.get_by_label("Caption").fill(caption)
    page.get_by_label("Who can view this video").select_option("PUBLIC_TO_EVERYONE")
    page.get_by_label("Save as draft in TikTimer").check()
    expect(page.locator("#repeat-fields")).to_be_hidden()
    page.locator("#submit").click()
    expect(page.locator(".status-line")).to_be_visible()


def open_queue(page: Page, watch: Watch) -> None:
    visit(page, watch, "/app/accounts")
    page.get_by_test_id("queue-link").first.click()
    expect(page.get_by_role("heading", name="Posting queue")).to_be_visible()
    audit(page)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_queue_slots_add_share_next_and_remove(
    tab: Tab, tmp_path: Path, viewport: dict[str, int]
) -> None:
    page, watch = tab(viewport)
    name = "queuer" + ("p" if viewport is PHONE else "d")
    video = ready_user(page, watch, name, tmp_path)
    save_draft(page, video, "First in line")
    save_draft(page, video, "Jumps the queue")
    open_queue(page, watch)
    page.get_by_label("One slot a line: day and time").fill(
        "\n".join(f"{day} 09:00" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    )
    page.get_by_role("button", name="Save slots").click()
    entries = page.get_by_test_id("queue-entry")
    expect(entries.first).to_contain_text("free slot")
    expect(entries.first).to_contain_text("09:00")
    drafts = page.get_by_test_id("draft")
    drafts.filter(has_text="First in line").get_by_role("button", name="Add to queue").click()
    expect(entries.first).to_contain_text("First in line")
    drafts.filter(has_text="Jumps the queue").get_by_role("button", name="Share next").click()
    expect(entries.nth(0)).to_contain_text("Jumps the queue")
    expect(entries.nth(1)).to_contain_text("First in line")
    audit(page)
    entries.nth(1).get_by_role("button", name="Move to top").click()
    expect(entries.nth(0)).to_contain_text("First in line")
    expect(entries.nth(1)).to_contain_text("Jumps the queue")
    entries.nth(0).get_by_role("button", name="Remove").click()
    expect(entries.nth(0)).to_contain_text("Jumps the queue")  # re-flowed into the head
    expect(page.get_by_test_id("draft").filter(has_text="First in line")).to_have_count(1)
    page.get_by_label("One slot a line: day and time").fill("mon 25:00")
    page.get_by_role("button", name="Save slots").click()
    expect(page.get_by_test_id("queue-error")).to_contain_text("time of day")
    watch.assert_clean()


def test_a_post_that_repeats_every_day(tab: Tab, tmp_path: Path) -> None:
    page, watch = tab(DESKTOP)
    video = ready_user(page, watch, "repeater", tmp_path)
    page.goto("/app/compose")
    upload(page, video)
    page.get_by_label("Caption").fill("Daily tip")
    page.get_by_label("Who can view this video").select_option("PUBLIC_TO_EVERYONE")
    when = local_minutes_ahead(120)
    page.get_by_label("Date").fill(when.strftime("%Y-%m-%d"))
    page.get_by_label("Time", exact=True).fill(when.strftime("%H:%M"))
    page.get_by_label("Repeat").select_option(label="Every day")
    audit(page)
    page.locator("#submit").click()
    expect(page.locator(".status-line")).to_contain_text("Goes out")
    visit(page, watch, "/app/series")
    series = page.get_by_test_id("series")
    expect(series).to_have_count(1)
    expect(series.get_by_test_id("series-status")).to_have_text("active")
    expect(series.get_by_test_id("occurrence")).to_have_count(10)  # the last ten shown
    expect(series.get_by_test_id("occurrence").first).to_contain_text(when.strftime("%H:%M"))
    series.get_by_role("button", name="Pause").click()
    expect(series.get_by_test_id("series-status")).to_have_text("paused")
    expect(series.get_by_test_id("occurrence").first).to_contain_text("cancelled")
    audit(page)
    series.get_by_role("button", name="Resume").click()
    expect(series.get_by_test_id("series-status")).to_have_text("active")
    expect(series.get_by_test_id("occurrence").first).to_contain_text("scheduled")
    # This and all following: from the third occurrence on, a new caption.
    series.get_by_text("Change this and all following").click()
    series.get_by_label("From", exact=True).select_option(index=2)
    series.get_by_label("Caption from then on").fill("Daily tip, new series")
    series.get_by_role("button", name="Change from then on").click()
    expect(page.get_by_test_id("series")).to_have_count(2)
    expect(page.get_by_test_id("series").first).to_contain_text("Daily tip, new series")
    expect(page.get_by_test_id("series").nth(1).get_by_test_id("occurrence")).to_have_count(2)
    audit(page)
    # A broken custom rule is refused with its reason, next to the field.
    page.goto("/app/compose")
    upload(page, video)
    page.get_by_label("Caption").fill("Never")
    page.get_by_label("Who can view this video").select_option("PUBLIC_TO_EVERYONE")
    page.get_by_label("Date").fill(when.strftime("%Y-%m-%d"))
    page.get_by_label("Time", exact=True).fill(when.strftime("%H:%M"))
    page.get_by_label("Repeat").select_option(label="Custom rule (RRULE)")
    page.get_by_label("Custom rule").fill("FREQ=MINUTELY")
    watch.expected.append("status of 422")  # the refused form's answer
    page.locator("#submit").click()
    expect(page.locator("#err-rrule")).to_contain_text("too frequent")
    watch.assert_clean()


def test_calendar_feed_in_settings(tab: Tab, tmp_path: Path) -> None:
    page, watch = tab(PHONE)
    ready_user(page, watch, "feeder", tmp_path)
    visit(page, watch, "/app/settings")
    page.get_by_role("button", name="Create feed address").click()
    url = page.get_by_test_id("feed-url").input_value()
    assert "/api/v1/calendar/feed.ics?token=" in url
    audit(page)
    feed = page.request.get(url)
    assert feed.status == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    assert feed.text().startswith("BEGIN:VCALENDAR")
    visit(page, watch, "/app/settings")
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("button", name="Create feed address")).to_be_visible()
    assert page.request.get(url).status == 404
    watch.assert_clean()
