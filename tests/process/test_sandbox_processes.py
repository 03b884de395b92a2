"""The sandbox across real processes on PostgreSQL: `tiktimer serve` on a port no worker
knows, two `tiktimer worker` processes, a creator connected through the real consent flow
over HTTP, posts published; then every process restarted and the account publishes on."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.fixtures.databases import create_pg_database, drop_pg_database
from tests.fixtures.server import clean_env, run_tiktimer, running_server
from tests.media_factory import MediaSamples
from tests.scheduler.stage import WorkerPool

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"


@pytest.fixture
def installation(tmp_path: Path) -> Iterator[dict[str, str]]:
    url = create_pg_database("tiktimer_sandbox")
    env = clean_env(
        DATABASE_URL=url,
        SECRET_KEY="sandbox-processes-secret-key-0123456789abcdef",
        TIKTIMER_DATA_DIR=str(tmp_path / "data"),
        TIKTIMER_TOKEN_KEYS=Fernet.generate_key().decode(),
        TIKTIMER_RUN_SCHEDULER="false",
        TIKTIMER_SCHEDULER_POLL_SECONDS="0.2",
        TIKTIMER_STATUS_POLL_FIRST_SECONDS="0.5",
        TIKTIMER_SCHEDULER_SHUTDOWN_GRACE_SECONDS="2",
        TIKTIMER_LOG_LEVEL="INFO",
    )
    try:
        upgrade = run_tiktimer(tmp_path, "db", "upgrade", env=env)
        assert upgrade.returncode == 0, upgrade.stderr
        yield env
    finally:
        drop_pg_database(url)


def sign_up(api: httpx.Client) -> dict[str, str]:
    body = {"username": "alice", "email": "alice@example.com", "password": PASSWORD}
    assert api.post("/register", json=body).status_code == 200
    return log_in(api)


def log_in(api: httpx.Client) -> dict[str, str]:
    tokens = api.post("/token", data={"username": "alice", "password": PASSWORD}).json()
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def connect_through_consent(browser: httpx.Client, headers: dict[str, str]) -> int:
    """What a person does: open the consent link, create a sandbox creator, allow."""
    started = browser.get("/api/v1/auth/tiktok/authorize", headers=headers)
    assert started.status_code == 200, started.text
    link = urlsplit(started.json()["authorization_url"])
    page = browser.get(f"{link.path}?{link.query}")
    assert page.status_code == 200, page.text
    form = {k: v[0] for k, v in parse_qs(link.query).items()}
    form |= {"decision": "allow", "new_creator": "Sandbox Star"}
    redirect = browser.post(link.path, data=form)
    assert redirect.status_code == 302, redirect.text
    back = urlsplit(redirect.headers["location"])
    callback = browser.get(f"{back.path}?{back.query}")
    assert callback.status_code == 200, callback.text
    [account] = browser.get("/api/v1/accounts", headers=headers).json()
    assert account["status"] == "active"
    return int(account["id"])


def schedule(
    api: httpx.Client, headers: dict[str, str], account: int, media: str, n: int
) -> list[int]:
    due = (datetime.now(UTC) + timedelta(seconds=3)).isoformat()
    ids = []
    for k in range(n):
        body = {
            "content": f"sandbox post {k} {time.time_ns()}",
            "scheduled_time": due,
            "social_account_id": account,
            "media_id": media,
        }
        response = api.post("/posts/", json=body, headers=headers)
        assert response.status_code == 201, response.text
        ids.append(int(response.json()["id"]))
    return ids


def wait_published(
    api: httpx.Client, headers: dict[str, str], ids: list[int]
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 90
    while True:
        posts = [api.get(f"/posts/{i}", headers=headers).json() for i in ids]
        if all(p["status"] == "published" for p in posts) or time.monotonic() > deadline:
            return posts
        time.sleep(0.5)


def test_serve_and_two_workers_share_one_sandbox_that_survives_restarts(
    tmp_path: Path, installation: dict[str, str]
) -> None:
    (tmp_path / "samples").mkdir()
    clip = MediaSamples(tmp_path / "samples")["h264_mp4"]
    workers = WorkerPool(tmp_path, installation, concurrency=4)
    workers.start(0)
    workers.start(1)
    try:
        with running_server(tmp_path, env=installation) as base:
            assert not base.endswith(":8000")  # the workers were told no port at all
            with httpx.Client(base_url=base, timeout=30) as browser:
                headers = sign_up(browser)
                account = connect_through_consent(browser, headers)
                with clip.open("rb") as f:
                    media = browser.post(
                        "/api/v1/media", files={"file": ("clip.mp4", f)}, headers=headers
                    )
                assert media.status_code == 201, media.text
                media_id = media.json()["id"]
                first = wait_published(
                    browser, headers, schedule(browser, headers, account, media_id, 3)
                )
                # The admin and fault-injection API is not part of the public app.
                for path in ("publications", "creators", "reset", "tokens"):
                    assert browser.get(f"/sandbox/tiktok/_emulator/{path}").status_code == 404
                    assert (
                        browser.post(f"/sandbox/tiktok/_emulator/{path}", json={}).status_code
                        == 404
                    )
        assert [p["status"] for p in first] == ["published"] * 3, first
        assert {p["platform_status"] for p in first} == {"PUBLISH_COMPLETE"}
        assert workers.stop_all() == [0, 0]

        # Every process restarted: nothing of the sandbox survives in any memory.
        workers.start(0)
        workers.start(1)
        with running_server(tmp_path, env=installation) as base:
            with httpx.Client(base_url=base, timeout=30) as api:
                headers = log_in(api)
                [still] = api.get("/api/v1/accounts", headers=headers).json()
                again = wait_published(api, headers, schedule(api, headers, account, media_id, 2))
                attempts = [
                    attempt
                    for post in first + again
                    for attempt in api.get(f"/posts/{post['id']}/attempts", headers=headers).json()
                ]
        assert still["status"] == "active"
        assert [p["status"] for p in again] == ["published"] * 2, again
        # Once each, by the workers (the API runs no dispatcher).
        assert len(attempts) == 5, attempts
        assert all(a["worker_id"] and "worker" not in str(a["error_code"]) for a in attempts)
    finally:
        workers.stop_all()
    logs = "".join((tmp_path / f"worker-{n}.log").read_text() for n in (0, 1))
    assert "sandbox.state role=worker" in logs
    assert "reconnect" not in logs.lower()


def test_a_worker_that_cannot_reach_the_sandbox_says_so_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "tiktimer-sandbox.db").mkdir(parents=True)  # SQLite cannot open a directory
    env = clean_env(SECRET_KEY="s" * 40, TIKTIMER_DATA_DIR=str(data))
    result = run_tiktimer(tmp_path, "worker", env=env)
    assert result.returncode == 1, result.stderr
    assert "error: the TikTok sandbox's state is unreachable" in result.stderr
    assert "tiktimer-sandbox.db" in result.stderr
