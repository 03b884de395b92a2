"""Crashes at each step of the state machine are recovered without a second publication."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from tests.scheduler.conftest import Workers, World, settled
from tiktimer.kit.time import utc_now
from tiktimer.models import Post
from tiktimer.platforms.contract import PublishJob
from tiktimer.posts.queue.records import Claim

GHOST = "ghost-worker"


class Killed(Exception):
    """Stands for SIGKILL at that point: nothing after it runs."""


async def expire_lease(world: World, post_id: int) -> None:
    """The dead worker's lease runs out (tests do not wait the real lease out)."""
    async with world.app.state.services.sessionmaker() as session, session.begin():
        await session.execute(
            update(Post)
            .where(Post.id == post_id)
            .values(lease_expires_at=utc_now() - timedelta(seconds=1))
        )


async def ghost_claim(world: World) -> Claim:
    [claim] = await world.queue.claim(GHOST, 1, utc_now(), timedelta(seconds=60))
    return claim


async def ghost_publish(world: World, *, dies: str) -> tuple[Claim, list[str]]:
    """A worker runs the real publisher and is killed at `dies`."""
    claim = await ghost_claim(world)
    started = await world.queue.steps.start_attempt(claim, GHOST, utc_now(), interrupted="-")
    assert started is not None
    publisher = world.app.state.services.publishing.publisher(world.app.state.services.pacer)
    publish_ids: list[str] = []

    async def on_publish_id(publish_id: str, log_id: str | None) -> None:
        stored = await world.queue.steps.store_publish_id(
            claim.post_id, started.attempt_id, GHOST, publish_id, log_id, utc_now()
        )
        assert stored
        publish_ids.append(publish_id)
        if dies == "before_upload":
            raise Killed

    job = PublishJob(
        claim.post_id, started.attempt_id, claim.user_id, claim.account_id, claim.platform
    )
    try:
        await publisher.start(job, on_publish_id)
    except Killed:
        pass
    return claim, publish_ids


async def test_claimed_but_never_started_post_is_taken_over(world: World, workers: Workers) -> None:
    [post_id] = await world.ready()
    await ghost_claim(world)
    await expire_lease(world, post_id)
    workers.start()

    [post] = await settled(world, [post_id])

    assert post.status == "published"
    assert len(world.publications(post)) == 1
    assert [a.outcome for a in await world.attempts(post_id)] == ["published"]


async def test_crash_before_the_platform_answered_starts_a_new_attempt(
    world: World, workers: Workers
) -> None:
    [post_id] = await world.ready()
    claim = await ghost_claim(world)
    assert (
        await world.queue.steps.start_attempt(claim, GHOST, utc_now(), interrupted="-") is not None
    )
    await expire_lease(world, post_id)
    workers.start()

    [post] = await settled(world, [post_id])

    assert post.status == "published"
    attempts = await world.attempts(post_id)
    assert [a.outcome for a in attempts] == ["interrupted", "published"]
    assert attempts[0].error_message is not None
    assert GHOST in attempts[0].error_message
    assert len(world.publications(post)) == 1


async def test_crash_after_the_upload_is_reconciled_not_published_again(
    world: World, workers: Workers
) -> None:
    [post_id] = await world.ready()
    _, publish_ids = await ghost_publish(world, dies="after_upload")
    await expire_lease(world, post_id)
    workers.start()

    [post] = await settled(world, [post_id])

    assert post.status == "published"
    assert post.platform_publish_id == publish_ids[0]
    assert [p["publish_id"] for p in world.publications(post)] == publish_ids
    [attempt] = await world.attempts(post_id)
    assert attempt.outcome == "published"
    assert attempt.publish_id == publish_ids[0]


async def test_crash_mid_upload_abandons_that_publish_id_and_uploads_again(
    world: World, workers: Workers
) -> None:
    """The publish id was stored but its upload never finished: TikTok cannot publish it,
    so recovery starts over with a new init, and exactly one publication completes."""
    [post_id] = await world.ready()
    _, publish_ids = await ghost_publish(world, dies="before_upload")
    await expire_lease(world, post_id)
    workers.start()

    [post] = await settled(world, [post_id])

    assert post.status == "published", post.last_error
    assert post.platform_publish_id != publish_ids[0]
    statuses = {p["publish_id"]: p["status"] for p in world.publications(post)}
    assert statuses[publish_ids[0]] == "PROCESSING_UPLOAD"
    assert sorted(statuses.values()) == ["PROCESSING_UPLOAD", "PUBLISH_COMPLETE"]


async def test_a_worker_that_lost_its_lease_changes_nothing(world: World) -> None:
    [post_id] = await world.ready()
    claim = await ghost_claim(world)
    await expire_lease(world, post_id)
    [taken] = await world.queue.claim("new-owner", 1, utc_now(), timedelta(seconds=60))
    assert taken.previous_worker == GHOST

    assert await world.queue.steps.start_attempt(claim, GHOST, utc_now(), interrupted="-") is None
    assert not await world.queue.steps.defer(post_id, GHOST, utc_now(), utc_now())
    assert not await world.queue.steps.fail(post_id, GHOST, None, utc_now(), code="x", message="x")
    post = await world.read(post_id)
    assert post.claimed_by == "new-owner"
    assert post.status == "publishing"
