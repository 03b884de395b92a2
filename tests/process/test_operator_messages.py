"""What a real `tiktimer serve` and `tiktimer db` tell an operator, and what they never log."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.fixtures.server import clean_env, free_port, run_tiktimer, running_server

pytestmark = pytest.mark.slow  # real `tiktimer` processes

SECRETS = {
    "code": "OAUTHCODE-5f1e2d",
    "state": "OAUTHSTATE-9a8b7c",
    "sig": "MEDIASIG-0c0ffee",
    "upload_token": "UPLOADTOKEN-beef42",
    "access_token": "ACCESSTOKEN-77aa",
}


def test_serve_log_warns_of_misnamed_settings_and_redacts_query_secrets(tmp_path: Path) -> None:
    """One real server for both (each start costs seconds)."""
    env = clean_env(
        TIKTIMER_DATABASE_URL="postgresql://nobody@127.0.0.1/none",
        TIKTIMER_SCHEDULER_POL_SECONDS="2",
    )
    (tmp_path / ".env").write_text("DATABSE_URL=sqlite+aiosqlite:///x.db\nPOSTGRES_DB=tiktimer\n")
    with running_server(tmp_path, env=env) as base:
        httpx.get(
            f"{base}/api/v1/auth/tiktok/callback",
            params={"code": SECRETS["code"], "state": SECRETS["state"], "scopes": "video.list"},
        )
        httpx.get(f"{base}/api/v1/media/1/public", params={"exp": "1", "sig": SECRETS["sig"]})
        httpx.get(
            f"{base}/health",
            params={
                "upload_token": SECRETS["upload_token"],
                "ACCESS_TOKEN": SECRETS["access_token"],
            },
        )
    log = (tmp_path / "server.log").read_text()
    for name, value in SECRETS.items():
        assert value not in log, f"{name} leaked into the log"
    assert "/api/v1/auth/tiktok/callback?code=[redacted]&state=[redacted]&scopes=video.list" in log
    assert "sig=[redacted]" in log
    assert "exp=1" in log  # harmless parameters stay readable
    _assert_misnamed_settings_named_once(log)


def test_hsts_only_for_https_through_a_trusted_proxy(tmp_path: Path) -> None:
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    with running_server(tmp_path) as base:  # uvicorn trusts 127.0.0.1 by default
        assert "strict-transport-security" not in httpx.get(f"{base}/health").headers
        proxied = httpx.get(f"{base}/health", headers=https)
        assert proxied.headers["strict-transport-security"].startswith("max-age=")
        assert proxied.headers["x-content-type-options"] == "nosniff"
    untrusted = clean_env(FORWARDED_ALLOW_IPS="192.0.2.1")
    (tmp_path / "untrusted").mkdir()
    with running_server(tmp_path / "untrusted", env=untrusted) as base:
        spoofed = httpx.get(f"{base}/health", headers=https)
        assert "strict-transport-security" not in spoofed.headers


def _assert_misnamed_settings_named_once(log: str) -> None:
    expected = [
        "warning: TIKTIMER_DATABASE_URL is not a TikTimer setting and is ignored; "
        "did you mean DATABASE_URL?",
        "warning: TIKTIMER_SCHEDULER_POL_SECONDS is not a TikTimer setting and is ignored; "
        "did you mean TIKTIMER_SCHEDULER_POLL_SECONDS?",
        "warning: .env: DATABSE_URL is not a TikTimer setting and is ignored; "
        "did you mean DATABASE_URL?",
    ]
    for line in expected:
        assert log.count(line) == 1, log
    assert "POSTGRES_DB" not in log  # other tools' variables in .env are left alone
    assert log.count("warning:") == len(expected)


def test_db_commands_name_the_database_and_what_they_did(tmp_path: Path) -> None:
    upgraded = run_tiktimer(tmp_path, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "database: sqlite+aiosqlite:///data/tiktimer.db" in upgraded.stdout
    assert re.search(r"^upgraded: none -> \w+$", upgraded.stdout, re.MULTILINE), upgraded.stdout
    head = upgraded.stdout.rsplit(" -> ", 1)[1].strip()
    again = run_tiktimer(tmp_path, "db", "upgrade")
    assert f"nothing to do: the schema is at {head}" in again.stdout
    current = run_tiktimer(tmp_path, "db", "current")
    assert f"current: {head}  head: {head}  (up to date)" in current.stdout
    down = run_tiktimer(tmp_path, "db", "downgrade", "base")
    assert f"downgraded: {head} -> none" in down.stdout


def test_db_commands_mask_the_password(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql://tiktimer:hunter2-secret@127.0.0.1:{port}/tiktimer"
    result = run_tiktimer(
        tmp_path, "db", "current", env=clean_env(DATABASE_URL=url, TIKTIMER_DB_CONNECT_RETRIES="0")
    )
    assert result.returncode == 1
    assert f"database: postgresql+asyncpg://tiktimer:***@127.0.0.1:{port}/tiktimer" in result.stdout
    assert "error: cannot reach the database" in result.stderr
    assert "hunter2-secret" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
