"""A spent daily quota defers the upload until midnight Pacific, then it goes through."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.youtube.conftest import KIB256, Served, connect, make_client, reader, video_bytes
from tiktimer.platforms.contract import ErrorKind
from tiktimer.platforms.youtube.client import YouTubeClient
from tiktimer.platforms.youtube.errors import QuotaDeferred, YouTubeError
from tiktimer.platforms.youtube.quota_reset import next_reset
from tiktimer.platforms.youtube.schemas import VideoMetadata

META = VideoMetadata(title="quota")


async def _start(client: YouTubeClient, token: str) -> str:
    return await client.start_upload(token, META, size=KIB256, content_type="video/mp4")


@pytest.mark.parametrize("as_429", [False, True], ids=["403-quotaExceeded", "429-video-uploads"])
async def test_a_spent_upload_bucket_defers_until_midnight_pacific(
    serve: Callable[..., Any], clients: list[YouTubeClient], as_429: bool
) -> None:
    served: Served = await serve(upload_calls_per_day=1, upload_bucket_error_429=as_429)
    client = make_client(served)
    clients.append(client)
    tokens = await connect(client)
    await _start(client, tokens.access_token)

    with pytest.raises(QuotaDeferred) as caught:
        await _start(client, tokens.access_token)

    deferral = caught.value
    assert deferral.kind is ErrorKind.retry
    assert deferral.status == (429 if as_429 else 403)
    # 12:00 in Los Angeles (PST): the quota is back at 08:00 UTC, twelve hours away.
    assert deferral.resets_at == datetime(2026, 12, 8, 8, 0, tzinfo=UTC)
    assert deferral.retry_after == pytest.approx(12 * 3600 + 60)
    assert "daily quota" in deferral.message
    assert "midnight Pacific" in deferral.message

    served.clock.advance(seconds=deferral.retry_after or 0)
    tokens = await client.refresh(tokens.refresh_token or "")
    uri = await _start(client, tokens.access_token)
    data = video_bytes(KIB256)
    video = await client.upload(
        tokens.access_token, uri, size=KIB256, content_type="video/mp4", read_range=reader(data)
    )
    assert video.video_id
    assert await served.emulator.quota_used("tiktimer-prod") == (1, 0)


async def test_the_shared_bucket_defers_processing_polls(
    serve: Callable[..., Any], clients: list[YouTubeClient]
) -> None:
    served: Served = await serve(shared_units_per_day=2)
    client = make_client(served)
    clients.append(client)
    tokens = await connect(client)
    for _ in range(2):
        await client.video_state(tokens.access_token, "OtTBM61o6p4")

    with pytest.raises(QuotaDeferred) as caught:
        await client.video_state(tokens.access_token, "OtTBM61o6p4")
    assert caught.value.stage == "list"
    assert caught.value.reason == "quotaExceeded"


async def test_every_insert_costs_even_when_refused(
    served: Served, clients: list[YouTubeClient]
) -> None:
    client = make_client(served)
    clients.append(client)
    tokens = await connect(client)
    with pytest.raises(Exception, match="invalidTitle"):
        await client.start_upload(
            tokens.access_token, VideoMetadata(title="<bad>"), size=10, content_type="video/mp4"
        )
    assert await served.emulator.quota_used("tiktimer-prod") == (1, 0)


@pytest.mark.parametrize(
    ("now", "reset"),
    [
        (datetime(2026, 7, 1, 6, 59, tzinfo=UTC), datetime(2026, 7, 1, 7, 0, tzinfo=UTC)),  # PDT
        (datetime(2026, 7, 1, 7, 0, tzinfo=UTC), datetime(2026, 7, 2, 7, 0, tzinfo=UTC)),
        (datetime(2026, 3, 8, 7, 30, tzinfo=UTC), datetime(2026, 3, 8, 8, 0, tzinfo=UTC)),  # PST
        (datetime(2026, 3, 8, 12, 0, tzinfo=UTC), datetime(2026, 3, 9, 7, 0, tzinfo=UTC)),  # PDT
        (datetime(2026, 12, 7, 23, 0, tzinfo=UTC), datetime(2026, 12, 8, 8, 0, tzinfo=UTC)),
    ],
)
def test_the_quota_resets_at_midnight_in_los_angeles(now: datetime, reset: datetime) -> None:
    assert next_reset(now) == reset


async def test_the_channel_cap_waits_a_day_and_is_not_the_project_quota(
    serve: Callable[..., Any], clients: list[YouTubeClient]
) -> None:
    served: Served = await serve(channel_uploads_per_day=1)
    client = make_client(served)
    clients.append(client)
    tokens = await connect(client)
    uri = await _start(client, tokens.access_token)
    data = video_bytes(KIB256)
    await client.upload(
        tokens.access_token, uri, size=KIB256, content_type="video/mp4", read_range=reader(data)
    )

    with pytest.raises(YouTubeError) as caught:
        await _start(client, tokens.access_token)

    assert not isinstance(caught.value, QuotaDeferred)
    assert (caught.value.kind, caught.value.status) == (ErrorKind.retry, 400)
    assert caught.value.reason == "uploadLimitExceeded"
    assert caught.value.retry_after == 24 * 3600
    assert "24 hours" in caught.value.message
