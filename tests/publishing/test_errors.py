"""TikTok's refusals, mapped to what the scheduler must do (`PublishError.kind`), and what
the creator reads; chunk failures, resyncs, expired upload URLs; FAILED verdicts."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from tests.publishing.helpers import (
    create_post,
    drive,
    job_for,
    mark_publishing,
    read_post,
    settle,
    start,
    stored_media,
    upload_puts,
)
from tiktimer.kit.time import utc_now
from tiktimer.models import Post, SocialAccount
from tiktimer.platforms.contract import ErrorKind, PublishError
from tiktimer.platforms.tiktok import fail_reasons
from tiktimer.platforms.tiktok.emulator import Emulator, Fault, FaultKind, FaultPhase
from tiktimer.platforms.tiktok.facts import load_post_media
from tiktimer.platforms.tiktok.publisher import TikTokPublisher

MB = 1_000_000


@pytest.fixture
async def post_id(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], alice_id: int, account: int
) -> int:
    media_id, _ = await stored_media(app, alice_id, 64 * MB + 1)  # 6 chunks
    post = await create_post(client, alice, social_account_id=account, media_id=media_id)
    return int(post["id"])


@pytest.mark.parametrize(
    ("code", "status", "kind", "words"),
    [
        ("internal_error", 500, ErrorKind.retry, "unavailable"),
        ("rate_limit_exceeded", 429, ErrorKind.retry, "unavailable"),
        ("access_token_invalid", 401, ErrorKind.refresh, "expired"),
        ("scope_not_authorized", 401, ErrorKind.reauthorize, "reconnect"),
        ("invalid_param", 400, ErrorKind.fail, "TikTok refused a setting of the post: boom"),
        ("invalid_params", 400, ErrorKind.fail, "TikTok refused a setting of the post: boom"),
        ("spam_risk_too_many_posts", 403, ErrorKind.fail, "daily limit"),
        ("spam_risk_user_banned_from_posting", 403, ErrorKind.fail, "banned"),
        ("reached_active_user_cap", 403, ErrorKind.fail, "daily limit of posting accounts"),
        ("privacy_level_option_mismatch", 403, ErrorKind.fail, "choose it again"),
        ("unaudited_client_can_only_post_to_private_accounts", 403, ErrorKind.fail, "private"),
    ],
)
async def test_init_error_codes(
    app: FastAPI,
    emulator: Emulator,
    publisher: TikTokPublisher,
    post_id: int,
    code: str,
    status: int,
    kind: ErrorKind,
    words: str,
) -> None:
    emulator.add_fault(
        Fault(
            endpoint="video_init",
            kind=FaultKind.TIKTOK_ERROR,
            error_code=code,
            status=status,
            message="boom",
        )
    )
    driven = await drive(app, publisher, emulator, post_id)
    error = driven.error
    assert error is not None
    assert (error.kind, error.code) == (kind, code)
    assert words in error.message
    assert error.log_id  # kept for TikTok support
    if code == "rate_limit_exceeded":
        assert error.retry_after == 60
    if code == "internal_error":
        assert error.maybe_applied  # an init that failed may still have created a task
    assert driven.publish_ids == []
    assert emulator.count_publications() == 0


async def test_unusable_token_means_reauthorize(
    app: FastAPI, emulator: Emulator, publisher: TikTokPublisher, post_id: int, account: int
) -> None:
    async with app.state.services.sessionmaker() as session, session.begin():
        await session.execute(
            update(SocialAccount)
            .where(SocialAccount.id == account)
            .values(
                access_token_expires_at=utc_now() - timedelta(minutes=1),
                refresh_token_encrypted=None,
            )
        )
    driven = await drive(app, publisher, emulator, post_id)
    assert driven.error is not None
    assert driven.error.kind is ErrorKind.reauthorize
    assert emulator.count_publications() == 0


async def test_a_chunk_answered_5xx_is_sent_again(
    app: FastAPI, emulator: Emulator, publisher: TikTokPublisher, post_id: int
) -> None:
    emulator.add_fault(Fault(endpoint="upload", kind=FaultKind.HTTP_ERROR, status=503, nth=2))
    driven = await drive(app, publisher, emulator, post_id)
    assert driven.error is None, driven.error
    assert driven.post.status == "published"
    assert upload_puts(emulator) == [206, 503, 206, 206, 206, 206, 201]
    [record] = emulator.publications()
    assert record.media_bytes == 64 * MB + 1


async def test_a_lost_chunk_answer_resynchronises_on_416(
    app: FastAPI, emulator: Emulator, publisher: TikTokPublisher, post_id: int
) -> None:
    # TikTok stores chunk 3 but the answer is lost: the resend gets 416 with TikTok's
    # progress, and the upload goes on from the chunk after it.
    emulator.add_fault(Fault(endpoint="upload", kind=FaultKind.DROP, nth=3, phase=FaultPhase.AFTER))
    driven = await drive(app, publisher, emulator, post_id)
    assert driven.error is None, driven.error
    assert driven.post.status == "published"
    assert upload_puts(emulator) == [206, 206, 200, 416, 206, 206, 201]  # 200: cut off
    [record] = emulator.publications()
    assert record.media_bytes == 64 * MB + 1


async def test_an_expired_upload_url_starts_over_with_a_new_init(
    app: FastAPI, emulator: Emulator, publisher: TikTokPublisher, post_id: int
) -> None:
    await mark_publishing(app, post_id)
    publish_ids: list[str] = []

    async def expire_then_record(publish_id: str, log_id: str | None) -> None:
        publish_ids.append(publish_id)
        emulator.advance_clock(3601)  # the upload URL lives one hour

    job_error: PublishError | None = None
    try:
        await publisher.start(await job_for(app, post_id), expire_then_record)
    except PublishError as exc:
        job_error = exc
    assert job_error is not None
    assert job_error.kind is ErrorKind.reinitialize
    assert upload_puts(emulator) == [403]

    second = await start(app, publisher, post_id, publish_ids)  # what the scheduler does next
    await settle(app, publisher, emulator, post_id, second)
    assert (await read_post(app, post_id)).status == "published"
    assert len(set(publish_ids)) == 2
    assert emulator.count_publications(status="PUBLISH_COMPLETE") == 1


async def test_an_unknown_upload_url_starts_over(
    app: FastAPI, emulator: Emulator, publisher: TikTokPublisher, post_id: int
) -> None:
    emulator.add_fault(Fault(endpoint="upload", kind=FaultKind.HTTP_ERROR, status=404))
    driven = await drive(app, publisher, emulator, post_id)
    assert driven.error is not None
    assert driven.error.kind is ErrorKind.reinitialize
    assert driven.publish_ids  # the scheduler had the id before the upload began


FINAL_REASONS = [
    "file_format_check_failed",
    "duration_check_failed",
    "frame_rate_check_failed",
    "picture_size_check_failed",
    "publish_cancelled",
    "spam_risk_too_many_posts",
    "spam_risk_user_banned_from_posting",
    "spam_risk_text",
    "spam_risk",
    "a_reason_tiktok_adds_later",
]


@pytest.mark.parametrize("reason", FINAL_REASONS)
async def test_failed_with_a_final_reason(
    app: FastAPI, emulator: Emulator, publisher: TikTokPublisher, post_id: int, reason: str
) -> None:
    emulator.fail_next_publish(reason)
    driven = await drive(app, publisher, emulator, post_id)
    assert driven.error is None, driven.error
    post = driven.post
    assert post.status == "failed"
    assert post.platform_status == "FAILED"
    assert post.platform_fail_reason == reason
    assert post.last_error == fail_reasons.describe(reason)
    assert "_" not in (post.last_error or "").split("(reason:")[0]  # words, not codes


@pytest.mark.parametrize("reason", ["internal", "video_pull_failed", "photo_pull_failed"])
async def test_failed_with_a_retryable_reason_uploads_again(
    app: FastAPI, emulator: Emulator, publisher: TikTokPublisher, post_id: int, reason: str
) -> None:
    emulator.fail_next_publish(reason)
    driven = await drive(app, publisher, emulator, post_id)
    assert driven.error is not None
    assert (driven.error.kind, driven.error.code) == (ErrorKind.reinitialize, reason)
    assert driven.post.status == "publishing"  # the scheduler decides what comes next


async def test_failed_because_access_was_removed(
    app: FastAPI, emulator: Emulator, publisher: TikTokPublisher, post_id: int, account: int
) -> None:
    emulator.fail_next_publish("auth_removed")
    driven = await drive(app, publisher, emulator, post_id)
    assert driven.post.status == "failed"
    assert driven.post.platform_fail_reason == "auth_removed"
    async with app.state.services.sessionmaker() as session:
        stored = await session.get(SocialAccount, account)
        assert stored is not None
        assert stored.status == "reauth_required"


async def test_status_of_an_unknown_publish_id(
    app: FastAPI, publisher: TikTokPublisher, post_id: int
) -> None:
    with pytest.raises(PublishError) as caught:
        await publisher.check(await job_for(app, post_id), "v_pub_file~v2-1.000000000000")
    assert caught.value.kind is ErrorKind.fail
    assert caught.value.code == "invalid_publish_id"


async def test_missing_media_file_fails_with_a_reason(
    app: FastAPI, emulator: Emulator, publisher: TikTokPublisher, post_id: int
) -> None:
    post = await read_post(app, post_id)
    async with app.state.services.sessionmaker() as session:
        [medium] = await load_post_media(session, post.id)
    await app.state.services.storage.delete(medium.storage_key)
    driven = await drive(app, publisher, emulator, post_id)
    assert driven.error is not None
    assert driven.error.kind is ErrorKind.fail
    assert "could not be read from storage" in driven.error.message
    assert [p.status for p in emulator.publications()] == ["PROCESSING_UPLOAD"]
    async with app.state.services.sessionmaker() as session:
        assert (await session.get(Post, post_id)) is not None


async def test_an_upload_abandoned_by_a_dead_worker_starts_over(
    app: FastAPI, emulator: Emulator, publisher: TikTokPublisher, post_id: int
) -> None:
    class Killed(Exception):
        """The worker dies right after storing the publish id."""

    async def die(publish_id: str, log_id: str | None) -> None:
        raise Killed

    await mark_publishing(app, post_id)
    with pytest.raises(Killed):
        await publisher.start(await job_for(app, post_id), die)
    [record] = emulator.publications()
    with pytest.raises(PublishError) as caught:
        await publisher.check(await job_for(app, post_id), record.publish_id)
    assert (caught.value.kind, caught.value.code) == (ErrorKind.reinitialize, "upload_incomplete")
