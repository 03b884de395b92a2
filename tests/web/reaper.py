"""A watchdog for closing Chromium: kill the browser if closing it wedges.

Closing a browser or a context over the DevTools pipe can hang when Chromium wedges on
exit (a known class of Chromium and Playwright bugs, seen here as a CI run that stalled
after the last test of a module). Killing our own Chromium processes ends the pipe, so
the close returns and the run goes on; the kill is said on the real stderr.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BROWSER_NAMES = ("chromium", "chrome", "headless_shell")


def _parents() -> dict[int, int]:
    """Every process's parent, read from /proc (Linux, like the rest of the browser tests)."""
    found: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        found[int(stat.parent.name)] = int(fields[1])
    return found


def _descendants(root: int) -> list[int]:
    parents = _parents()
    found: list[int] = []
    frontier = [root]
    while frontier:
        pid = frontier.pop()
        children = [child for child, parent in parents.items() if parent == pid]
        found += children
        frontier += children
    return found


def _command_name(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "comm").read_text().strip()
    except OSError:
        return ""


def kill_browsers() -> list[int]:
    """SIGKILL every Chromium process below this one; the pids killed."""
    killed = []
    for pid in _descendants(os.getpid()):
        if _command_name(pid).startswith(BROWSER_NAMES):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            killed.append(pid)
    return killed


def _reap(what: str, seconds: float) -> None:
    killed = kill_browsers()
    print(
        f"\n[browser tests] {what} took over {seconds:.0f} s: killed Chromium {killed}",
        file=sys.__stderr__,
        flush=True,
    )


@contextmanager
def reaped_after(what: str, seconds: float = 30) -> Iterator[None]:
    """Run the block; if it outlives `seconds`, kill our Chromium processes so it returns."""
    timer = threading.Timer(seconds, _reap, args=(what, seconds))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
