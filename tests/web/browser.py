"""Headless Chromium (Debian's package, never a download) driven by Playwright.

`TIKTIMER_CHROMIUM` names the browser binary (default /usr/bin/chromium). Every page a
test opens is watched: console errors and requests to any other host fail the test, and
`audit(page)` runs axe-core (installed by `npm ci` from the committed lock file).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("TIKTIMER_CHROMIUM", "/usr/bin/chromium"))
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
BLOCKING = ("serious", "critical")
#: Every flow runs on both (the acceptance's 390×844 phone); `tag` keeps their users apart.
VIEWPORTS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])


def tag(viewport: dict[str, int]) -> str:
    return "p" if viewport is PHONE else "d"


def require_browser_tools() -> None:
    """Skip without Chromium or axe-core, except in CI, where their absence fails."""
    missing = [str(p) for p in (CHROMIUM, AXE) if not p.exists()]
    if not missing:
        return
    reason = f"browser tests need {', '.join(missing)} (apt-get install chromium; npm ci)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI requires them)", pytrace=False)
    pytest.skip(reason)


@dataclass
class Watch:
    """What a page did that a test must not allow."""

    origin: str
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    #: Console lines a test provoked on purpose (e.g. the 422 of a refused reschedule).
    expected: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not any(e in message.text for e in self.expected):
            self.console_errors.append(f"{message.text} ({message.location.get('url')})")

    def on_request(self, request: Request) -> None:
        url = urlsplit(request.url)
        if url.scheme in ("data", "blob", "about"):
            return
        if f"{url.scheme}://{url.netloc}" != self.origin:
            self.foreign_requests.append(request.url)

    def assert_clean(self) -> None:
        assert self.foreign_requests == [], "requests left this server"
        assert self.console_errors == [], "the browser console reported errors"


def open_page(browser: Browser, base: str, viewport: dict[str, int]) -> tuple[Page, Watch]:
    context = browser.new_context(
        viewport=viewport,  # type: ignore[arg-type]
        base_url=base,
        timezone_id="Europe/Paris",
        locale="en-GB",
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    watch = Watch(base)
    page.on("console", watch.on_console)
    page.on("request", watch.on_request)
    page.on("pageerror", lambda error: watch.console_errors.append(str(error)))
    return page, watch


@lru_cache(maxsize=1)
def _axe_source() -> str:
    return AXE.read_text() + "\n;true"


def audit(page: Page) -> None:
    """axe-core on the page as it stands: no serious or critical violation."""
    # Evaluated through the DevTools protocol: our CSP (no inline script) would refuse a
    # script tag, and must stay strict during the test.
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(_axe_source())
    # The settled page, not a frame of a running transition (a button that has just been
    # enabled fades to its colours in 150 ms; its contrast is judged once it is there).
    page.evaluate(
        "() => Promise.all(document.getAnimations().map(a => a.finished.catch(() => null)))"
    )
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    blocking = [v for v in found if v["impact"] in BLOCKING]
    assert blocking == [], f"accessibility violations on {page.url}: {blocking}"
