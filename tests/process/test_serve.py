"""The real `tiktimer serve` process, over a real socket, exactly as the README shows it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.fixtures.databases import create_pg_database, drop_pg_database
from tests.fixtures.server import clean_env, run_tiktimer, running_server

README = Path(__file__).resolve().parents[2] / "README.md"
pytestmark = pytest.mark.slow


def walkthrough_script() -> str:
    text = README.read_text()
    block = re.search(
        r"<!-- walkthrough:start -->\s*```sh\n(.*?)```\s*<!-- walkthrough:end -->", text, re.S
    )
    assert block, "README lost its walkthrough block"
    return block.group(1)


def test_readme_walkthrough_against_zero_config_server(tmp_path: Path) -> None:
    """A fresh directory, no settings: the README's curl flow works as documented."""
    with running_server(tmp_path) as base:
        script = walkthrough_script().replace("http://127.0.0.1:8000", base)
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
        assert '"status":"ok"' in result.stdout.replace(" ", "")
        assert "New caption" in result.stdout
        assert (tmp_path / "data" / "tiktimer.db").exists()
        assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o777 == 0o600
        # The walkthrough deleted its post: the list is empty again.
        token = httpx.post(
            f"{base}/token", data={"username": "alice", "password": "correct horse battery"}
        ).json()["access_token"]
        posts = httpx.get(f"{base}/posts/", headers={"Authorization": f"Bearer {token}"})
        assert posts.json() == []


def test_serve_refuses_sample_secret(tmp_path: Path) -> None:
    env = clean_env(SECRET_KEY="your-secret-key-needs-to-be-updated")
    result = run_tiktimer(tmp_path, "serve", env=env)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [
        "error: Invalid setting SECRET_KEY: is a published sample value; "
        "generate one with `openssl rand -hex 32`"
    ]


def test_serve_on_postgresql_needs_upgrade_then_runs_with_workers(tmp_path: Path) -> None:
    url = create_pg_database("tiktimer_serve")
    try:
        env = clean_env(DATABASE_URL=url, SECRET_KEY="s" * 40, TIKTIMER_DATA_DIR=str(tmp_path))
        refused = run_tiktimer(tmp_path, "serve", env=env)
        assert refused.returncode == 1
        assert "run `tiktimer db upgrade` first" in refused.stderr
        upgrade = run_tiktimer(tmp_path, "db", "upgrade", env=env)
        assert upgrade.returncode == 0, upgrade.stderr
        with running_server(tmp_path, "--workers", "2", env=env) as base:
            health = httpx.get(f"{base}/health").json()
            assert health["database"]["backend"] == "postgresql"
    finally:
        drop_pg_database(url)


def test_unreachable_database_retries_then_fails_clearly(tmp_path: Path) -> None:
    env = clean_env(
        DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:1/nothing",
        SECRET_KEY="s" * 40,
        TIKTIMER_DB_CONNECT_RETRIES="2",
        TIKTIMER_DATA_DIR=str(tmp_path),
    )
    result = run_tiktimer(tmp_path, "serve", env=env)
    assert result.returncode == 1
    assert result.stderr.count("db.connect.retry") == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: database postgresql+asyncpg://postgres@127.0.0.1:1/nothing")
    assert "unreachable after 3 attempts" in last
