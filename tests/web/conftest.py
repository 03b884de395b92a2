"""A real `tiktimer serve` in sandbox mode (temp SQLite and media) and headless Chromium."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.fixtures.server import clean_env, running_server
from tests.web.browser import CHROMIUM, Watch, open_page, require_browser_tools
from tests.web.reaper import reaped_after

Tab = Callable[[dict[str, int]], tuple[Page, Watch]]


class Server(str):
    """The server's base URL, which also knows its data directory."""

    workdir: Path

    @property
    def database_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.workdir / 'data' / 'tiktimer.db'}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server per test module: its own data dir (SQLite database, media, keys)."""
    workdir: Path = tmp_path_factory.mktemp("web")
    env = clean_env(
        TIKTIMER_SANDBOX="true",
        TIKTIMER_RATE_LIMITS="false",
        TIKTIMER_SCHEDULER_POLL_SECONDS="0.5",
        TIKTIMER_STATUS_POLL_FIRST_SECONDS="0.5",
    )
    with running_server(workdir, env=env, timeout=60) as base:
        found = Server(base)
        found.workdir = workdir
        yield found


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Per module: Playwright's sync API holds an event loop on this thread while it runs,
    which the asyncio tests of the modules after ours must not find running."""
    require_browser_tools()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        with reaped_after("closing the browser"):
            launched.close()


@pytest.fixture
def tab(browser: Browser, server: Server) -> Iterator[Tab]:
    """Open a watched page (its own browser context) at a viewport; every page opened is
    checked at the end: no console error, no request to another host."""
    opened: list[tuple[Page, Watch]] = []

    def open_tab(viewport: dict[str, int]) -> tuple[Page, Watch]:
        opened.append(open_page(browser, server, viewport))
        return opened[-1]

    yield open_tab
    for page, watch in opened:
        with reaped_after("closing a browser context"):
            page.context.close()
        watch.assert_clean()
