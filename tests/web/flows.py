"""Steps a user takes in the browser, shared by the desktop and phone runs."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import av
from playwright.sync_api import Page, expect

from tests.web.browser import Watch, audit
from tiktimer.platforms.tiktok.emulator.app import create_emulator_app
from tiktimer.platforms.tiktok.emulator.config import (
    SANDBOX_CLIENT_KEY,
    ClientConfig,
    EmulatorConfig,
)
from tiktimer.platforms.tiktok.sandbox_state import DatabaseStateStore, sandbox_database_url

PASSWORD = "correct horse battery"
ZONE = ZoneInfo("Europe/Paris")  # the browser's zone (browser.open_page)


def noisy_video(path: Path, seconds: float = 0.5, width: int = 360, height: int = 640) -> Path:
    """A small real H.264 file whose noise makes it big enough for several upload chunks."""
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=30, options={"preset": "ultrafast", "crf": "24"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(round(seconds * 30)):
            frame = av.VideoFrame(width, height, "yuv420p")
            for plane in frame.planes:
                plane.update(os.urandom(plane.buffer_size))
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def visit(page: Page, watch: Watch, path: str) -> None:
    """Open a page, wait for it to settle, and hold it to the rules every page keeps."""
    page.goto(path)
    page.wait_for_load_state("networkidle")
    audit(page)
    watch.assert_clean()


def sign_up(page: Page, watch: Watch, username: str) -> None:
    visit(page, watch, "/")  # a browser at / lands in the app
    page.get_by_role("link", name="Create an account").click()
    audit(page)
    # The time zone defaults to the browser's.
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Paris")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name=f"Hello, {username}")).to_be_visible()
    expect(page.get_by_test_id("guide")).to_contain_text("Sandbox mode is on")
    expect(page.get_by_test_id("sandbox-banner")).to_be_visible()
    audit(page)


def connect_account(page: Page, watch: Watch, creator: str) -> None:
    visit(page, watch, "/app/accounts")
    page.get_by_role("button", name="Connect a TikTok account").first.click()
    # The sandbox's consent page (served by this same server).
    page.get_by_label("Or create a creator named").fill(creator)
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_role("heading", name="Connected")).to_be_visible()
    audit(page)  # the API's OAuth result page, which leads back into the app
    page.get_by_role("link", name="Back to TikTimer").click()
    expect(page).to_have_url(f"{watch.origin}/app/accounts")
    expect(page.get_by_test_id("account").first).to_contain_text(creator)
    expect(page.get_by_test_id("token-health").first).to_have_text("ok")
    audit(page)


def upload(page: Page, video: Path) -> None:
    page.get_by_label("Upload a video").set_input_files(str(video))
    expect(page.locator(".progress-wrap")).to_be_visible()
    expect(page.locator("#upload-status")).to_have_text("Uploaded.", timeout=30_000)
    bar = page.locator("#upload-progress")
    expect(bar).to_have_attribute("value", str(video.stat().st_size))
    expect(bar).to_have_attribute("max", str(video.stat().st_size))
    expect(page.locator("#upload-percent")).to_contain_text("100%")
    expect(page.get_by_label("Or choose an uploaded video")).not_to_have_value("")


def next_minute(margin_seconds: int = 20) -> datetime:
    """The soonest whole minute at least `margin_seconds` away (the composer has minutes)."""
    soon = datetime.now(ZONE) + timedelta(seconds=margin_seconds + 59)
    return soon.replace(second=0, microsecond=0)


def local_minutes_ahead(minutes: int) -> datetime:
    return (datetime.now(ZONE) + timedelta(minutes=minutes)).replace(second=0, microsecond=0)


def fill_composer(page: Page, caption: str, when: datetime) -> None:
    """TikTok's rules in order; the button stays disabled until the last one is met."""
    submit = page.locator("#submit")
    expect(page.get_by_test_id("creator-nickname")).not_to_be_empty()
    expect(submit).to_be_disabled()
    page.get_by_label("Caption").fill(caption)
    # Interactions start off; privacy has no default.
    for name in ("Comment", "Duet", "Stitch"):
        expect(page.get_by_label(name, exact=True)).not_to_be_checked()
    expect(page.get_by_label("Who can view this video")).to_have_value("")
    page.get_by_label("Date").fill(when.strftime("%Y-%m-%d"))
    page.get_by_label("Time", exact=True).fill(when.strftime("%H:%M"))
    expect(submit).to_be_disabled()  # privacy still unchosen
    page.get_by_label("Who can view this video").select_option("PUBLIC_TO_EVERYONE")
    expect(submit).to_be_enabled()
    # Disclosure on: one kind must be chosen; branded content cannot be private.
    page.get_by_label("Disclose video content").check()
    expect(submit).to_be_disabled()
    expect(page.locator("#disclose-error")).to_be_visible()
    page.get_by_label("Branded content").check()
    expect(page.get_by_test_id("declaration")).to_contain_text("Branded Content Policy")
    expect(page.locator("#privacy option[value=SELF_ONLY]")).to_be_disabled()
    expect(submit).to_be_enabled()
    page.get_by_label("Comment", exact=True).check()


def on_tiktok(server: str, change: Callable[[Any], object]) -> None:
    """Change TikTok's side (the sandbox's shared state) as another process would."""
    url = sandbox_database_url(getattr(server, "database_url"))  # noqa: B009
    assert url is not None
    client = ClientConfig(
        client_key=SANDBOX_CLIENT_KEY,
        client_secret="unused-by-these-changes",
        redirect_uris=("http://127.0.0.1/unused",),
        check_registration_rules=False,
    )

    async def run() -> None:
        app = create_emulator_app(EmulatorConfig(clients=(client,)), store=DatabaseStateStore(url))
        emulator = app.state.emulator
        async with emulator.synced():
            change(emulator)
        await emulator.aclose()

    # Playwright's sync API keeps an event loop on this thread: run ours on another one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: asyncio.run(run())).result()


def ready_user(page: Page, watch: Watch, name: str, tmp: Path) -> Path:
    """Signed up, one sandbox account connected; returns a video TikTok accepts."""
    sign_up(page, watch, name)
    connect_account(page, watch, f"cr{name}"[:24])
    return noisy_video(tmp / f"{name}.mp4")


def schedule(page: Page, video: Path, caption: str, when: datetime) -> str:
    """A public post through the composer; returns the post page's path."""
    page.goto("/app/compose")
    upload(page, video)
    page.get_by_label("Caption").fill(caption)
    page.get_by_label("Who can view this video").select_option("PUBLIC_TO_EVERYONE")
    page.get_by_label("Date").fill(when.strftime("%Y-%m-%d"))
    page.get_by_label("Time", exact=True).fill(when.strftime("%H:%M"))
    page.locator("#submit").click()
    expect(page.locator(".status-line")).to_contain_text("Goes out")
    return page.url.split("?")[0]


def shows_poster(page: Page, selector: str) -> None:
    """The element's poster (an <img>'s src, a <video>'s poster) is a JPEG made on upload,
    not the placeholder, and an <img> has loaded it."""
    element = page.locator(selector).first
    url = element.evaluate("e => e.tagName === 'VIDEO' ? e.poster : e.src")
    assert url.endswith("/thumbnail"), url
    kind = page.evaluate(
        "async (url) => (await fetch(url)).headers.get('content-type')",
        url,
    )
    assert kind == "image/jpeg"
    if element.evaluate("e => e.tagName") == "IMG":
        element.scroll_into_view_if_needed()
        page.wait_for_function(
            "e => e.complete && e.naturalWidth > 0", arg=element.element_handle()
        )
