"""Leases: renewed while a long upload runs, fenced when lost, handed back on shutdown,
and a token refresh that two workers race for happens once."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import select, update

from tests.scheduler.conftest import (
    LIMITS,
    PACER_WINDOW,
    Workers,
    World,
    db_pacer,
    eventually,
    second_engine,
    settled,
)
from tiktimer.accounts.tokens import AccountTokens
from tiktimer.db.engine import create_sessionmaker
from tiktimer.kit.crypto import TokenCipher
from tiktimer.kit.time import utc_now
from tiktimer.models import Post, SocialAccount, WorkerHeartbeat
from tiktimer.platforms.tiktok.emulator import Fault, FaultKind
from tiktimer.posts.dispatch.dispatcher import Dispatcher
from tiktimer.posts.machine.context import MachineContext
from tiktimer.posts.publish.components import build_publishing
from tiktimer.posts.queue.wakeup import Wakeup


async def test_a_long_upload_keeps_its_lease(world: World, workers: Workers) -> None:
    [post_id] = await world.ready()
    # The upload outlasts several leases; a second worker is there to steal it if it could.
    world.emulator.add_fault(Fault(endpoint="upload", kind=FaultKind.LATENCY, seconds=3.0))
    workers.start(lease_seconds=1.5)
    workers.start(lease_seconds=1.5)

    [post] = await settled(world, [post_id])

    assert post.status == "published"
    assert len(world.publications(post)) == 1
    assert [a.outcome for a in await world.attempts(post_id)] == ["published"]


async def test_a_worker_that_loses_its_lease_stops_uploading(
    world: World, workers: Workers
) -> None:
    [post_id] = await world.ready()
    world.emulator.add_fault(Fault(endpoint="upload", kind=FaultKind.HANG, seconds=30))
    first = workers.start(lease_seconds=1.5)

    async def uploading() -> bool:
        return (await world.read(post_id)).publish_stage == "uploading"

    await eventually(uploading)
    # Another worker takes the post over (as if this one had stalled past its lease).
    async with world.app.state.services.sessionmaker() as session, session.begin():
        await session.execute(update(Post).where(Post.id == post_id).values(claimed_by="thief"))

    async def fenced() -> bool:
        return first.in_flight == 0

    await eventually(fenced, what="the stalled upload cancelled")
    await workers.stop(first)
    world.emulator.clear_faults()
    async with world.app.state.services.sessionmaker() as session, session.begin():
        await session.execute(
            update(Post)
            .where(Post.id == post_id)
            .values(lease_expires_at=utc_now() - timedelta(seconds=1))
        )
    workers.start()

    [post] = await settled(world, [post_id])

    assert post.status == "published"
    statuses = sorted(p["status"] for p in world.publications(post))
    assert statuses == ["PROCESSING_UPLOAD", "PUBLISH_COMPLETE"]  # the first never got bytes


async def test_shutdown_hands_back_an_interrupted_upload_for_recovery(
    world: World, workers: Workers
) -> None:
    [post_id] = await world.ready()
    world.emulator.add_fault(Fault(endpoint="upload", kind=FaultKind.HANG, seconds=30))
    first = workers.start(shutdown_grace_seconds=0.2)

    async def uploading() -> bool:
        return (await world.read(post_id)).publish_stage == "uploading"

    await eventually(uploading)
    await workers.stop(first)

    post = await world.read(post_id)
    assert post.status == "publishing"
    assert post.claimed_by is None
    assert post.platform_publish_id is not None
    async with world.app.state.services.sessionmaker() as session:
        assert await session.get(WorkerHeartbeat, first.worker_id) is None

    world.emulator.clear_faults()
    workers.start()
    [done] = await settled(world, [post_id])
    assert done.status == "published"
    assert sorted(p["status"] for p in world.publications(done)) == [
        "PROCESSING_UPLOAD",
        "PUBLISH_COMPLETE",
    ]


async def test_shutdown_lets_in_flight_uploads_finish(world: World, workers: Workers) -> None:
    [post_id] = await world.ready()
    world.emulator.add_fault(Fault(endpoint="upload", kind=FaultKind.LATENCY, seconds=1.0))
    first = workers.start(shutdown_grace_seconds=20)

    async def uploading() -> bool:
        return (await world.read(post_id)).publish_stage == "uploading"

    await eventually(uploading)
    await workers.stop(first)

    post = await world.read(post_id)
    assert post.publish_stage == "confirming"  # uploaded; any worker checks the verdict
    workers.start()
    [done] = await settled(world, [post_id])
    assert done.status == "published"
    assert len(world.publications(done)) == 1


async def test_two_workers_racing_for_a_token_refresh_refresh_once(
    world: World, workers: Workers, app: FastAPI
) -> None:
    ids = await world.ready(posts_per_account=4)
    post = await world.read(ids[0])
    async with app.state.services.sessionmaker() as session, session.begin():
        await session.execute(
            update(SocialAccount)
            .where(SocialAccount.id == post.social_account_id)
            .values(access_token_expires_at=utc_now() - timedelta(minutes=1))
        )
    async with second_engine(app) as other:
        # The second worker is a process of its own: its pool, token store and publisher.
        sessionmaker = create_sessionmaker(other.engine)
        tokens = AccountTokens(
            sessionmaker,
            TokenCipher(app.state.services.settings.auth.token_keys),
            app.state.services.tiktok,
        )
        publishing = build_publishing(
            app.state.services.settings,
            sessionmaker=sessionmaker,
            client=app.state.services.tiktok,
            tokens=tokens,
            storage=app.state.services.storage,
        )
        pacer = db_pacer(other, PACER_WINDOW, **LIMITS)
        template = workers.build()
        context = MachineContext(
            queue=other,
            platforms=publishing.platforms(pacer),
            pacer=pacer,
            accounts=tokens,
            retry=template.context.retry,
            poll=template.context.poll,
            worker_id="second-process",
        )
        workers.start()
        workers.start(Dispatcher(context, template.options, Wakeup()))

        posts = await settled(world, ids, seconds=60)
        await workers.stop_all()  # the second worker stops before its engine closes

    assert [p.status for p in posts] == ["published"] * 4
    assert world.emulator.count_requests(endpoint="token") == 1
    async with app.state.services.sessionmaker() as session:
        account = await session.scalar(
            select(SocialAccount).where(SocialAccount.id == post.social_account_id)
        )
    assert account is not None
    assert account.status == "active"
    assert account.access_token_expires_at is not None
    assert account.access_token_expires_at > utc_now()
