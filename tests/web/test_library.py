"""The media library and editing a post from its page."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.web.browser import VIEWPORTS, audit, tag
from tests.web.conftest import Tab
from tests.web.flows import local_minutes_ahead, ready_user, schedule, shows_poster, upload, visit

pytestmark = pytest.mark.slow


@VIEWPORTS
def test_media_in_use_cannot_be_deleted_until_the_post_is_cancelled(
    tab: Tab, server: str, tmp_path: Path, viewport: dict[str, int]
) -> None:
    page, watch = tab(viewport)
    video = ready_user(page, watch, "librarian" + tag(viewport), tmp_path)
    post = schedule(page, video, "Keeps its video", local_minutes_ahead(120))
    visit(page, watch, "/app/media")
    item = page.get_by_test_id("media-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("TikTok accepts this file.")
    expect(item).to_contain_text("360×640")
    shows_poster(page, "[data-testid=media-thumb]")
    page.on("dialog", lambda dialog: dialog.accept())
    item.get_by_role("button", name="Delete").click()
    expect(page.get_by_test_id("media-error")).to_be_visible()
    expect(page.get_by_test_id("media-item")).to_have_count(1)
    page.goto(post)
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator(".status-line")).to_contain_text("Cancelled")
    page.get_by_role("button", name="Delete").click()  # the post itself
    expect(page).to_have_url(f"{server}/app/calendar?deleted=1")
    visit(page, watch, "/app/media")
    page.get_by_test_id("media-item").get_by_role("button", name="Delete").click()
    expect(page.get_by_test_id("media-item")).to_have_count(0)
    audit(page)
    watch.assert_clean()


@VIEWPORTS
def test_edit_and_reschedule_from_the_post_page(
    tab: Tab, server: str, tmp_path: Path, viewport: dict[str, int]
) -> None:
    page, watch = tab(viewport)
    video = ready_user(page, watch, "editor" + tag(viewport), tmp_path)
    post = schedule(page, video, "First words", local_minutes_ahead(180))
    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Caption")).to_have_value("First words")
    expect(page.get_by_label("Who can view this video")).to_have_value("PUBLIC_TO_EVERYONE")
    audit(page)
    page.get_by_label("Caption").fill("Better words")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", name="Better words")).to_be_visible()
    later = local_minutes_ahead(60 * 24 * 5)
    page.get_by_label("New time").fill(later.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Reschedule").click()
    expect(page.locator(".status-line")).to_contain_text(later.strftime("%H:%M"))
    assert page.url.startswith(post)
    watch.assert_clean()


@VIEWPORTS
def test_publish_now_and_send_to_inbox_from_the_composer(
    tab: Tab, server: str, tmp_path: Path, viewport: dict[str, int]
) -> None:
    page, watch = tab(viewport)
    video = ready_user(page, watch, "instant" + tag(viewport), tmp_path)
    page.goto("/app/compose")
    upload(page, video)
    page.get_by_label("Caption").fill("Right now")
    page.get_by_label("Publish now").check()
    expect(page.get_by_label("Date")).to_be_hidden()
    page.get_by_label("Who can view this video").select_option("MUTUAL_FOLLOW_FRIENDS")
    page.get_by_role("button", name="Publish now").click()
    # Published for friends only: TikTok gives no public post (so no link) for it.
    expect(page.locator(".status-line")).to_contain_text("Published", timeout=60_000)
    expect(page.get_by_test_id("tiktok-link")).to_have_count(0)

    page.goto("/app/compose")
    page.get_by_label("Or choose an uploaded video").select_option(index=1)
    page.get_by_label("Caption").fill("Finish in the app")
    page.get_by_label("Send to TikTok inbox as a draft").check()
    expect(page.get_by_text("Drafts go to the creator's TikTok inbox")).to_be_visible()
    page.get_by_role("button", name="Send to TikTok inbox").click()
    expect(page.get_by_text("Sent to the creator's TikTok inbox")).to_be_visible(timeout=60_000)
    audit(page)
