"""Per-account pacing shared by every worker: limits respected before TikTok has to refuse."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.fixtures.tcp_proxy import TcpProxy
from tests.scheduler.conftest import (
    LIMITS,
    PACER_WINDOW,
    WINDOW,
    Workers,
    World,
    db_pacer,
    second_engine,
    settled,
)
from tiktimer.kit.time import ensure_utc
from tiktimer.posts.pacing.db_backend import DbPacer, hits
from tiktimer.posts.pacing.redis_backend import RedisPacer, redis_client
from tiktimer.posts.pacing.window import RateLimits

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


async def test_window_grants_the_limit_then_says_how_long_to_wait(world: World) -> None:
    pacer = db_pacer(world.queue, 60, init=3)

    waits = [await pacer.try_acquire(7, "init") for _ in range(4)]

    assert waits[:3] == [0.0, 0.0, 0.0]
    assert 59 < waits[3] <= 60
    assert await pacer.try_acquire(8, "init") == 0.0  # another account has its own window
    assert await pacer.try_acquire(7, "status") == 0.0  # another bucket too
    assert await pacer.try_acquire(7, "user_info") == 0.0  # no limit configured


async def test_workers_share_one_window_through_the_database(world: World, app: FastAPI) -> None:
    async with second_engine(app) as other:
        pacers = [db_pacer(world.queue, 60, init=5), db_pacer(other, 60, init=5)]
        waits = await asyncio.gather(*(pacers[n % 2].try_acquire(1, "init") for n in range(12)))
    assert sum(1 for wait in waits if wait == 0) == 5


async def test_slots_of_several_buckets_are_granted_together_or_not_at_all(
    world: World,
) -> None:
    pacer = db_pacer(world.queue, 60, init=2, creator_info=1)
    pace = pacer.transactional(5, "init", "creator_info")
    assert pace is not None

    async with world.queue.transaction() as connection:
        wait, refs = await pace(connection)
    assert wait == 0.0
    assert refs is not None
    assert set(refs) == {"init", "creator_info"}
    async with world.queue.transaction() as connection:
        wait, refs = await pace(connection)
    assert refs is None
    assert 59 < wait <= 60  # creator_info's window is full
    assert await pacer.try_acquire(5, "init") == 0.0  # the refused grant took no init slot
    assert await pacer.try_acquire(5, "init") > 0


async def test_a_slot_granted_ahead_is_stamped_for_its_call_and_counted_at_once(
    world: World,
) -> None:
    """The first status check's slot comes with the attempt, stamped for when the check is
    planned: the window holds it from the grant on, and using it then needs no re-stamp."""
    pacer = db_pacer(world.queue, 60, init=2, status=1)
    pace = pacer.transactional(6, "init", "status", ahead={"status": 2.0})
    assert pace is not None
    async with world.queue.transaction() as connection:
        wait, refs = await pace(connection)
    assert wait == 0.0
    assert refs is not None
    async with world.queue.transaction() as connection:
        stamps = dict(
            (
                await connection.execute(
                    select(hits.c.id, hits.c.at).where(
                        hits.c.id.in_([int(refs["init"]), int(refs["status"])])
                    )
                )
            ).all()
        )
    ahead = ensure_utc(stamps[int(refs["status"])]) - ensure_utc(stamps[int(refs["init"])])
    assert timedelta(seconds=1.9) <= ahead <= timedelta(seconds=2.1)
    assert await pacer.try_acquire(6, "status") > 0  # already counted, before its time
    slot = pacer.slot(6, "status", refs["status"], ahead=2.0)
    assert slot.taken_at - asyncio.get_running_loop().time() > 1.5


async def test_a_prepaid_slot_is_not_taken_twice(world: World) -> None:
    pacer = db_pacer(world.queue, 60, init=2)
    wait, slot = await pacer.reserve(3, "init")
    assert wait == 0.0
    with pacer.prepaid(slot):
        await pacer.acquire(3, "init")  # uses (and re-stamps) the slot taken above
    assert await pacer.try_acquire(3, "init") == 0.0  # so one is still free
    assert await pacer.try_acquire(3, "init") > 0


async def test_old_hits_are_pruned(world: World) -> None:
    pacer = db_pacer(world.queue, 0.2, init=1)
    assert await pacer.try_acquire(4, "init") == 0.0
    await asyncio.sleep(0.25)
    assert await pacer.try_acquire(4, "init") == 0.0  # the old hit aged out (and is deleted)
    await pacer.prune(pacer_now() + timedelta(seconds=1))
    assert await pacer.try_acquire(4, "init") == 0.0


def pacer_now():  # type: ignore[no-untyped-def]
    from tiktimer.kit.time import utc_now

    return utc_now()


@pytest.mark.skipif(not redis_reachable(), reason="no Redis at 127.0.0.1:6379")
async def test_redis_window_is_shared_and_exact(world: World) -> None:
    limits = RateLimits(window_seconds=60, per_bucket={"init": 3})
    fallback = DbPacer(world.queue, limits)
    first = RedisPacer(redis_client(REDIS_URL), limits, fallback)
    second = RedisPacer(redis_client(REDIS_URL), limits, fallback)
    account = fresh_account()
    try:
        waits = [await (first if n % 2 else second).try_acquire(account, "init") for n in range(5)]
    finally:
        await first.aclose()
        await second.aclose()
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert all(59 < wait <= 60 for wait in waits[3:])


async def test_unreachable_redis_falls_back_to_the_database(world: World) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    limits = RateLimits(window_seconds=60, per_bucket={"init": 1})
    pacer = RedisPacer(
        redis_client(f"redis://127.0.0.1:{port}"), limits, DbPacer(world.queue, limits)
    )
    _, slot = await pacer.reserve(9, "init")
    assert slot is not None
    assert slot.ref.startswith("db:")
    assert await pacer.try_acquire(9, "init") > 0
    await pacer.aclose()


@pytest.fixture
async def redis_proxy() -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy("127.0.0.1", 6379)
    await proxy.start()
    yield proxy
    await proxy.stop()


@pytest.mark.skipif(not redis_reachable(), reason="no Redis at 127.0.0.1:6379")
async def test_a_stalled_redis_falls_back_quickly_and_is_used_again(
    world: World, redis_proxy: TcpProxy
) -> None:
    limits = RateLimits(window_seconds=60, per_bucket={"init": 5})
    url = f"redis://127.0.0.1:{redis_proxy.port}/0"
    pacer = RedisPacer(redis_client(url), limits, DbPacer(world.queue, limits))
    account = fresh_account()
    try:
        assert not (await taken_ref(pacer, account)).startswith("db:")

        redis_proxy.mode = "stall"
        redis_proxy.drop_connections()
        assert (await taken_ref(pacer, account)).startswith("db:")  # the cut connection
        started = asyncio.get_running_loop().time()
        assert (await taken_ref(pacer, account)).startswith("db:")  # a new one, never answered
        assert 1.5 < asyncio.get_running_loop().time() - started < 5  # the timeout, not a hang

        redis_proxy.mode = "forward"
        assert not (await taken_ref(pacer, account)).startswith("db:")  # reconnected
    finally:
        await pacer.aclose()


@pytest.mark.skipif(not redis_reachable(), reason="no Redis at 127.0.0.1:6379")
async def test_redis_reloads_its_scripts_and_restamps_prepaid_slots(world: World) -> None:
    """After a Redis restart (script cache empty) the scripts load again, and a prepaid
    slot is re-stamped in place rather than taken twice."""
    limits = RateLimits(window_seconds=60, per_bucket={"init": 2})
    client = redis_client(REDIS_URL)
    pacer = RedisPacer(client, limits, DbPacer(world.queue, limits))
    account = fresh_account()
    try:
        wait, slot = await pacer.reserve(account, "init")
        assert wait == 0.0
        assert slot is not None
        await client.script_flush()
        with pacer.prepaid(slot):
            await pacer.acquire(account, "init")  # re-stamps the slot through Redis
        assert not (await taken_ref(pacer, account)).startswith("db:")
        assert await pacer.try_acquire(account, "init") > 0
    finally:
        await pacer.aclose()


def fresh_account() -> int:
    """An account id whose Redis keys no earlier run used."""
    return int(pacer_now().timestamp() * 1_000_000)


async def taken_ref(pacer: RedisPacer, account_id: int) -> str:
    """The ref of a slot taken now: a sorted-set member, or `db:<row id>` when Redis failed."""
    wait, slot = await pacer.reserve(account_id, "init")
    assert wait == 0.0
    assert slot is not None
    return slot.ref


@pytest.mark.slow
async def test_many_posts_for_one_account_all_go_out_paced(
    world: World, workers: Workers, app: FastAPI
) -> None:
    """Eight posts due at once for one account, two workers with their own connections:
    TikTok's init limit (compressed: 3 per 2 s) is never hit, and every post goes out."""
    ids = await world.ready(posts_per_account=8)
    async with second_engine(app) as other:
        workers.start()
        workers.start(queue=other, pacer=db_pacer(other, PACER_WINDOW, **LIMITS))

        posts = await settled(world, ids, seconds=60)
        await workers.stop_all()  # the second worker stops before its engine closes

    assert [p.status for p in posts] == ["published"] * 8
    assert world.emulator.count_requests(status=429) == 0
    inits = sorted(r.at for r in world.emulator.requests(endpoint="video_init"))
    assert len(inits) == 8
    for n in range(len(inits) - LIMITS["init"]):
        # any LIMIT+1 consecutive inits span more than TikTok's window
        assert (inits[n + LIMITS["init"]] - inits[n]).total_seconds() > WINDOW
    for post in posts:
        assert [a.outcome for a in await world.attempts(post.id)] == ["published"]
