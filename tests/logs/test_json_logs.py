"""`TIKTIMER_LOG_FORMAT=json`: the real `tiktimer serve` writes one JSON object per line.

Every line (ours, uvicorn's, alembic's) must parse; request lines carry their request id
and have their query-string secrets redacted; the dispatcher's lines carry its worker id;
and start-up disposes no connection pool (it used to log "Pool disposed" and "Pool
recreating" for each throwaway check engine).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.databases import create_pg_database, drop_pg_database
from tests.fixtures.server import clean_env, free_port, running_server

pytestmark = pytest.mark.slow
SECRET_CODE = "SECRET-OAUTH-CODE-4711"
POOL_NOISE = ("Pool disposed", "Pool recreating")
# `tiktimer serve` with SQLAlchemy's pool logger turned up to INFO: a start-up that
# disposes a pool then shows it, whatever the root logger's level.
LOUD_POOL = (
    "import logging, sys; logging.getLogger('sqlalchemy.pool').setLevel('INFO'); "
    "from tiktimer.cli import main; sys.argv[0] = 'tiktimer'; main()"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {"TIKTIMER_DATA_DIR": str(tmp_path / "data"), "TIKTIMER_LOG_FORMAT": "json"}
    if request.param == "sqlite":
        yield clean_env(**env)
        return
    url = create_pg_database("tiktimer_logs")
    try:
        yield clean_env(**env, DATABASE_URL=url, SECRET_KEY="s" * 40)
    finally:
        drop_pg_database(url)


def _json_lines(text: str) -> list[dict[str, object]]:
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines, "no log output"
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON line: {line!r}")
    return parsed


def test_serve_logs_json_lines_with_ids_and_no_secrets(
    tmp_path: Path, database_env: dict[str, str]
) -> None:
    # On PostgreSQL with two uvicorn worker processes: each child configures its own logs.
    processes = ["--workers", "2"] if "DATABASE_URL" in database_env else []
    with running_server(tmp_path, "--migrate", *processes, env=database_env) as base:
        callback = f"{base}/api/v1/auth/tiktok/callback?code={SECRET_CODE}&state=abc"
        httpx.get(callback, headers={"X-Request-ID": "req-json-1"})
        httpx.get(f"{base}/health", headers={"X-Request-ID": "req-json-2"})
    text = (tmp_path / "server.log").read_text()
    records = _json_lines(text)
    for record in records:
        assert {"time", "level", "logger", "message"} <= record.keys(), record
        assert str(record["time"]).endswith("Z")
    assert SECRET_CODE not in text
    access = [r for r in records if r["logger"] == "uvicorn.access"]
    callback_line = next(r for r in access if "/tiktok/callback" in str(r["message"]))
    assert "code=[redacted]" in str(callback_line["message"])
    assert callback_line["request_id"] == "req-json-1"
    assert any(r.get("request_id") == "req-json-2" for r in access)
    started = next(r for r in records if str(r["message"]).startswith("scheduler.started"))
    assert started["worker_id"] in str(started["message"])
    assert not [r for r in records if any(n in str(r["message"]) for n in POOL_NOISE)]


def test_start_up_disposes_no_pool_even_when_sqlalchemy_would_say_so(
    tmp_path: Path, database_env: dict[str, str]
) -> None:
    port = free_port()
    log_path = tmp_path / "loud.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", LOUD_POOL, "serve", "--migrate", "--port", str(port)],
            cwd=tmp_path,
            env=database_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for_line(log_path, process, "Application startup complete")
        finally:
            process.terminate()
            process.wait(timeout=15)
    records = _json_lines(log_path.read_text())
    start_up = []
    for record in records:
        start_up.append(record)
        if record["message"] == "Application startup complete.":
            break
    assert [r for r in start_up if any(n in str(r["message"]) for n in POOL_NOISE)] == []
    # The probe is live: the same logger does report the disposals of shutdown.
    assert any("Pool disposed" in str(r["message"]) for r in records)


def _wait_for_line(path: Path, process: subprocess.Popen[bytes], needle: str) -> None:
    import time

    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if needle in path.read_text():
            return
        if process.poll() is not None:
            pytest.fail(f"serve exited early:\n{path.read_text()}")
        time.sleep(0.1)
    pytest.fail(f"no {needle!r} after 40 s:\n{path.read_text()}")


def test_a_start_on_an_up_to_date_schema_logs_no_migration_lines(
    tmp_path: Path, database_env: dict[str, str]
) -> None:
    with running_server(tmp_path, "--migrate", env=database_env):
        pass
    with running_server(tmp_path, "--migrate", env=database_env):
        pass
    records = _json_lines((tmp_path / "server.log").read_text())
    assert [r["message"] for r in records if str(r["logger"]).startswith("alembic")] == []
    assert records[0]["message"].startswith("Started server process")
