"""Test setup. Fixtures live in tests/fixtures; every app test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import os

os.environ.setdefault("TIKTIMER_ENV", "testing")

pytest_plugins = ["tests.fixtures.databases", "tests.fixtures.app"]
