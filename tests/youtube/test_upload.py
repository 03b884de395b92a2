"""A Short through the emulator: session, chunks, resume after a cut, processing verdict."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.youtube.conftest import (
    KIB256,
    UNVERIFIED_ID,
    Served,
    connect,
    make_client,
    reader,
    video_bytes,
)
from tiktimer.platforms.contract import ErrorKind
from tiktimer.platforms.youtube.client import YouTubeClient
from tiktimer.platforms.youtube.emulator import Fault, FaultKind, FaultPhase
from tiktimer.platforms.youtube.errors import YouTubeError
from tiktimer.platforms.youtube.schemas import VideoMetadata

SIZE = 5 * KIB256 + 1000  # five full chunks and a short last one
DATA = video_bytes(SIZE)
META = VideoMetadata(title="A Short", description="vertical, 40 s", privacy_status="unlisted")


async def _upload(
    client: YouTubeClient, token: str, data: bytes = DATA, meta: VideoMetadata = META
) -> Any:
    uri = await client.start_upload(token, meta, size=len(data), content_type="video/mp4")
    return await client.upload(
        token, uri, size=len(data), content_type="video/mp4", read_range=reader(data)
    )


@pytest.fixture
def client(served: Served, clients: list[YouTubeClient]) -> YouTubeClient:
    built = make_client(served)
    clients.append(built)
    return built


async def _one_video_with_every_byte_once(served: Served, data: bytes = DATA) -> None:
    videos = await served.emulator.videos()
    assert len(videos) == 1
    assert videos[0].digest == hashlib.sha256(data).hexdigest()
    (session,) = await served.emulator.sessions()
    ranges = session.stored_ranges
    assert ranges[0][0] == 0
    assert all(a[1] + 1 == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    assert ranges[-1][1] == len(data) - 1


async def test_upload_then_processing_verdict(served: Served, clients: list[YouTubeClient]) -> None:
    emulator_clock = served.clock
    client = make_client(served)
    clients.append(client)
    tokens = await connect(client)

    video = await _upload(client, tokens.access_token)

    assert video.upload_status == "uploaded"
    assert video.privacy_status == "unlisted"
    assert video.bytes_sent == SIZE
    state = await client.video_state(tokens.access_token, video.video_id)
    assert state is not None
    assert state.upload_status == "processed"
    assert state.processing_status == "succeeded"
    assert state.finished
    await _one_video_with_every_byte_once(served)
    assert emulator_clock is served.clock


async def test_processing_takes_its_time(
    serve: Callable[..., Any], clients: list[YouTubeClient]
) -> None:
    served: Served = await serve(processing_seconds=120)
    client = make_client(served)
    clients.append(client)
    tokens = await connect(client)
    video = await _upload(client, tokens.access_token)

    early = await client.video_state(tokens.access_token, video.video_id)
    served.clock.advance(seconds=121)
    late = await client.video_state(tokens.access_token, video.video_id)

    assert early is not None
    assert (early.upload_status, early.processing_status) == ("uploaded", "processing")
    assert not early.finished
    assert late is not None
    assert (late.upload_status, late.processing_status) == ("processed", "succeeded")


async def test_a_cut_connection_resumes_from_the_received_range(
    served: Served, client: YouTubeClient
) -> None:
    tokens = await connect(client)
    # The third chunk dies after 100,000 bytes; the emulator keeps none of them (no whole
    # 256 KiB block), so the client must trust the session's Range, not its own count.
    served.emulator.add_fault(
        Fault(endpoint="chunk", kind=FaultKind.CUT_BODY, nth=3, keep_bytes=100_000)
    )

    video = await _upload(client, tokens.access_token)

    assert video.video_id
    await _one_video_with_every_byte_once(served)
    (session,) = await served.emulator.sessions()
    assert session.bytes_offered == SIZE + 100_000  # only the cut part arrived twice


async def test_a_lost_reply_to_the_last_chunk_creates_one_video(
    served: Served, client: YouTubeClient
) -> None:
    tokens = await connect(client)
    served.emulator.add_fault(
        Fault(endpoint="chunk", kind=FaultKind.DROP, nth=6, phase=FaultPhase.AFTER)
    )

    video = await _upload(client, tokens.access_token)

    await _one_video_with_every_byte_once(served)
    (session,) = await served.emulator.sessions()
    assert session.bytes_offered == SIZE  # the status query found the video: nothing resent
    assert (await served.emulator.videos())[0].id == video.video_id


@pytest.mark.parametrize(
    "fault",
    [
        Fault(endpoint="chunk", kind=FaultKind.HTTP_ERROR, nth=2, status=503),
        Fault(endpoint="chunk", kind=FaultKind.DROP, nth=4),
        Fault(
            endpoint="chunk", kind=FaultKind.HTTP_ERROR, nth=3, status=500, phase=FaultPhase.AFTER
        ),
    ],
    ids=["503", "drop", "500-after-storing"],
)
async def test_chunk_failures_are_resumed_not_restarted(
    served: Served, client: YouTubeClient, fault: Fault
) -> None:
    tokens = await connect(client)
    served.emulator.add_fault(fault)

    await _upload(client, tokens.access_token)

    assert fault.fired == 1
    await _one_video_with_every_byte_once(served)


async def test_a_hung_chunk_times_out_and_resumes(
    served: Served, clients: list[YouTubeClient]
) -> None:
    client = make_client(served, timeout=httpx.Timeout(2.0, read=0.5))
    clients.append(client)
    tokens = await connect(client)
    hang = served.emulator.add_fault(
        Fault(endpoint="chunk", kind=FaultKind.HANG, nth=2, seconds=1.5)
    )

    await _upload(client, tokens.access_token)

    assert hang.fired == 1
    await _one_video_with_every_byte_once(served)


async def test_a_new_worker_resumes_the_session_it_inherited(
    served: Served, clients: list[YouTubeClient]
) -> None:
    first = make_client(served, max_retries=0)
    clients.append(first)
    tokens = await connect(first)
    served.emulator.add_fault(Fault(endpoint="chunk", kind=FaultKind.HTTP_ERROR, nth=4, status=503))
    uri = await first.start_upload(tokens.access_token, META, size=SIZE, content_type="video/mp4")
    with pytest.raises(YouTubeError) as caught:
        await first.upload(
            tokens.access_token, uri, size=SIZE, content_type="video/mp4", read_range=reader(DATA)
        )
    assert caught.value.kind is ErrorKind.retry

    second = make_client(served)
    clients.append(second)
    video = await second.upload(
        tokens.access_token,
        uri,
        size=SIZE,
        content_type="video/mp4",
        read_range=reader(DATA),
        resume=True,
    )

    assert video.bytes_sent == SIZE - 3 * KIB256  # three chunks were stored before
    await _one_video_with_every_byte_once(served)


async def test_an_expired_session_means_a_new_one(served: Served, client: YouTubeClient) -> None:
    tokens = await connect(client)
    uri = await client.start_upload(tokens.access_token, META, size=SIZE, content_type="video/mp4")
    served.clock.advance(days=7, seconds=1)
    tokens = await client.refresh(tokens.refresh_token or "")

    with pytest.raises(YouTubeError) as caught:
        await client.upload(
            tokens.access_token, uri, size=SIZE, content_type="video/mp4", read_range=reader(DATA)
        )
    assert caught.value.kind is ErrorKind.reinitialize


async def test_unverified_projects_uploads_are_locked_private(
    served: Served, clients: list[YouTubeClient]
) -> None:
    client = make_client(served, client_id=UNVERIFIED_ID)
    clients.append(client)
    tokens = await connect(client)

    video = await _upload(
        client, tokens.access_token, meta=VideoMetadata(title="Hi", privacy_status="public")
    )
    state = await client.video_state(tokens.access_token, video.video_id)

    assert video.privacy_status == "private"
    assert state is not None
    assert state.privacy_status == "private"


async def test_the_same_bytes_twice_are_rejected_as_duplicate(
    served: Served, client: YouTubeClient
) -> None:
    tokens = await connect(client)
    await _upload(client, tokens.access_token)
    again = await _upload(client, tokens.access_token)

    state = await client.video_state(tokens.access_token, again.video_id)

    assert state is not None
    assert (state.upload_status, state.rejection_reason) == ("rejected", "duplicate")
    assert state.processing_status == "terminated"


async def test_a_scripted_processing_failure(served: Served, client: YouTubeClient) -> None:
    tokens = await connect(client)
    await served.emulator.script_verdict("failed", "codec")
    video = await _upload(client, tokens.access_token)

    state = await client.video_state(tokens.access_token, video.video_id)

    assert state is not None
    assert (state.upload_status, state.failure_reason) == ("failed", "codec")
    assert state.processing_status == "failed"


async def test_an_unknown_video_reads_as_none(served: Served, client: YouTubeClient) -> None:
    tokens = await connect(client)
    assert await client.video_state(tokens.access_token, "OtTBM61o6p4") is None


def test_the_chunk_size_must_be_a_multiple_of_256_kib(served: Served) -> None:
    with pytest.raises(ValueError, match="256 KiB"):
        make_client(served, chunk_size=KIB256 + 1)
