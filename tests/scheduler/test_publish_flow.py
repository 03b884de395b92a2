"""A due post goes out once, through the real publisher and the emulator, with its history."""

from __future__ import annotations

import logging

import pytest

from tests.scheduler.conftest import Workers, World, settled
from tiktimer.platforms.tiktok.emulator import Fault, FaultKind


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


async def test_the_run_that_uploads_makes_the_first_check(
    world: World, workers: Workers, caplog: pytest.LogCaptureFixture
) -> None:
    """No release and no second claim between the upload and the first status check: it
    is the uploading run's (its slot came with the attempt); only later checks, while
    TikTok still processes, are claims of their own."""
    caplog.set_level(logging.DEBUG, logger="tiktimer.scheduler")
    [post_id] = await world.ready()
    workers.start()

    [post] = await settled(world, [post_id])

    assert post.status == "published", post.last_error
    checks = world.emulator.count_requests(endpoint="status")
    claimed = [r for r in caplog.records if r.getMessage().startswith("scheduler.check ")]
    assert checks >= 1
    assert len(claimed) == checks - 1  # a check claim announces itself so


async def test_a_status_check_refused_for_its_token_reads_the_refreshed_one(
    world: World, workers: Workers
) -> None:
    """The check reuses the token the start read, until TikTok refuses it: then the token
    is refreshed and the next check sends the new one, never the refused one again."""
    [post_id] = await world.ready()
    world.emulator.add_fault(
        Fault(endpoint="status", kind=FaultKind.TIKTOK_ERROR, error_code="access_token_invalid")
    )
    workers.start()

    [post] = await settled(world, [post_id])

    assert post.status == "published", post.last_error
    assert world.emulator.count_requests(endpoint="token") == 1
    init, *_ = world.emulator.requests(endpoint="video_init")
    refused, *later = world.emulator.requests(endpoint="status")
    assert refused.token_hash == init.token_hash  # the start's token, reused
    assert later
    assert all(r.token_hash != refused.token_hash for r in later)
