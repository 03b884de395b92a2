"""Exactly once on the `fake` platform through SIGKILLs: `tiktimer worker` processes in
sandbox mode (where `fake` is registered) on PostgreSQL, killed mid-"upload" and restarted;
every post ends `published` with exactly one publication in the fake's shared ledger."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from tests.scheduler.stage import WorkerPool, fake_worker_pool, pid_of
from tests.scheduler.test_acceptance import beating, query, statuses, wait_until
from tiktimer.db.engine import create_engine
from tiktimer.kit.time import utc_now
from tiktimer.models import Post, PostAttempt, SocialAccount, User
from tiktimer.platforms.fake.ledger import Ledger, ledger_path

ACCOUNTS = 6
POSTS_PER_ACCOUNT = 10
WORKERS = 2

pytestmark = pytest.mark.slow


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[tuple[str, Path, WorkerPool]]:
    with fake_worker_pool(tmp_path, "tiktimer_fake_kill") as pool:
        yield pool


async def seed(url: str) -> list[int]:
    """One user, `fake` accounts (what its instant connect leaves), posts due now."""
    now = utc_now()
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            user_id = (
                await connection.execute(
                    insert(User)
                    .values(
                        username="faker",
                        email="faker@example.com",
                        hashed_password="-",
                        is_active=True,
                        is_superuser=False,
                        timezone="UTC",
                        token_version=0,
                    )
                    .returning(User.id)
                )
            ).scalar_one()
            accounts = [
                (
                    await connection.execute(
                        insert(SocialAccount)
                        .values(user_id=user_id, platform="fake", open_id=f"fake-{n}", scopes="")
                        .returning(SocialAccount.id)
                    )
                ).scalar_one()
                for n in range(ACCOUNTS)
            ]
            rows = [
                {
                    "user_id": user_id,
                    "social_account_id": account,
                    "content": f"post {account}/{k} fake:latency=0.4",
                    "scheduled_time": now + timedelta(seconds=2),
                    "status": "scheduled",
                }
                for account in accounts
                for k in range(POSTS_PER_ACCOUNT)
            ]
            result = await connection.execute(insert(Post).returning(Post.id), rows)
            return [int(post_id) for post_id in result.scalars()]
    finally:
        await engine.dispose()


def kill_an_uploader(url: str, workers: WorkerPool) -> bool:
    """SIGKILL a worker holding a post between its publish id and its publication."""
    rows = query(
        url,
        select(Post.claimed_by).where(
            Post.publish_stage == "uploading", Post.claimed_by.is_not(None)
        ),
    )
    for (worker_id,) in rows:
        slot = workers.slot_of_pid(pid_of(str(worker_id)))
        if slot is not None:
            workers.kill(slot)
            workers.start(slot)
            return True
    return False


def test_sigkilled_fake_workers_publish_each_post_exactly_once(
    pool: tuple[str, Path, WorkerPool],
) -> None:
    url, data_dir, workers = pool
    post_ids = asyncio.run(seed(url))
    for slot in range(WORKERS):
        workers.start(slot)

    wait_until(lambda: kill_an_uploader(url, workers), 60, "a worker caught mid-upload")
    time.sleep(1.0)
    wait_until(lambda: kill_an_uploader(url, workers), 60, "a second worker mid-upload")
    wait_until(lambda: statuses(url)["published"] == len(post_ids), 120, "every post published")
    wait_until(lambda: workers.live_pids() <= beating(url), 60, "workers beating")
    workers.stop_all()

    assert statuses(url) == Counter({"published": len(post_ids)})
    ledger = Ledger(ledger_path(data_dir)).publications()
    per_post = Counter(post for post, _ in ledger)
    assert sorted(per_post) == sorted(post_ids)
    assert [post for post, n in per_post.items() if n != 1] == []  # exactly once each
    published = dict(ledger)
    for post_id, publish_id in query(url, select(Post.id, Post.platform_publish_id)):
        assert published[int(post_id)] == publish_id  # type: ignore[call-overload]
    assert query(url, select(PostAttempt.id).where(PostAttempt.outcome == "running")) == []
    interrupted = query(url, select(PostAttempt.id).where(PostAttempt.outcome != "published"))
    assert interrupted  # the kills left attempts that were started over or checked
