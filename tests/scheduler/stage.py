"""A stage for scheduler runs across processes: the TikTok emulator as its own process,
`tiktimer worker` processes, and accounts + posts seeded straight into the database.

Used by the multi-process acceptance test and by `bench/dispatch.py`. Accounts are what
TikTok's consent would leave: the emulator's admin API issues a token pair per creator
(`POST /_emulator/tokens`), stored encrypted with the workers' TIKTIMER_TOKEN_KEYS.
"""

from __future__ import annotations

import asyncio
import hashlib
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from tests.fixtures.server import clean_env, free_port, tiktimer_command
from tiktimer.db.engine import create_engine
from tiktimer.kit.crypto import TokenCipher
from tiktimer.kit.time import utc_now
from tiktimer.models import Media, Post, PostMedia, SocialAccount, User
from tiktimer.storage import LocalStorage, media_key

CLIENT_KEY = "awstageclient"
CLIENT_SECRET = "stage-client-secret-0123456789"
REDIRECT_URI = "https://tiktimer.example.com/api/v1/auth/tiktok/callback"
SECRET_KEY = "stage-secret-key-0123456789abcdef0123456789"
VIDEO_BYTES = 200_000


class EmulatorProcess:
    def __init__(self, base: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.base = base
        self.process = process
        self.log = log
        self.admin = httpx.Client(base_url=f"{base}/_emulator", timeout=30)

    def register_client(self) -> None:
        client = {
            "client_key": CLIENT_KEY,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [REDIRECT_URI],
            "audited": True,
            "check_registration_rules": False,
        }
        self._ok(self.admin.post("/clients", json=client))

    def creator(self, username: str) -> dict[str, Any]:
        self._ok(self.admin.post("/creators", json={"username": username}))
        tokens: dict[str, Any] = self._ok(
            self.admin.post("/tokens", json={"client_key": CLIENT_KEY, "username": username})
        )
        return tokens

    def add_fault(self, **fault: Any) -> None:
        self._ok(self.admin.post("/faults", json=fault))

    def clear_faults(self) -> None:
        self._ok(self.admin.delete("/faults"))

    def publications(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._ok(self.admin.get("/publications"))
        return result

    def requests(self, endpoint: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._ok(
            self.admin.get("/requests", params={"endpoint": endpoint})
        )
        return result

    @staticmethod
    def _ok(response: httpx.Response) -> Any:
        assert response.status_code < 300, response.text
        return response.json()


@contextmanager
def emulator_process(
    workdir: Path, command: Sequence[str] | None = None
) -> Iterator[EmulatorProcess]:
    """`tiktimer emulator --port P` (or `command` + `--port P`), ready to answer."""
    port = free_port()
    log = workdir / "emulator.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*(command or [*tiktimer_command(), "emulator"]), "--port", str(port)],
            cwd=workdir,
            env=clean_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        emulator = EmulatorProcess(f"http://127.0.0.1:{port}", process, log)
        try:
            _wait_for(f"{emulator.base}/_emulator/clients", process, log)
            emulator.register_client()
            yield emulator
        finally:
            emulator.admin.close()
            _stop(process)


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited early:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"not ready after {timeout}s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes], timeout: float = 30, *, signal_it: bool = True) -> int:
    if process.poll() is None:
        if signal_it:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


@dataclass
class Seeded:
    post_ids: list[int]
    captions: dict[int, str]
    scheduled: dict[int, datetime]
    accounts: int


async def seed(
    database_url: str,
    data_dir: Path,
    token_keys: str,
    emulator: EmulatorProcess,
    *,
    accounts: int,
    posts_per_account: int,
    due_at: datetime,
    prefix: str = "stage",
) -> Seeded:
    """One user, one video, `accounts` connected creators with their posts due at `due_at`."""
    cipher = TokenCipher([key.strip() for key in token_keys.split(",")])
    now = utc_now()
    issued = await asyncio.gather(
        *(asyncio.to_thread(emulator.creator, f"{prefix}_{n:05d}"[-24:]) for n in range(accounts))
    )
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            user_id = (
                await connection.execute(
                    insert(User)
                    .values(
                        username=f"{prefix}-owner",
                        email=f"{prefix}@example.com",
                        hashed_password="-",
                        is_active=True,
                        is_superuser=False,
                        timezone="UTC",
                        token_version=0,
                        created_at=now,
                        updated_at=now,
                    )
                    .returning(User.id)
                )
            ).scalar_one()
            media_id = _video_file(data_dir, user_id)
            await connection.execute(
                insert(Media).values(**_media_row(media_id, user_id, data_dir))
            )
            account_rows = [
                _account_row(user_id, tokens, cipher, now, f"{prefix}_{n:05d}")
                for n, tokens in enumerate(issued)
            ]
            account_ids = (
                (
                    await connection.execute(
                        insert(SocialAccount).returning(
                            SocialAccount.id, sort_by_parameter_order=True
                        ),
                        account_rows,
                    )
                )
                .scalars()
                .all()
            )
            post_rows = [
                _post_row(user_id, account_id, due_at, f"{prefix} post {account_id}/{k}", now)
                for account_id in account_ids
                for k in range(posts_per_account)
            ]
            posts = (
                await connection.execute(
                    insert(Post).returning(
                        Post.id, Post.content, Post.scheduled_time, sort_by_parameter_order=True
                    ),
                    post_rows,
                )
            ).all()
            await connection.execute(
                insert(PostMedia),
                [{"post_id": row.id, "position": 0, "media_id": media_id} for row in posts],
            )
    finally:
        await engine.dispose()
    return Seeded(
        post_ids=[row.id for row in posts],
        captions={row.id: row.content for row in posts},
        scheduled={row.id: row.scheduled_time for row in posts},
        accounts=accounts,
    )


_MEDIA: dict[str, Any] = {}


def _video_file(data_dir: Path, user_id: int) -> str:
    media_id = str(uuid.uuid4())
    key = media_key(user_id, media_id, utc_now(), ".mp4")
    path = LocalStorage(data_dir / "media").local_path(key)
    assert path is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (media_id.encode() * (VIDEO_BYTES // 36 + 1))[:VIDEO_BYTES]
    path.write_bytes(data)
    _MEDIA[media_id] = (key, hashlib.sha256(data).hexdigest())
    return media_id


def _media_row(media_id: str, user_id: int, data_dir: Path) -> dict[str, Any]:
    key, sha256 = _MEDIA[media_id]
    return {
        "id": media_id,
        "user_id": user_id,
        "storage_key": key,
        "size": VIDEO_BYTES,
        "sha256": sha256,
        "content_type": "video/mp4",
        "kind": "video",
        "original_filename": "stage.mp4",
        "probe": {"container": "mp4", "duration_sec": 5.0, "width": 1080, "height": 1920},
        "verdict": {"ok": True, "reasons": []},
        "status": "ready",
        "created_at": utc_now(),
    }


def _account_row(
    user_id: int, tokens: dict[str, Any], cipher: TokenCipher, now: datetime, name: str
) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "platform": "tiktok",
        "open_id": tokens["open_id"],
        "display_name": name,
        "username": name,
        "access_token_encrypted": cipher.encrypt(tokens["access_token"]),
        "refresh_token_encrypted": cipher.encrypt(tokens["refresh_token"]),
        "access_token_expires_at": now + timedelta(seconds=tokens["expires_in"]),
        "refresh_token_expires_at": now + timedelta(seconds=tokens["refresh_expires_in"]),
        "scopes": tokens["scope"],
        "status": "active",
        "is_sandbox": False,
        "created_at": now,
        "updated_at": now,
    }


def _post_row(
    user_id: int, account_id: int, due_at: datetime, caption: str, now: datetime
) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "social_account_id": account_id,
        "platform": "tiktok",
        "content": caption,
        "scheduled_time": due_at,
        "status": "scheduled",
        "post_mode": "direct",
        "media_type": "video",
        "privacy_level": "PUBLIC_TO_EVERYONE",
        "allow_comment": True,
        "allow_duet": True,
        "allow_stitch": True,
        "brand_organic_toggle": False,
        "brand_content_toggle": False,
        "is_aigc": False,
        "auto_add_music": False,
        "attempt_count": 0,
        "platform_post_ids": [],
        "platform_log_ids": [],
        "validation": {},
        "created_at": now,
        "updated_at": now,
    }


@dataclass
class WorkerPool:
    """`tiktimer worker` processes that can be killed and restarted."""

    workdir: Path
    env: dict[str, str]
    concurrency: int
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    starts: int = 0
    command: Sequence[str] | None = None  # what runs `tiktimer` (a benchmark's probe)

    def start(self, slot: int) -> subprocess.Popen[bytes]:
        self.starts += 1
        log = (self.workdir / f"worker-{slot}.log").open("ab")
        command = self.command or tiktimer_command()
        process = subprocess.Popen(
            [*command, "worker", "--concurrency", str(self.concurrency)],
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.processes[slot] = process
        return process

    def kill(self, slot: int) -> None:
        process = self.processes[slot]
        process.send_signal(signal.SIGKILL)
        process.wait()

    def slot_of_pid(self, pid: int) -> int | None:
        for slot, process in self.processes.items():
            if process.pid == pid and process.poll() is None:
                return slot
        return None

    def live_pids(self) -> set[int]:
        return {p.pid for p in self.processes.values() if p.poll() is None}

    def stop_all(self) -> list[int]:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        # Signalled once each, together; a second SIGTERM is not part of the test.
        return [_stop(p, timeout=60, signal_it=False) for p in self.processes.values()]


def worker_env(
    database_url: str,
    data_dir: Path,
    token_keys: str,
    emulator: EmulatorProcess,
    **settings: str,
) -> dict[str, str]:
    env = clean_env(
        DATABASE_URL=database_url,
        SECRET_KEY=SECRET_KEY,
        TIKTIMER_DATA_DIR=str(data_dir),
        TIKTIMER_TOKEN_KEYS=token_keys,
        TIKTIMER_SANDBOX="false",
        TIKTOK_CLIENT_KEY=CLIENT_KEY,
        TIKTOK_CLIENT_SECRET=CLIENT_SECRET,
        TIKTOK_REDIRECT_URI=REDIRECT_URI,
        TIKTOK_API_BASE=emulator.base,
        TIKTIMER_MEDIA_PUBLIC_URL="https://media.tiktimer.example.com",
        TIKTIMER_LOG_LEVEL="INFO",
    )
    env.update(settings)
    return env


def pid_of(worker_id: str) -> int:
    """Worker ids are `host:pid:random`."""
    return int(worker_id.split(":")[-2])


@contextmanager
def fake_worker_pool(
    tmp_path: Path, database_prefix: str, **settings: str
) -> Iterator[tuple[str, Path, WorkerPool]]:
    """A scratch PostgreSQL database and sandbox-mode `tiktimer worker`s (where the `fake`
    platform is registered), with short leases for SIGKILL tests; `settings` add to them."""
    from cryptography.fernet import Fernet

    from tests.fixtures.databases import create_pg_database, drop_pg_database
    from tiktimer.db import migrate

    url = create_pg_database(database_prefix)
    try:
        migrate.upgrade(url)
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        env = clean_env(
            DATABASE_URL=url,
            SECRET_KEY=SECRET_KEY,
            TIKTIMER_DATA_DIR=str(data_dir),
            TIKTIMER_TOKEN_KEYS=Fernet.generate_key().decode(),
            TIKTIMER_SANDBOX="true",
            TIKTIMER_SCHEDULER_LEASE_SECONDS="6",
            TIKTIMER_SCHEDULER_POLL_SECONDS="0.3",
            TIKTIMER_PUBLISH_RETRY_BASE_SECONDS="0.5",
            TIKTIMER_LOG_LEVEL="INFO",
            **settings,
        )
        workers = WorkerPool(tmp_path, env, concurrency=10)
        try:
            yield url, data_dir, workers
        finally:
            workers.stop_all()
    finally:
        drop_pg_database(url)
