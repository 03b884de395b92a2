"""Posting when things go wrong: pre-flight refusals, failures and retry, dead tokens, and
an upload that survives a cut connection (dragging to reschedule: test_calendar)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.web.browser import VIEWPORTS, audit, tag
from tests.web.conftest import Tab
from tests.web.flows import (
    SANDBOX_CLIENT_KEY,
    local_minutes_ahead,
    noisy_video,
    on_tiktok,
    ready_user,
    schedule,
    upload,
    visit,
)

pytestmark = pytest.mark.slow


@VIEWPORTS
def test_preflight_refusal_is_shown_next_to_the_video(
    browser: Browser, tab: Tab, server: str, tmp_path: Path, viewport: dict[str, int]
) -> None:
    page, watch = tab(viewport)
    ready_user(page, watch, "preflight" + tag(viewport), tmp_path)
    visit(page, watch, "/app/compose")
    small = noisy_video(tmp_path / "small.mp4", width=320, height=240)
    page.get_by_label("Upload a video").set_input_files(str(small))
    expect(page.locator("#upload-status")).to_contain_text("TikTok would refuse it", timeout=30_000)
    page.get_by_label("Who can view this video").select_option("SELF_ONLY")
    when = local_minutes_ahead(10)
    page.get_by_label("Date").fill(when.strftime("%Y-%m-%d"))
    page.get_by_label("Time", exact=True).fill(when.strftime("%H:%M"))
    # The API's pre-flight, asked as the form is filled: the reason sits under the video
    # field, and the button stays disabled.
    expect(page.locator("#pf-media_ids")).to_contain_text("below TikTok's minimum")
    expect(page.locator("#submit")).to_be_disabled()
    audit(page)

    # Without JavaScript the form still posts, and the server's answer is the same.
    plain = browser.new_context(java_script_enabled=False, base_url=server, viewport=viewport)
    plain.add_cookies(page.context.cookies())
    bare = plain.new_page()
    bare.goto("/app/compose")
    bare.get_by_label("Or choose an uploaded video").select_option(index=1)
    bare.get_by_label("Who can view this video").select_option("SELF_ONLY")
    bare.get_by_label("Date").fill(when.strftime("%Y-%m-%d"))
    bare.get_by_label("Time", exact=True).fill(when.strftime("%H:%M"))
    bare.get_by_role("button", name="Schedule post").click()
    expect(bare.locator("#err-media_ids")).to_contain_text("below TikTok's minimum")
    plain.close()
    visit(page, watch, "/app/calendar?view=list")
    expect(page.get_by_text("Nothing in these 30 days.")).to_be_visible()  # nothing saved


@VIEWPORTS
def test_creator_settings_disable_interactions(
    tab: Tab, server: str, tmp_path: Path, viewport: dict[str, int]
) -> None:
    page, watch = tab(viewport)
    name = "settings" + tag(viewport)
    ready_user(page, watch, name, tmp_path)
    on_tiktok(server, lambda tiktok: tiktok.update_creator(f"cr{name}", duet_disabled=True))
    visit(page, watch, "/app/compose")
    expect(page.get_by_label("Duet", exact=True)).to_be_disabled()
    expect(page.get_by_label("Stitch", exact=True)).to_be_enabled()
    on_tiktok(server, lambda tiktok: tiktok.update_creator(f"cr{name}", banned=True))
    visit(page, watch, "/app/compose")
    expect(page.get_by_test_id("cannot-post")).to_be_visible()
    expect(page.locator("#submit")).to_be_disabled()


@VIEWPORTS
def test_failed_post_shows_reason_and_retry_publishes(
    tab: Tab, server: str, tmp_path: Path, viewport: dict[str, int]
) -> None:
    page, watch = tab(viewport)
    name = "retrier" + tag(viewport)
    video = ready_user(page, watch, name, tmp_path)
    post = schedule(page, video, "Will fail once", local_minutes_ahead(30))
    on_tiktok(server, lambda tiktok: tiktok.update_creator(f"cr{name}", banned=True))
    page.get_by_role("button", name="Publish now").click()
    expect(page.get_by_test_id("failure")).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("failure")).to_contain_text("What to do")
    audit(page)
    on_tiktok(server, lambda tiktok: tiktok.update_creator(f"cr{name}", banned=False))
    page.get_by_role("button", name="Retry").click()
    expect(page.get_by_test_id("tiktok-link")).to_be_visible(timeout=60_000)
    assert page.url.startswith(post)
    watch.assert_clean()


@VIEWPORTS
def test_dead_token_shows_banner_and_reconnects(
    tab: Tab, server: str, tmp_path: Path, viewport: dict[str, int]
) -> None:
    page, watch = tab(viewport)
    name = "revoked" + tag(viewport)
    ready_user(page, watch, name, tmp_path)
    on_tiktok(server, lambda tiktok: tiktok.remove_authorization(SANDBOX_CLIENT_KEY, f"cr{name}"))
    page.goto("/app/compose")  # asks TikTok for creator_info: the grant is gone
    visit(page, watch, "/app/")
    banner = page.get_by_test_id("reconnect-banner")
    expect(banner).to_be_visible()
    banner.get_by_role("button", name="Reconnect").click()
    page.get_by_role("radio", name=f"cr{name}").check()
    page.get_by_role("button", name="Authorize").click()
    page.get_by_role("link", name="Back to TikTimer").click()
    expect(page.get_by_test_id("reconnect-banner")).to_have_count(0)
    expect(page.get_by_test_id("token-health").first).to_have_text("ok")


CHUNK = 256 * 1024  # compose.js's CHUNK_BYTES


def watch_progress(page: Page) -> None:
    """Record every value the progress bar takes (with its max), in the page."""
    page.evaluate(
        """() => {
          window.progressSeen = [];
          const bar = document.getElementById('upload-progress');
          new MutationObserver(() => window.progressSeen.push([bar.value, bar.max]))
            .observe(bar, {attributes: true, attributeFilter: ['value']});
        }"""
    )


def throttle_uploads(page: Page, bytes_per_second: int) -> None:
    """Chromium's own network emulation: request bodies go out at this rate."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    conditions = {"offline": False, "latency": 5, "downloadThroughput": -1}
    cdp.send(
        "Network.emulateNetworkConditions", conditions | {"uploadThroughput": bytes_per_second}
    )


@VIEWPORTS
def test_upload_progress_follows_the_bytes_and_resumes_after_a_cut(
    tab: Tab, server: str, tmp_path: Path, viewport: dict[str, int]
) -> None:
    page, watch = tab(viewport)
    video = ready_user(page, watch, "resumer" + tag(viewport), tmp_path)
    total = video.stat().st_size
    offsets: list[str] = []
    cut = {"done": False}

    def drop_second_chunk(route: Route) -> None:
        if route.request.method == "PATCH":
            offsets.append(route.request.headers.get("upload-offset", ""))
            if len(offsets) == 2 and not cut["done"]:
                cut["done"] = True
                route.abort("connectionreset")
                return
        route.continue_()

    page.route("**/api/v1/media/uploads/*", drop_second_chunk)
    watch.expected.append("ERR_CONNECTION_RESET")  # the cut this test makes
    visit(page, watch, "/app/compose")
    throttle_uploads(page, 1024 * 1024)
    watch_progress(page)
    upload(page, video)
    # The chunk after the cut starts from the server's offset, not from zero.
    assert cut["done"]
    assert offsets[1] == offsets[2] == str(CHUNK), offsets
    # The bar moved with the bytes as the browser sent them, within chunks too.
    seen = [value for value, maximum in page.evaluate("window.progressSeen") if maximum == total]
    between = sorted({value for value in seen if 0 < value < total})
    assert len(between) >= 8, seen
    assert any(value % CHUNK for value in between), seen
    assert seen[-1] == total
    audit(page)


@VIEWPORTS
def test_an_upload_left_midway_resumes_when_the_file_is_chosen_again(
    tab: Tab, server: str, tmp_path: Path, viewport: dict[str, int]
) -> None:
    page, watch = tab(viewport)
    video = ready_user(page, watch, "returner" + tag(viewport), tmp_path)
    offsets: list[int] = []

    def count_chunks(route: Route) -> None:
        if route.request.method == "PATCH":
            offsets.append(int(route.request.headers.get("upload-offset", "-1")))
        route.continue_()

    page.route("**/api/v1/media/uploads/*", count_chunks)
    visit(page, watch, "/app/compose")
    throttle_uploads(page, 512 * 1024)
    page.get_by_label("Upload a video").set_input_files(str(video))
    expect(page.locator("#upload-status")).to_have_text("Uploading…")
    page.wait_for_function(
        "() => Number(document.getElementById('upload-progress').value) > 600000"
    )
    visit(page, watch, "/app/compose")  # the page is left mid-upload
    left_at = max(offsets)
    assert left_at >= 2 * CHUNK
    offsets.clear()
    page.get_by_label("Upload a video").set_input_files(str(video))
    expect(page.locator("#upload-status")).to_contain_text("Resuming an earlier upload")
    expect(page.locator("#upload-status")).to_have_text("Uploaded.", timeout=30_000)
    # It went on from what the server had, not from the start.
    assert offsets[0] >= left_at, offsets
    assert 0 not in offsets
    expect(page.get_by_label("Or choose an uploaded video")).not_to_have_value("")
