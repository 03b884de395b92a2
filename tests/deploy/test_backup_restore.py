"""Backup and restore on PostgreSQL with the exact commands of docs/deployment.md.

One installation gets a user, a sandbox creator connected through the consent flow, a
video and two scheduled posts; the guide's backup block dumps its database and copies its
media; the installation is then destroyed (database dropped, data directory deleted); the
guide's restore block brings both back into a fresh database and data directory; `tiktimer
serve` and a `tiktimer worker` on the restored setup publish both posts through the
built-in TikTok sandbox, whose state (the creator, its tokens) came back with the dump."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.deploy.files import ROOT
from tests.fixtures.databases import create_pg_database, drop_pg_database
from tests.fixtures.server import clean_env, run_tiktimer, running_server
from tests.media_factory import MediaSamples
from tests.process.test_sandbox_processes import (
    connect_through_consent,
    log_in,
    sign_up,
    wait_published,
)
from tests.scheduler.stage import WorkerPool

pytestmark = pytest.mark.slow

GUIDE = ROOT / "docs" / "deployment.md"


def guide_block(name: str) -> str:
    """The shell block between `<!-- name:start -->` and `<!-- name:end -->` in the guide."""
    match = re.search(
        rf"<!-- {name}:start -->\s*```sh\n(.*?)```\s*<!-- {name}:end -->", GUIDE.read_text(), re.S
    )
    assert match, f"docs/deployment.md has no {name} block"
    return match.group(1)


def run_block(name: str, env: dict[str, str], cwd: Path) -> None:
    """Run a guide block as an operator's shell would, `tiktimer` on the PATH."""
    path = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", os.defpath)])
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", guide_block(name)],
        cwd=cwd,
        env={**env, "PATH": path},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{name} block failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture
def pg_tools() -> None:
    missing = [tool for tool in ("pg_dump", "pg_restore") if shutil.which(tool) is None]
    if missing and os.environ.get("CI"):
        pytest.fail(f"{', '.join(missing)} missing (CI needs PostgreSQL's client tools)")
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed")


@pytest.fixture
def databases() -> Iterator[list[str]]:
    created: list[str] = []
    try:
        yield created
    finally:
        for url in created:
            drop_pg_database(url)


def installation(url: str, data_dir: Path, keys: dict[str, str]) -> dict[str, str]:
    return clean_env(
        DATABASE_URL=url,
        TIKTIMER_DATA_DIR=str(data_dir),
        TIKTIMER_RUN_SCHEDULER="false",
        TIKTIMER_SCHEDULER_POLL_SECONDS="0.2",
        TIKTIMER_STATUS_POLL_FIRST_SECONDS="0.5",
        TIKTIMER_SCHEDULER_SHUTDOWN_GRACE_SECONDS="2",
        **keys,
    )


def schedule_later(api: httpx.Client, headers: dict[str, str], account: int, media: str) -> int:
    body = {
        "content": f"restored post {datetime.now(UTC).timestamp()}",
        "scheduled_time": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
        "social_account_id": account,
        "media_id": media,
    }
    response = api.post("/posts/", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.mark.usefixtures("pg_tools")
def test_a_restored_dump_and_media_copy_publish_their_posts(
    tmp_path: Path, databases: list[str]
) -> None:
    # The keys live with the operator's secrets, not in the backup (docs/deployment.md).
    keys = {
        "SECRET_KEY": "backup-restore-test-secret-key-0123456789abcdef",
        "TIKTIMER_TOKEN_KEYS": Fernet.generate_key().decode(),
    }
    (tmp_path / "samples").mkdir()
    clip = MediaSamples(tmp_path / "samples")["h264_mp4"]
    backup_dir = tmp_path / "backup"

    # 1. The original installation, with posts due in two days.
    original_url = create_pg_database("tiktimer_backup")
    databases.append(original_url)
    original = tmp_path / "original"
    original.mkdir()
    env = installation(original_url, original / "data", keys)
    upgrade = run_tiktimer(original, "db", "upgrade", env=env)
    assert upgrade.returncode == 0, upgrade.stderr
    with running_server(original, env=env) as base, httpx.Client(base_url=base, timeout=30) as api:
        headers = sign_up(api)
        account = connect_through_consent(api, headers)
        with clip.open("rb") as f:
            media = api.post("/api/v1/media", files={"file": ("clip.mp4", f)}, headers=headers)
        assert media.status_code == 201, media.text
        media_id = media.json()["id"]
        posts = [schedule_later(api, headers, account, media_id) for _ in range(2)]
    assert list((original / "data" / "media").rglob("*")), "no media stored locally"

    # 2. The guide's backup, then the original is gone.
    run_block("backup", {**env, "BACKUP_DIR": str(backup_dir)}, original)
    assert sorted(p.name for p in backup_dir.iterdir()) == ["media.tar.gz", "tiktimer.dump"]
    drop_pg_database(original_url)
    shutil.rmtree(original)

    # 3. The guide's restore into a fresh database and data directory.
    restored_url = create_pg_database("tiktimer_restore")
    databases.append(restored_url)
    restored = tmp_path / "restored"
    restored.mkdir()
    env = installation(restored_url, restored / "data", keys)
    run_block("restore", {**env, "BACKUP_DIR": str(backup_dir)}, restored)

    # 4. The restored installation publishes the posts through the sandbox.
    workers = WorkerPool(restored, env, concurrency=2)
    workers.start(0)
    try:
        with (
            running_server(restored, env=env) as base,
            httpx.Client(base_url=base, timeout=30) as api,
        ):
            headers = log_in(api)  # the user and password hash came back
            [connected] = api.get("/api/v1/accounts", headers=headers).json()
            assert connected["status"] == "active"
            assert connected["token_health"] == "ok"
            before = [api.get(f"/posts/{i}", headers=headers).json() for i in posts]
            assert [p["status"] for p in before] == ["scheduled", "scheduled"]
            for post in posts:
                now = api.post(f"/api/v1/tiktok/posts/{post}/publish", headers=headers)
                assert now.status_code == 202, now.text
            published = wait_published(api, headers, posts)
    finally:
        assert workers.stop_all() == [0]
    assert [p["status"] for p in published] == ["published", "published"], published
    assert {p["platform_status"] for p in published} == {"PUBLISH_COMPLETE"}
