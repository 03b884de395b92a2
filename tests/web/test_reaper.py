"""The teardown watchdog: a wedged close returns once our Chromium is killed."""

from __future__ import annotations

import subprocess
import time

from tests.web.browser import CHROMIUM, require_browser_tools
from tests.web.reaper import reaped_after


def test_a_block_waiting_on_chromium_returns_after_the_deadline(tmp_path) -> None:
    require_browser_tools()
    browser = subprocess.Popen(
        [str(CHROMIUM), "--headless", "--no-sandbox", f"--user-data-dir={tmp_path}",
         "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    started = time.monotonic()
    with reaped_after("waiting on a browser that never exits", seconds=1):
        code = browser.wait(timeout=60)  # stands for a close that never comes back
    assert code == -9  # killed, not exited on its own
    assert time.monotonic() - started < 30
