"""Test setup. Fixtures live in tests/fixtures; every app test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import faulthandler
import os
import signal

os.environ.setdefault("TIKTIMER_ENV", "testing")

# A run stopped from outside (CI's overall `timeout`) prints where every thread was first.
faulthandler.register(signal.SIGTERM, chain=True)

pytest_plugins = ["tests.fixtures.databases", "tests.fixtures.app", "tests.fixtures.watchdog"]
