"""Refresh docs/screenshots/: each main page of the web app, on a desktop and a phone.

Starts a throwaway `tiktimer serve` in sandbox mode (temporary data directory), walks the
main flow in Debian's chromium as the browser tests do, and saves one PNG per page and
viewport. Run it from the repository root: `make screenshots`.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402
from tests.fixtures.server import clean_env, run_tiktimer, running_server  # noqa: E402
from tests.web.browser import CHROMIUM, DESKTOP, PHONE, Watch, open_page  # noqa: E402
from tests.web.flows import (  # noqa: E402
    PASSWORD,
    connect_account,
    local_minutes_ahead,
    noisy_video,
    schedule,
    sign_up,
)

OUT = ROOT / "docs" / "screenshots"
PAGES = {
    "dashboard": "/app/",
    "compose": "/app/compose",
    "calendar": "/app/calendar",
    "accounts": "/app/accounts",
    "media": "/app/media",
    "admin": "/app/admin/users",
}


def prepare(page: Page, base: str, workdir: Path) -> tuple[str, date]:
    """A user with an account, two scheduled posts and one published; returns a post path
    and the first scheduled post's day."""
    watch = Watch(base)
    sign_up(page, watch, "studio")
    connect_account(page, watch, "sunnycreator")
    video = noisy_video(workdir / "clip.mp4")
    first = local_minutes_ahead(60 * 26)
    schedule(page, video, "Behind the scenes: a day at the studio #bts", first)
    schedule(page, video, "Weekly tips ✨", first + timedelta(days=3))
    post = schedule(page, video, "Launch day! #tiktimer", local_minutes_ahead(90))
    page.goto(post)
    page.get_by_role("button", name="Publish now").click()
    page.get_by_test_id("tiktok-link").wait_for(timeout=60_000)
    return post, first.date()


def shoot(page: Page, name: str, path: str, viewport: str) -> None:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(OUT / f"{name}-{viewport}.png"), full_page=viewport == "desktop")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        workdir = Path(tmp)
        env = clean_env(TIKTIMER_SANDBOX="true", TIKTIMER_RATE_LIMITS="false")
        with running_server(workdir, env=env, timeout=60) as base:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
            page, _ = open_page(browser, base, DESKTOP)
            shoot(page, "signin", "/app/signin", "desktop")
            post, first = prepare(page, base, workdir)
            run_tiktimer(
                workdir,
                "users",
                "create",
                "admin",
                "--email",
                "a@example.com",
                "--admin",
                env=env,
                stdin=PASSWORD + "\n",
            )
            week = f"/app/calendar?view=week&start={first.isoformat()}"
            pages = {**PAGES, "week": week, "post": post}
            phone, _ = open_page(browser, base, PHONE)
            phone.context.add_cookies(page.context.cookies())
            for name, path in pages.items():
                if name != "admin":
                    shoot(page, name, path, "desktop")
                    shoot(phone, name, path, "phone")
            page.get_by_role("button", name="Sign out").click()
            page.get_by_label("Username or email").fill("admin")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            shoot(page, "admin", PAGES["admin"], "desktop")
            shoot(phone, "signin", "/app/signin", "phone")
            browser.close()
    print(f"screenshots written to {OUT.relative_to(ROOT)}")  # noqa: T201


if __name__ == "__main__":
    main()
