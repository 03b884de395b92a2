"""Exactly once through SIGKILLs, for recurring series and a queue: `tiktimer worker`
processes on PostgreSQL (sandbox mode, `fake` accounts) materialise the series themselves,
publish, and are killed mid-"upload" and restarted. Every occurrence exists once, and every
post is published once in the fake's ledger."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fake.test_worker_kill import kill_an_uploader
from tests.scheduler.stage import WorkerPool, fake_worker_pool
from tests.scheduler.test_acceptance import beating, query, statuses, wait_until
from tiktimer.auth.dependencies import Principal
from tiktimer.db.engine import create_engine, create_sessionmaker
from tiktimer.kit.time import utc_now
from tiktimer.models import Post, PostSeries, SeriesOccurrence, SocialAccount, User
from tiktimer.planning import queue as queues
from tiktimer.platforms.fake.ledger import Ledger, ledger_path
from tiktimer.posts.schemas import PostCreate
from tiktimer.posts.service import PostService

ACCOUNTS = 3
SERIES_PER_ACCOUNT = 4
OCCURRENCES = 2  # FREQ=HOURLY;COUNT=2: the second is an hour later, not published here
WORKERS = 2

pytestmark = pytest.mark.slow


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[tuple[str, Path, WorkerPool]]:
    with fake_worker_pool(
        tmp_path,
        "tiktimer_planning_kill",
        TIKTIMER_SERIES_INTERVAL_MINUTES="1",
        TIKTIMER_SERIES_HORIZON_DAYS="1",
    ) as pool:
        yield pool


async def seed(url: str) -> int:
    """Series nobody has materialised yet, due in about a minute, and one queued post per
    account in a slot a minute ahead; returns the user id."""
    engine = create_engine(url)
    now = utc_now()
    start = (now + timedelta(seconds=80)).astimezone(UTC).replace(microsecond=0, tzinfo=None)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            user = User(
                username="planner",
                email="planner@example.com",
                hashed_password="-",
                timezone="UTC",
            )
            session.add(user)
            await session.flush()
            principal = Principal(
                id=user.id, username="planner", is_superuser=False, timezone="UTC"
            )
            for n in range(ACCOUNTS):
                account = SocialAccount(user_id=user.id, platform="fake", open_id=f"f-{n}")
                session.add(account)
                await session.flush()
                for k in range(SERIES_PER_ACCOUNT):
                    session.add(_series(user.id, account.id, k, start))
                await _queue_one(session, principal, account.id, now)
            return int(user.id)
    finally:
        await engine.dispose()


def _series(user_id: int, account_id: int, k: int, start: datetime) -> PostSeries:
    content = f"series {account_id}/{k} fake:latency=0.4"
    template = {"content": content, "social_account_id": account_id}
    return PostSeries(
        user_id=user_id,
        rrule=f"FREQ=HOURLY;COUNT={OCCURRENCES}",
        dtstart=(start + timedelta(seconds=k)).isoformat(timespec="seconds"),
        timezone="UTC",
        status="active",
        template=template,
    )


async def _queue_one(
    session: AsyncSession, principal: Principal, account_id: int, now: datetime
) -> None:
    minute = (now + timedelta(minutes=2)).replace(second=0, microsecond=0)
    slot = (minute.weekday(), minute.hour * 60 + minute.minute)
    await queues.set_slots(session, principal, account_id, timezone=None, slots=[slot])
    posts = PostService()
    draft = await posts.create(
        session,
        principal.id,
        "UTC",
        PostCreate(
            content=f"queued {account_id} fake:latency=0.4",
            scheduled_time=now,
            draft=True,
            social_account_id=account_id,
        ),
    )
    await queues.add(session, posts, principal, account_id, draft["id"], head=False, now=now)


def test_series_and_queue_publish_exactly_once_through_sigkills(
    pool: tuple[str, Path, WorkerPool],
) -> None:
    url, data_dir, workers = pool
    asyncio.run(seed(url))
    for slot in range(WORKERS):
        workers.start(slot)
    series_count = ACCOUNTS * SERIES_PER_ACCOUNT
    due = series_count + ACCOUNTS  # each series' first occurrence, and the queued posts
    wait_until(lambda: kill_an_uploader(url, workers), 240, "a worker caught mid-upload")
    time.sleep(1.0)
    wait_until(lambda: kill_an_uploader(url, workers), 120, "a second worker mid-upload")
    wait_until(lambda: statuses(url)["published"] == due, 180, "every due post published")
    wait_until(lambda: workers.live_pids() <= beating(url), 60, "workers beating")
    workers.stop_all()

    occurrences = query(
        url, select(SeriesOccurrence.series_id, func.count()).group_by(SeriesOccurrence.series_id)
    )
    assert sorted(int(str(n)) for _, n in occurrences) == [OCCURRENCES] * series_count
    assert statuses(url) == Counter({"published": due, "scheduled": series_count})
    ledger = Ledger(ledger_path(data_dir)).publications()
    per_post = Counter(post for post, _ in ledger)
    assert len(per_post) == due
    assert [post for post, n in per_post.items() if n != 1] == []  # exactly once each
    linked = query(
        url,
        select(func.count())
        .select_from(SeriesOccurrence)
        .where(SeriesOccurrence.post_id.is_not(None)),
    )
    assert linked == [(series_count * OCCURRENCES,)]
    assert query(url, select(func.count()).select_from(Post)) == [
        (series_count * OCCURRENCES + ACCOUNTS,)
    ]
