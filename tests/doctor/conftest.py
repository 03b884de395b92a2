"""A fresh, migrated installation per test (SQLite and PostgreSQL) and a way to ask the doctor."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.databases import create_pg_database, drop_pg_database, sqlite_url
from tests.fixtures.server import clean_env, run_tiktimer
from tiktimer.db import migrate


@dataclass
class Installation:
    backend: str
    url: str
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)

    def doctor(self, *args: str, **env: str) -> tuple[int, dict[str, Any]]:
        """Run `tiktimer doctor --json` as a subprocess; its exit code and report."""
        result = run_tiktimer(self.workdir, "doctor", "--json", *args, env={**self.env, **env})
        assert result.stdout, result.stderr
        return result.returncode, json.loads(result.stdout)

    def human(self, **env: str) -> tuple[int, str]:
        result = run_tiktimer(self.workdir, "doctor", env={**self.env, **env})
        return result.returncode, result.stdout


def results(report: dict[str, Any], check: str) -> list[dict[str, str]]:
    return [item for item in report["checks"] if item["check"] == check]


def failures(report: dict[str, Any]) -> list[dict[str, str]]:
    return [item for item in report["checks"] if item["status"] == "fail"]


@pytest.fixture(params=["sqlite", "postgresql"])
def installation(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Installation]:
    data = tmp_path / "data"
    data.mkdir()
    if request.param == "sqlite":
        url = sqlite_url(data)
    else:
        url = create_pg_database("tiktimer_doctor")
    try:
        migrate.upgrade(url)
        env = clean_env(TIKTIMER_DATA_DIR=str(data), DATABASE_URL=url)
        yield Installation(request.param, url, tmp_path, env)
    finally:
        if request.param == "postgresql":
            drop_pg_database(url)
