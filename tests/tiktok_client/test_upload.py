"""Chunked FILE_UPLOAD PUTs: exact headers per chunk, retries, 416 resync, typed failures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpx
import pytest

from tiktimer.platforms.tiktok.chunks import plan_chunks
from tiktimer.platforms.tiktok.errors import (
    TikTokAction,
    TikTokNetworkError,
    TikTokRateLimited,
    TikTokReinitRequired,
    TikTokRejected,
    TikTokServerError,
    TikTokUnexpectedResponse,
    TikTokUploadSourceError,
)

from .conftest import MakeClient, Sleeps

UPLOAD_URL = "https://open-upload.tiktokapis.com/video/?upload_id=67890&upload_token=Xz%2Ba~123"
PIECE = 1_000_000


def expected_bytes(start: int, end: int) -> bytes:
    """The fake video's content: every megabyte is filled with its own index."""
    out = bytearray()
    position = start
    while position < end:
        stop = min(end, (position // PIECE + 1) * PIECE)
        out += bytes([position // PIECE % 251]) * (stop - position)
        position = stop
    return bytes(out)


@dataclass
class FakeVideo:
    """A storage stand-in: streams byte ranges in ≤1 MB pieces and records the ranges."""

    size: int
    calls: list[tuple[int, int]] = field(default_factory=list)

    def read_range(self, start: int, end: int) -> AsyncIterator[bytes]:
        self.calls.append((start, end))
        return self._stream(start, end)

    async def _stream(self, start: int, end: int) -> AsyncIterator[bytes]:
        position = start
        while position < end:
            stop = min(end, position + PIECE)
            yield expected_bytes(position, stop)
            position = stop


@dataclass
class UploadHost:
    """Scripted upload URL: checks each PUT, answers from ``script`` or 206/201."""

    size: int
    script: list[Callable[[httpx.Request], httpx.Response] | int] = field(default_factory=list)
    puts: list[httpx.Request] = field(default_factory=list)
    received: int = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.puts.append(request)
        assert request.method == "PUT"
        assert str(request.url) == UPLOAD_URL
        assert "authorization" not in request.headers
        assert "transfer-encoding" not in request.headers
        first, last = _range(request)
        assert int(request.headers["content-length"]) == last - first + 1 == len(request.content)
        assert request.content == expected_bytes(first, last + 1)
        if self.script:
            step = self.script.pop(0)
            if callable(step):
                return step(request)
            if step != 0:
                return httpx.Response(step)
        self.received = last + 1
        done = self.received == self.size
        return httpx.Response(
            201 if done else 206,
            headers={"Content-Range": f"bytes 0-{self.received - 1}/{self.size}"},
        )

    @property
    def ranges(self) -> list[str]:
        return [r.headers["content-range"] for r in self.puts]


def _range(request: httpx.Request) -> tuple[int, int]:
    value = request.headers["content-range"]
    assert value.startswith("bytes ")
    span, total = value[6:].split("/")
    first, last = span.split("-")
    return int(first), int(last)


def range_416(progress: str) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(416, headers={"Content-Range": progress})


def raise_(exc: Exception) -> Callable[[httpx.Request], httpx.Response]:
    def step(request: httpx.Request) -> httpx.Response:
        raise exc

    return step


async def test_a_small_video_is_one_put_with_exact_headers(make_client: MakeClient) -> None:
    video, host = FakeVideo(4_000_000), UploadHost(4_000_000)
    client = make_client(host)
    result = await client.upload_file(UPLOAD_URL, video.size, video.read_range)

    (put,) = host.puts
    assert put.headers["content-type"] == "video/mp4"
    assert put.headers["content-length"] == "4000000"
    assert put.headers["content-range"] == "bytes 0-3999999/4000000"
    assert video.calls == [(0, 4_000_000)]
    assert (result.uploaded_bytes, result.chunk_count, result.chunk_retries) == (4_000_000, 1, 0)


async def test_a_large_video_is_put_chunk_by_chunk(make_client: MakeClient) -> None:
    size = 64_000_001
    video, host = FakeVideo(size), UploadHost(size)
    client = make_client(host)
    result = await client.upload_file(
        UPLOAD_URL, size, video.read_range, content_type="video/quicktime"
    )
    assert host.ranges == [
        "bytes 0-9999999/64000001",
        "bytes 10000000-19999999/64000001",
        "bytes 20000000-29999999/64000001",
        "bytes 30000000-39999999/64000001",
        "bytes 40000000-49999999/64000001",
        "bytes 50000000-64000000/64000001",
    ]
    assert [p.headers["content-length"] for p in host.puts] == ["10000000"] * 5 + ["14000001"]
    assert {p.headers["content-type"] for p in host.puts} == {"video/quicktime"}
    # Only the chunk's own range is ever read: the file is never held whole.
    assert video.calls == [(c.start, c.end) for c in plan_chunks(size)]
    assert result.chunk_count == 6


async def test_a_5xx_retries_the_same_chunk_with_backoff(
    make_client: MakeClient, sleeps: Sleeps
) -> None:
    size = 70_000_000
    video, host = FakeVideo(size), UploadHost(size, script=[0, 502, 500, 0])
    client = make_client(host)
    result = await client.upload_file(UPLOAD_URL, size, video.read_range)

    assert host.ranges[:4] == [
        "bytes 0-9999999/70000000",
        "bytes 10000000-19999999/70000000",
        "bytes 10000000-19999999/70000000",
        "bytes 10000000-19999999/70000000",
    ]
    assert len(host.puts) == 9
    assert sleeps == [1.0, 2.0]
    assert result.chunk_retries == 2


async def test_exhausted_chunk_retries_raise_a_retryable_error(
    make_client: MakeClient, sleeps: Sleeps
) -> None:
    size = 70_000_000
    video = FakeVideo(size)
    host = UploadHost(size, script=[0, 0, 503, 503, 503])
    client = make_client(host, chunk_attempts=3)
    with pytest.raises(TikTokServerError) as caught:
        await client.upload_file(UPLOAD_URL, size, video.read_range)
    assert caught.value.action is TikTokAction.RETRY
    assert caught.value.uploaded_bytes == 20_000_000
    assert caught.value.http_status == 503
    assert len(host.puts) == 5
    assert sleeps == [1.0, 2.0]


async def test_a_429_waits_retry_after(make_client: MakeClient, sleeps: Sleeps) -> None:
    size = 4_000_000
    video = FakeVideo(size)
    host = UploadHost(size, script=[lambda r: httpx.Response(429, headers={"Retry-After": "7"})])
    client = make_client(host)
    await client.upload_file(UPLOAD_URL, size, video.read_range)
    assert sleeps == [7.0]
    with pytest.raises(TikTokRateLimited):
        await make_client(UploadHost(size, script=[429, 429]), chunk_attempts=2).upload_file(
            UPLOAD_URL, size, video.read_range
        )


@dataclass
class StrictUploadHost:
    """Keeps TikTok's progress: a PUT not starting at it gets 416 + the progress header,
    written as a byte count or as the last byte's index (the reference can't tell)."""

    size: int
    progress_is_count: bool
    lose_answer_of_put: set[int] = field(default_factory=set)
    puts: list[httpx.Request] = field(default_factory=list)
    received: int = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.puts.append(request)
        first, last = _range(request)
        if first != self.received:
            return httpx.Response(416, headers={"Content-Range": self._progress()})
        assert request.content == expected_bytes(first, last + 1)
        self.received = last + 1
        if len(self.puts) in self.lose_answer_of_put:
            raise httpx.ReadError("connection reset after the chunk was stored")
        status = 201 if self.received == self.size else 206
        return httpx.Response(status, headers={"Content-Range": self._progress()})

    def _progress(self) -> str:
        n = self.received if self.progress_is_count else self.received - 1
        return f"bytes 0-{n}/{self.size}"


@pytest.mark.parametrize("progress_is_count", [True, False])
async def test_a_lost_206_is_resynchronised_from_the_416_progress_header(
    make_client: MakeClient, sleeps: Sleeps, progress_is_count: bool
) -> None:
    size = 70_000_000
    video = FakeVideo(size)
    host = StrictUploadHost(size, progress_is_count, lose_answer_of_put={2})
    client = make_client(host)
    result = await client.upload_file(UPLOAD_URL, size, video.read_range)

    ranges = [p.headers["content-range"] for p in host.puts]
    assert ranges[:4] == [
        "bytes 0-9999999/70000000",
        "bytes 10000000-19999999/70000000",  # stored, answer lost
        "bytes 10000000-19999999/70000000",  # retry -> 416 "you already sent this"
        "bytes 20000000-29999999/70000000",  # continue where TikTok is
    ]
    assert len(ranges) == 8
    assert host.received == size
    assert (result.chunk_retries, result.resyncs) == (1, 1)
    assert sleeps == [1.0]


@pytest.mark.parametrize("progress", ["bytes 0-10000000/70000000", "bytes 0-9999999/70000000"])
async def test_a_416_can_move_backwards(make_client: MakeClient, progress: str) -> None:
    size = 70_000_000
    video = FakeVideo(size)
    host = UploadHost(size, script=[0, 0, range_416(progress)])
    client = make_client(host)
    result = await client.upload_file(UPLOAD_URL, size, video.read_range)
    assert host.ranges[2] == "bytes 20000000-29999999/70000000"
    assert host.ranges[3] == "bytes 10000000-19999999/70000000"
    assert result.resyncs == 1


@pytest.mark.parametrize("progress", ["bytes 0-70000000/70000000", "bytes 0-69999999/70000000"])
async def test_a_416_saying_everything_arrived_completes_the_upload(
    make_client: MakeClient, progress: str
) -> None:
    size = 70_000_000
    video = FakeVideo(size)
    host = UploadHost(size, script=[0] * 6 + [range_416(progress)])
    client = make_client(host)
    result = await client.upload_file(UPLOAD_URL, size, video.read_range)
    assert len(host.puts) == 7
    assert result.uploaded_bytes == size
    assert result.resyncs == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Content-Range": "bytes 0-12345/70000000"},  # not a chunk boundary either way
        {"Content-Range": "bytes 0-9999999/99999999"},  # another video
    ],
)
async def test_a_416_that_cannot_be_resynchronised_needs_a_new_init(
    make_client: MakeClient, headers: dict[str, str]
) -> None:
    size = 70_000_000
    video = FakeVideo(size)
    host = UploadHost(size, script=[0, 0, lambda r: httpx.Response(416, headers=headers)])
    client = make_client(host)
    with pytest.raises(TikTokReinitRequired) as caught:
        await client.upload_file(UPLOAD_URL, size, video.read_range)
    assert caught.value.code == "upload_out_of_sync"
    assert caught.value.action is TikTokAction.REINITIALIZE
    assert caught.value.uploaded_bytes == 20_000_000


async def test_resyncs_are_bounded(make_client: MakeClient) -> None:
    size = 70_000_000
    video = FakeVideo(size)
    back = range_416("bytes 0-0/70000000")  # always "start again"
    host = UploadHost(size, script=[0, back] * 10)
    client = make_client(host, max_resyncs=3)
    with pytest.raises(TikTokReinitRequired):
        await client.upload_file(UPLOAD_URL, size, video.read_range)
    assert len(host.puts) == 8


@pytest.mark.parametrize(
    ("status", "code"), [(403, "upload_url_expired"), (404, "upload_not_found")]
)
async def test_403_and_404_mean_a_new_init_is_needed(
    make_client: MakeClient, status: int, code: str
) -> None:
    size = 70_000_000
    video = FakeVideo(size)
    host = UploadHost(size, script=[0, status])
    client = make_client(host)
    with pytest.raises(TikTokReinitRequired) as caught:
        await client.upload_file(UPLOAD_URL, size, video.read_range)
    assert caught.value.code == code
    assert caught.value.http_status == status
    assert caught.value.uploaded_bytes == 10_000_000
    assert len(host.puts) == 2  # no retry


async def test_a_400_is_a_client_bug_and_not_retried(make_client: MakeClient) -> None:
    video = FakeVideo(4_000_000)
    host = UploadHost(4_000_000, script=[400])
    client = make_client(host)
    with pytest.raises(TikTokRejected) as caught:
        await client.upload_file(UPLOAD_URL, video.size, video.read_range)
    assert caught.value.code == "upload_rejected"
    assert caught.value.hint
    assert len(host.puts) == 1


@pytest.mark.parametrize(("script", "index"), [([201], 0), ([0] * 6 + [206], 6)])
async def test_a_201_too_early_or_a_206_at_the_end_is_unexpected(
    make_client: MakeClient, script: list[int], index: int
) -> None:
    size = 70_000_000
    video = FakeVideo(size)
    host = UploadHost(size, script=list(script))
    client = make_client(host)
    with pytest.raises(TikTokUnexpectedResponse):
        await client.upload_file(UPLOAD_URL, size, video.read_range)
    assert len(host.puts) == index + 1


async def test_network_errors_on_a_chunk_are_retried(
    make_client: MakeClient, sleeps: Sleeps
) -> None:
    video = FakeVideo(4_000_000)
    host = UploadHost(4_000_000, script=[raise_(httpx.WriteTimeout("slow"))])
    client = make_client(host)
    result = await client.upload_file(UPLOAD_URL, video.size, video.read_range)
    assert result.chunk_retries == 1
    assert len(host.puts) == 2
    host = UploadHost(4_000_000, script=[raise_(httpx.ConnectError("down"))] * 2)
    with pytest.raises(TikTokNetworkError):
        await make_client(host, chunk_attempts=2).upload_file(
            UPLOAD_URL, video.size, video.read_range
        )


@pytest.mark.parametrize("delta", [-1, 1])
async def test_a_source_of_the_wrong_length_is_refused(make_client: MakeClient, delta: int) -> None:
    seen: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201)

    async def read_range(start: int, end: int) -> AsyncIterator[bytes]:
        yield b"x" * (end - start + delta)

    client = make_client(handler)
    with pytest.raises(TikTokUploadSourceError) as caught:
        await client.upload_file(UPLOAD_URL, 4_000_000, read_range)
    assert caught.value.code == "upload_source_mismatch"


async def test_read_range_may_be_a_coroutine_returning_an_iterator(
    make_client: MakeClient,
) -> None:
    video, host = FakeVideo(4_000_000), UploadHost(4_000_000)

    async def read_range(start: int, end: int) -> AsyncIterator[bytes]:
        return video.read_range(start, end)

    client = make_client(host)
    result = await client.upload_file(UPLOAD_URL, video.size, read_range)
    assert result.chunk_count == 1


async def test_storage_errors_propagate(make_client: MakeClient) -> None:
    async def read_range(start: int, end: int) -> AsyncIterator[bytes]:
        yield b"x" * 10
        raise OSError("disk on fire")

    client = make_client(UploadHost(4_000_000))
    with pytest.raises(OSError, match="disk on fire"):
        await client.upload_file(UPLOAD_URL, 4_000_000, read_range)


async def test_resume_from_an_offset(make_client: MakeClient) -> None:
    size = 70_000_000
    video, host = FakeVideo(size), UploadHost(size)
    client = make_client(host)
    await client.upload_file(UPLOAD_URL, size, video.read_range, start_offset=50_000_000)
    assert host.ranges == [
        "bytes 50000000-59999999/70000000",
        "bytes 60000000-69999999/70000000",
    ]
    with pytest.raises(ValueError, match="start_offset"):
        await client.upload_file(UPLOAD_URL, size, video.read_range, start_offset=5)


async def test_argument_checks(make_client: MakeClient) -> None:
    video = FakeVideo(4_000_000)
    client = make_client(UploadHost(4_000_000))
    with pytest.raises(ValueError, match="content_type"):
        await client.upload_file(UPLOAD_URL, video.size, video.read_range, content_type="video/avi")
    with pytest.raises(ValueError, match="different size"):
        await client.upload_file(
            UPLOAD_URL, video.size, video.read_range, plan=plan_chunks(5_000_000)
        )
    with pytest.raises(ValueError, match="video_size"):
        await client.upload_file(UPLOAD_URL, 0, video.read_range)


class StreamingTransport(httpx.AsyncBaseTransport):
    """Consumes the request body piece by piece, like a socket would."""

    def __init__(self) -> None:
        self.largest_piece = 0
        self.total = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        async for piece in request.stream:
            self.largest_piece = max(self.largest_piece, len(piece))
            self.total += len(piece)
        first, last = _range(request)
        size = int(request.headers["content-range"].split("/")[1])
        return httpx.Response(201 if last + 1 == size else 206)


async def test_chunks_are_streamed_not_buffered(make_client: MakeClient) -> None:
    size = 70_000_000
    video = FakeVideo(size)
    transport = StreamingTransport()
    client = make_client(lambda r: httpx.Response(500), transport=transport)
    await client.upload_file(UPLOAD_URL, size, video.read_range)
    assert transport.total == size
    assert transport.largest_piece == PIECE


async def test_a_416_with_no_progress_restarts_from_the_first_chunk(
    make_client: MakeClient,
) -> None:
    size = 70_000_000
    video = FakeVideo(size)
    host = UploadHost(size, script=[0, range_416("bytes */70000000")])
    client = make_client(host)
    result = await client.upload_file(UPLOAD_URL, size, video.read_range)
    assert host.ranges[1:3] == [
        "bytes 10000000-19999999/70000000",
        "bytes 0-9999999/70000000",
    ]
    assert result.resyncs == 1


async def test_a_416_at_our_own_offset_waits_and_resends_the_chunk(
    make_client: MakeClient, sleeps: Sleeps
) -> None:
    # E.g. an earlier attempt of the same chunk is still being received by TikTok.
    size = 70_000_000
    video = FakeVideo(size)
    busy = range_416("bytes 0-9999999/70000000")
    host = UploadHost(size, script=[0, busy, busy])
    client = make_client(host)
    result = await client.upload_file(UPLOAD_URL, size, video.read_range)
    assert host.ranges[1:4] == ["bytes 10000000-19999999/70000000"] * 3
    assert sleeps == [1.0, 2.0]
    assert result.resyncs == 2

    stuck = UploadHost(size, script=[0] + [busy] * 10)
    with pytest.raises(TikTokReinitRequired):
        await make_client(stuck, max_resyncs=2).upload_file(UPLOAD_URL, size, video.read_range)
    assert len(stuck.puts) == 4
