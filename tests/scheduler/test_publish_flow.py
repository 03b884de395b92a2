"""A due post goes out once, through the real publisher and the emulator, with its history."""

from __future__ import annotations

from tests.scheduler.conftest import Workers, World, settled


async def test_due_post_is_published_once_with_its_attempt(world: World, workers: Workers) -> None:
    [post_id] = await world.ready()
    workers.start()

    [post] = await settled(world, [post_id])

    assert post.status == "published", post.last_error
    assert post.platform_publish_id
    assert post.published_at is not None
    assert post.claimed_by is None
    assert post.lease_expires_at is None
    publications = world.publications(post)
    assert [p["status"] for p in publications] == ["PUBLISH_COMPLETE"]
    [attempt] = await world.attempts(post_id)
    assert attempt.outcome == "published"
    assert attempt.publish_id == post.platform_publish_id
    assert attempt.finished_at is not None
