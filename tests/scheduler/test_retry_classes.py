"""Each kind of failure gets its own treatment: retry, refresh, reauthorize, reinitialize, fail."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from tests.scheduler.conftest import CLIENT_KEY, Workers, World, eventually, settled
from tiktimer.kit.time import ensure_utc
from tiktimer.models import Post
from tiktimer.platforms.tiktok.emulator import Fault, FaultKind, FaultPhase
from tiktimer.posts.machine.retry import PollPolicy, RetryPolicy
from tiktimer.posts.queue.user_actions import requeue


def outcomes(attempts: list[object]) -> list[str]:
    return [a.outcome for a in attempts]  # type: ignore[attr-defined]


async def test_server_error_on_init_is_retried_with_backoff(world: World, workers: Workers) -> None:
    [post_id] = await world.ready()
    world.emulator.add_fault(Fault(endpoint="video_init", kind=FaultKind.HTTP_ERROR, status=500))
    workers.start()

    [post] = await settled(world, [post_id])

    assert post.status == "published", post.last_error
    attempts = await world.attempts(post_id)
    assert outcomes(attempts) == ["retry", "published"]
    assert attempts[0].error_code == "internal_error"
    assert [p["status"] for p in world.publications(post)] == ["PUBLISH_COMPLETE"]


async def test_a_lost_init_response_is_retried_with_a_new_init(
    world: World, workers: Workers
) -> None:
    """The init reached TikTok but its answer was lost: the orphan task never gets its
    bytes, so it can never publish; the retry's own init does."""
    [post_id] = await world.ready()
    world.emulator.add_fault(
        Fault(endpoint="video_init", kind=FaultKind.HTTP_ERROR, status=502, phase=FaultPhase.AFTER)
    )
    workers.start()

    [post] = await settled(world, [post_id])

    assert post.status == "published", post.last_error
    statuses = sorted(p["status"] for p in world.publications(post))
    assert statuses == ["PROCESSING_UPLOAD", "PUBLISH_COMPLETE"]


async def test_rate_limited_init_waits_for_the_window(world: World, workers: Workers) -> None:
    [post_id] = await world.ready()
    world.emulator.add_fault(
        Fault(endpoint="video_init", kind=FaultKind.TIKTOK_ERROR, error_code="rate_limit_exceeded")
    )
    # A realistic base: the retry must wait at least TikTok's one-minute window.
    dispatcher = workers.start(retry=RetryPolicy(max_attempts=3, base_seconds=1, cap_seconds=5))

    async def retried() -> bool:
        return [a.outcome for a in await world.attempts(post_id)] == ["retry"]

    await eventually(retried)
    await workers.stop(dispatcher)

    post = await world.read(post_id)
    [attempt] = await world.attempts(post_id)
    assert post.status == "scheduled"
    assert post.last_error_code == "rate_limit_exceeded"
    assert post.next_attempt_at is not None
    assert attempt.finished_at is not None
    assert ensure_utc(post.next_attempt_at) - ensure_utc(attempt.finished_at) >= timedelta(
        seconds=59
    )


async def test_permanent_refusal_fails_at_once(world: World, workers: Workers) -> None:
    [post_id] = await world.ready()
    world.emulator.add_fault(
        Fault(
            endpoint="video_init",
            kind=FaultKind.TIKTOK_ERROR,
            error_code="privacy_level_option_mismatch",
        )
    )
    workers.start()

    [post] = await settled(world, [post_id])

    assert post.status == "failed"
    assert post.last_error_code == "privacy_level_option_mismatch"
    assert post.last_error is not None
    assert "privacy level" in post.last_error
    assert outcomes(await world.attempts(post_id)) == ["failed"]


async def test_banned_creator_fails_with_a_clear_message(world: World, workers: Workers) -> None:
    user_id = await world.user()
    account_id = await world.account(user_id, banned=True)
    post_id = await world.post(user_id, account_id, await world.media(user_id))
    workers.start()

    [post] = await settled(world, [post_id])

    assert post.status == "failed"
    assert post.last_error is not None
    assert "banned" in post.last_error
    assert world.emulator.count_publications() == 0


async def test_attempts_are_bounded(world: World, workers: Workers) -> None:
    [post_id] = await world.ready()
    world.emulator.add_fault(
        Fault(endpoint="video_init", kind=FaultKind.HTTP_ERROR, status=503, times=None)
    )
    workers.start()

    [post] = await settled(world, [post_id])

    assert post.status == "failed"
    assert post.last_error is not None
    assert post.last_error.startswith("Gave up after 3 attempts.")
    assert outcomes(await world.attempts(post_id)) == ["retry", "retry", "failed"]


async def test_refused_access_token_is_refreshed_then_the_call_retried(
    world: World, workers: Workers
) -> None:
    [post_id] = await world.ready()
    world.emulator.add_fault(
        Fault(endpoint="video_init", kind=FaultKind.TIKTOK_ERROR, error_code="access_token_invalid")
    )
    workers.start()

    [post] = await settled(world, [post_id])

    assert post.status == "published", post.last_error
    assert outcomes(await world.attempts(post_id)) == ["published"]
    assert world.emulator.count_requests(endpoint="token") == 1


async def test_dead_grant_marks_the_account_and_fails_its_posts(
    world: World, workers: Workers
) -> None:
    user_id = await world.user()
    media_id = await world.media(user_id)
    account_id = await world.account(user_id, "revoked_one")
    first = await world.post(user_id, account_id, media_id)
    world.emulator.remove_authorization(CLIENT_KEY, "revoked_one")
    dispatcher = workers.start()

    [post] = await settled(world, [first])

    assert post.status == "failed"
    assert post.last_error is not None
    assert "reconnect" in post.last_error.lower()
    account = await world.account_row(account_id)
    assert account.status == "reauth_required"
    # A post of that account coming up later fails with the same reason, without TikTok.
    await workers.stop(dispatcher)
    inits = world.emulator.count_requests(endpoint="video_init")
    later = await world.post(user_id, account_id, media_id)
    workers.start()
    [after] = await settled(world, [later])
    assert after.status == "failed"
    assert after.last_error_code == "account_unusable"
    assert world.emulator.count_requests(endpoint="video_init") == inits
    assert world.emulator.count_publications() == 0


async def test_dead_upload_session_starts_over_with_a_new_init(
    world: World, workers: Workers
) -> None:
    [post_id] = await world.ready()
    world.emulator.add_fault(Fault(endpoint="upload", kind=FaultKind.HTTP_ERROR, status=404))
    workers.start()

    [post] = await settled(world, [post_id])

    assert post.status == "published", post.last_error
    assert outcomes(await world.attempts(post_id)) == ["reinitialize", "published"]
    statuses = sorted(p["status"] for p in world.publications(post))
    assert statuses == ["PROCESSING_UPLOAD", "PUBLISH_COMPLETE"]


async def test_tiktok_side_failure_after_upload_uploads_again(
    world: World, workers: Workers
) -> None:
    [post_id] = await world.ready()
    world.emulator.fail_next_publish("internal")
    workers.start()

    [post] = await settled(world, [post_id])

    assert post.status == "published", post.last_error
    assert outcomes(await world.attempts(post_id)) == ["reinitialize", "published"]
    assert sorted(p["status"] for p in world.publications(post)) == ["FAILED", "PUBLISH_COMPLETE"]


async def test_final_fail_reason_fails_the_post(world: World, workers: Workers) -> None:
    [post_id] = await world.ready()
    world.emulator.fail_next_publish("spam_risk_text")
    workers.start()

    [post] = await settled(world, [post_id])

    assert post.status == "failed"
    assert post.platform_fail_reason == "spam_risk_text"
    assert post.last_error is not None
    assert "caption" in post.last_error
    [attempt] = await world.attempts(post_id)
    assert attempt.outcome == "failed"
    assert attempt.error_code == "spam_risk_text"


async def test_polling_gives_up_honestly_and_retry_checks_again(
    world: World, workers: Workers
) -> None:
    [post_id] = await world.ready()
    world.emulator.add_fault(
        Fault(endpoint="status", kind=FaultKind.HTTP_ERROR, status=500, times=None)
    )
    dispatcher = workers.start(
        poll=PollPolicy(first_seconds=0.05, max_seconds=0.1, timeout_seconds=1)
    )

    [post] = await settled(world, [post_id])

    assert post.status == "unconfirmed"
    assert post.last_error_code == "not_confirmed"
    assert post.platform_publish_id is not None
    assert outcomes(await world.attempts(post_id)) == ["unconfirmed"]
    # TikTok answers again: a retry asks about the same publication, it does not post again.
    await workers.stop(dispatcher)
    world.emulator.clear_faults()
    async with world.app.state.services.sessionmaker() as session, session.begin():
        assert await requeue(session, post_id, post.user_id, post.updated_at) == ("publishing")
    workers.start()
    [again] = await settled(world, [post_id])
    assert again.status == "published"
    assert len(world.publications(again)) == 1


async def test_retry_after_failure_starts_a_fresh_budget(world: World, workers: Workers) -> None:
    [post_id] = await world.ready()
    async with world.app.state.services.sessionmaker() as session, session.begin():
        await session.execute(
            update(Post)
            .where(Post.id == post_id)
            .values(status="failed", attempt_count=3, last_error="x")
        )
    post = await world.read(post_id)
    async with world.app.state.services.sessionmaker() as session, session.begin():
        assert await requeue(session, post_id, post.user_id, post.updated_at) == ("scheduled")
    workers.start()
    [after] = await settled(world, [post_id])
    assert after.status == "published"
    assert after.attempt_count == 1
