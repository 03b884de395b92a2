"""`tiktimer accounts pause|resume ID` as an operator runs them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.fixtures.server import run_tiktimer

pytestmark = pytest.mark.slow  # real `tiktimer` processes


def _paused_at(database: Path) -> object:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT paused_at FROM social_accounts WHERE id = 1").fetchone()[0]


def test_accounts_pause_and_resume(tmp_path: Path) -> None:
    assert run_tiktimer(tmp_path, "db", "upgrade").returncode == 0
    created = run_tiktimer(
        tmp_path, "users", "create", "boss", "--email", "b@example.com", stdin="long password 1\n"
    )
    assert created.returncode == 0, created.stderr
    database = tmp_path / "data" / "tiktimer.db"
    with sqlite3.connect(database) as db:
        db.execute(
            "INSERT INTO social_accounts (id, user_id, platform, open_id, scopes, status, "
            "is_sandbox, created_at, updated_at) VALUES (1, 1, 'tiktok', 'open-1', '', "
            "'active', 0, '2030-01-01 00:00:00', '2030-01-01 00:00:00')"
        )
    paused = run_tiktimer(tmp_path, "accounts", "pause", "1")
    assert paused.returncode == 0, paused.stderr
    assert "account 1 paused" in paused.stdout
    assert _paused_at(database) is not None
    resumed = run_tiktimer(tmp_path, "accounts", "resume", "1")
    assert resumed.returncode == 0, resumed.stderr
    assert _paused_at(database) is None
    missing = run_tiktimer(tmp_path, "accounts", "pause", "99")
    assert missing.returncode == 1
    assert "no account 99" in missing.stderr
