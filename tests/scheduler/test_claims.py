"""The queue's SQL: batch claims without double claims, leases, guarded writes, release."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.scheduler.conftest import World, second_engine
from tiktimer.kit.time import utc_now
from tiktimer.posts.queue.leases import PostQueue
from tiktimer.posts.queue.records import Stage
from tiktimer.posts.transitions import UNSTARTED, hold

LEASE = timedelta(seconds=60)


async def many_due(world: World, count: int) -> list[int]:
    user_id = await world.user()
    account_id = await world.account(user_id)
    return [await world.post(user_id, account_id, None) for _ in range(count)]


async def _take_back(world: World, session: AsyncSession, post_id: int) -> bool:
    """What a user's edit or cancel does first: hold the post, taking back an unstarted claim."""
    owner = (await world.read(post_id)).user_id
    return await hold(session, post_id, (UNSTARTED,), owner=owner, now=utc_now()) is not None


async def drain(queue: PostQueue, worker: str, batch: int) -> list[int]:
    claimed: list[int] = []
    while claims := await queue.claim(worker, batch, utc_now(), LEASE):
        claimed.extend(claim.post_id for claim in claims)
        await asyncio.sleep(0)
    return claimed


async def test_concurrent_workers_never_claim_the_same_post(world: World, app: FastAPI) -> None:
    ids = await many_due(world, 120)
    async with second_engine(app) as other, second_engine(app) as third:
        queues = [world.queue, other, third, world.queue]
        results = await asyncio.gather(
            *(
                drain(queue, f"w{n}", batch)
                for n, (queue, batch) in enumerate(zip(queues, [7, 13, 25, 50], strict=True))
            )
        )
    claimed = [post_id for result in results for post_id in result]
    assert sorted(claimed) == sorted(ids)  # every post once, none twice
    post = await world.read(ids[0])
    assert post.status == "publishing"
    assert post.publish_stage == Stage.claimed


async def test_only_due_posts_are_claimed_in_time_order(world: World) -> None:
    user_id = await world.user()
    account_id = await world.account(user_id)
    now = utc_now()
    later = await world.post(user_id, account_id, None, at=now + timedelta(hours=1))
    second = await world.post(user_id, account_id, None, at=now - timedelta(seconds=5))
    first = await world.post(user_id, account_id, None, at=now - timedelta(seconds=10))
    backing_off = await world.post(
        user_id, account_id, None, at=now - timedelta(seconds=20), next_attempt_at=now + LEASE
    )
    await world.post(user_id, account_id, None, at=now - timedelta(seconds=30), status="draft")

    claims = await world.queue.claim("w", 10, utc_now(), LEASE)

    assert [claim.post_id for claim in claims] == [first, second]
    assert all(claim.fresh for claim in claims)
    due = await world.queue.next_due(utc_now())
    assert due is not None
    assert abs((due - (now + timedelta(hours=1))).total_seconds()) < 0.01
    assert later not in [c.post_id for c in claims]
    assert backing_off not in [c.post_id for c in claims]


async def test_expired_lease_is_claimed_again_with_what_was_left(world: World) -> None:
    [post_id] = await many_due(world, 1)
    [claim] = await world.queue.claim("dead", 1, utc_now(), -LEASE)
    assert claim.previous_worker is None

    [again] = await world.queue.claim("alive", 1, utc_now(), LEASE)

    assert again.post_id == post_id
    assert not again.fresh
    assert again.previous_worker == "dead"
    assert again.stage is Stage.claimed
    assert await world.queue.claim("third", 1, utc_now(), LEASE) == []


async def test_renewal_reports_what_the_worker_still_holds(world: World) -> None:
    ids = await many_due(world, 3)
    await world.queue.claim("w", 3, utc_now(), LEASE)
    async with world.app.state.services.sessionmaker() as session, session.begin():
        assert await _take_back(world, session, ids[0])

    held = await world.queue.renew("w", utc_now() + LEASE)

    assert held == set(ids[1:])
    assert (await world.read(ids[0])).status == "scheduled"


async def test_a_started_post_cannot_be_taken_back(world: World) -> None:
    [post_id] = await many_due(world, 1)
    [claim] = await world.queue.claim("w", 1, utc_now(), LEASE)
    assert await world.queue.steps.start_attempt(claim, "w", utc_now(), interrupted="-") is not None

    async with world.app.state.services.sessionmaker() as session, session.begin():
        assert not await _take_back(world, session, post_id)
    assert (await world.read(post_id)).publish_stage == Stage.initializing


async def test_release_requeues_unstarted_posts_and_leaves_uploads_to_recovery(
    world: World,
) -> None:
    unstarted, initializing, uploading = await many_due(world, 3)
    claims = {c.post_id: c for c in await world.queue.claim("w", 3, utc_now(), LEASE)}
    started = await world.queue.steps.start_attempt(
        claims[initializing], "w", utc_now(), interrupted="-"
    )
    assert started is not None
    upload = await world.queue.steps.start_attempt(
        claims[uploading], "w", utc_now(), interrupted="-"
    )
    assert upload is not None
    assert await world.queue.steps.store_publish_id(
        uploading, upload.attempt_id, "w", "pub-1", "log-1", utc_now()
    )

    requeued = await world.queue.release("w", [unstarted, initializing, uploading], utc_now())

    assert sorted(requeued) == sorted([unstarted, initializing])
    for post_id in requeued:
        post = await world.read(post_id)
        assert post.status == "scheduled"
        assert post.claimed_by is None
    [interrupted] = await world.attempts(initializing)
    assert interrupted.outcome == "interrupted"
    kept = await world.read(uploading)
    assert kept.status == "publishing"
    assert kept.platform_publish_id == "pub-1"
    assert kept.claimed_by is None
    assert kept.platform_log_ids == ["log-1"]
    again = {c.post_id: c for c in await world.queue.claim("next", 5, utc_now(), LEASE)}
    assert sorted(again) == sorted([unstarted, initializing, uploading])
    assert again[uploading].publish_id == "pub-1"
    assert not again[uploading].fresh
    assert again[unstarted].fresh
