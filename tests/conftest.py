"""Test setup. Fixtures live in tests/fixtures; every app test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import faulthandler
import os
import signal
from collections.abc import Iterator

import pytest

os.environ.setdefault("TIKTIMER_ENV", "testing")

# A run stopped from outside (CI's overall `timeout`) prints where every thread was first.
faulthandler.register(signal.SIGTERM, chain=True)

pytest_plugins = ["tests.fixtures.databases", "tests.fixtures.app", "tests.fixtures.watchdog"]


@pytest.fixture(autouse=True)
def _normal_scheduling() -> Iterator[None]:
    """A test that leaves the test process real-time (a native library's doing: see
    `tests.media_factory.normal_scheduling`) fails, and the policy is put back, so the
    processes later tests start are not real-time and cannot starve the machine."""
    yield
    policy = os.sched_getscheduler(0)
    if policy != os.SCHED_OTHER:
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
        pytest.fail(f"the test left the test process with scheduling policy {policy}")
