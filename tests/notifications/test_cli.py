"""`tiktimer notifications send`: one round of routing and sending, as an operator runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.server import run_tiktimer

pytestmark = pytest.mark.slow  # a real `tiktimer` process


def test_send_once_on_a_fresh_install(tmp_path: Path) -> None:
    done = run_tiktimer(tmp_path, "notifications", "send")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("tried 0 deliveries")
