"""`tiktimer db …` and `tiktimer users create` as an operator runs them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from tests.fixtures.server import run_tiktimer, running_server

pytestmark = pytest.mark.slow  # real `tiktimer` processes


def run(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_tiktimer(tmp_path, *args, stdin=stdin)


def test_db_commands(tmp_path: Path) -> None:
    assert "needs `tiktimer db upgrade`" in run(tmp_path, "db", "current").stdout
    assert run(tmp_path, "db", "upgrade").returncode == 0
    assert "up to date" in run(tmp_path, "db", "current").stdout
    assert run(tmp_path, "db", "downgrade", "base").returncode == 0
    assert "current: none" in run(tmp_path, "db", "current").stdout


def test_users_create_reads_password_from_stdin(tmp_path: Path) -> None:
    created = run(
        tmp_path,
        "users",
        "create",
        "boss",
        "--email",
        "boss@example.com",
        "--admin",
        stdin="a long enough password\n",
    )
    assert created.returncode == 0, created.stderr
    assert "created user boss" in created.stdout
    weak = run(tmp_path, "users", "create", "weak", "--email", "w@example.com", stdin="short\n")
    assert weak.returncode == 2
    assert "password" in weak.stderr
    duplicate = run(
        tmp_path,
        "users",
        "create",
        "boss",
        "--email",
        "x@example.com",
        stdin="a long enough password\n",
    )
    assert duplicate.returncode == 1
    with running_server(tmp_path) as base:
        token = httpx.post(
            f"{base}/token", data={"username": "boss", "password": "a long enough password"}
        ).json()["access_token"]
        users = httpx.get(f"{base}/admin/users", headers={"Authorization": f"Bearer {token}"})
        assert users.status_code == 200
