"""The main flow in a real browser: sign up → connect → upload → compose → calendar → publish."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.web.browser import DESKTOP, PHONE, audit
from tests.web.conftest import Tab
from tests.web.flows import (
    connect_account,
    fill_composer,
    local_minutes_ahead,
    next_minute,
    noisy_video,
    shows_poster,
    sign_up,
    upload,
    visit,
)

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("viewport", "name", "wait"),
    [(DESKTOP, "desk", True), (PHONE, "phone", False)],
    ids=["desktop-scheduled", "phone-publish-now"],
)
def test_sign_up_to_published(
    tab: Tab, server: str, tmp_path: Path, viewport: dict[str, int], name: str, wait: bool
) -> None:
    """Desktop: scheduled for the next minute, the scheduler publishes it while the page
    watches. Phone: the same flow, then "Publish now" (the same dispatcher, no wait)."""
    page, watch = tab(viewport)
    sign_up(page, watch, f"maker_{name}")
    connect_account(page, watch, f"creator{name}")
    visit(page, watch, "/app/compose")
    upload(page, noisy_video(tmp_path / "clip.mp4"))
    shows_poster(page, "#preview")  # the server's poster frame on the player
    when = next_minute() if wait else local_minutes_ahead(3)
    fill_composer(page, "Launch day #tiktimer", when)
    audit(page)
    page.locator("#submit").click()

    expect(page.locator(".status-line")).to_contain_text("Goes out")
    post_url = page.url.split("?")[0]
    visit(page, watch, "/app/calendar")
    entry = page.get_by_test_id("cal-post").filter(has_text="Launch day")
    expect(entry).to_contain_text(when.strftime("%H:%M"))
    shows_poster(page, "[data-testid=cal-post] .cal-thumb")
    visit(page, watch, f"/app/calendar?view=week&start={when.date().isoformat()}")
    expect(page.get_by_test_id("cal-post").filter(has_text="Launch day")).to_be_visible()
    visit(page, watch, "/app/calendar?view=list")
    expect(page.get_by_text("Launch day #tiktimer")).to_be_visible()

    page.goto(post_url)
    if not wait:  # the same path as a due post: the dispatcher, then TikTok
        page.get_by_role("button", name="Publish now").click()
    # The timeline updates without a reload as the post goes out.
    expect(page.get_by_test_id("tiktok-link")).to_be_visible(timeout=150_000)
    expect(page.locator(".status-line")).to_contain_text("Published")
    assert "/video/" in (page.get_by_test_id("tiktok-link").get_attribute("href") or "")
    audit(page)
    watch.assert_clean()
