"""What the upload host's answers to a chunk PUT mean, and the chunk body we stream to it.

Kept apart from the upload loop: these are pure readings of one response (or one
``read_range``), testable without a loop around them.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable

import httpx

from tiktimer.platforms.tiktok.api.responses import retry_after
from tiktimer.platforms.tiktok.chunks import Chunk, ChunkPlan
from tiktimer.platforms.tiktok.errors import (
    TikTokReinitRequired,
    TikTokRejected,
    TikTokRetryableError,
    TikTokUnexpectedResponse,
    TikTokUploadSourceError,
    error_for_code,
)

ReadRange = Callable[[int, int], Awaitable[AsyncIterable[bytes]] | AsyncIterable[bytes]]
"""``read_range(start, end_exclusive)``: the bytes of that range as an async iterable
(an async generator function, or a coroutine function returning an async iterator)."""

_CONTENT_RANGE_RE = re.compile(r"\s*bytes\s+(?:\d+-(\d+)|\*)/(\d+|\*)\s*", re.IGNORECASE)


def resync_index(response: httpx.Response, plan: ChunkPlan) -> int | None:
    """Chunk index to continue from, read from the upload host's ``Content-Range:
    bytes 0-{N}/{total}`` progress header.

    Whether N counts bytes or is the last byte's index is undocumented (reference
    §5.3/§11.12). Chunks are accepted whole, so TikTok's progress is a chunk boundary:
    of the two readings (N and N + 1 bytes) exactly one is a boundary, which settles it.
    ``bytes */total`` reads as "nothing yet" (restarting is safe: resyncs are bounded).
    """
    match = _CONTENT_RANGE_RE.fullmatch(response.headers.get("content-range", ""))
    if not match:
        return None
    if match.group(2) != "*" and int(match.group(2)) != plan.video_size:
        return None
    if match.group(1) is None:  # "bytes */total": no byte received yet
        return 0
    reported = int(match.group(1))
    indices = {plan.index_at(reported), plan.index_at(reported + 1)} - {None}
    if len(indices) != 1:
        return None
    return indices.pop()


def upload_failure(
    response: httpx.Response, chunk: Chunk, is_last: bool, log_id: str | None
) -> TikTokRetryableError:
    """Map a non-progress chunk response: return a retryable error, raise the rest."""
    status = response.status_code
    where = f"chunk {chunk.index + 1} ({chunk.content_range})"
    if status in (403, 404):
        raise TikTokReinitRequired(
            "the upload URL has expired" if status == 403 else "TikTok has no upload task here",
            code="upload_url_expired" if status == 403 else "upload_not_found",
            log_id=log_id,
            http_status=status,
            uploaded_bytes=chunk.start,
        )
    if status >= 500 or status in (408, 429):
        error = error_for_code(
            None,
            f"TikTok upload host answered {status} to {where}",
            http_status=status,
            log_id=log_id,
            retry_after=retry_after(response),
            maybe_applied=True,
        )
        assert isinstance(error, TikTokRetryableError)
        return error
    if response.is_success:
        raise TikTokUnexpectedResponse(
            f"TikTok answered {status} to {where}, which is {'' if is_last else 'not '}the last",
            code="unexpected_response",
            log_id=log_id,
            http_status=status,
            uploaded_bytes=chunk.start,
        )
    raise TikTokRejected(
        f"TikTok upload host refused {where} with HTTP {status}",
        code="upload_rejected",
        hint="headers do not match the chunk plan sent at init (client bug)"
        if status == 400
        else None,
        log_id=log_id,
        http_status=status,
        uploaded_bytes=chunk.start,
    )


async def chunk_stream(read_range: ReadRange, chunk: Chunk) -> AsyncGenerator[bytes, None]:
    """The chunk's bytes from ``read_range``, checked against the declared length."""
    source = read_range(chunk.start, chunk.end)
    iterable: AsyncIterable[bytes] = await source if inspect.isawaitable(source) else source
    iterator = aiter(iterable)
    sent = 0
    try:
        async for piece in iterator:
            if not piece:
                continue
            sent += len(piece)
            if sent > chunk.length:
                break
            yield bytes(piece)
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()
    if sent != chunk.length:
        raise TikTokUploadSourceError(
            f"read_range({chunk.start}, {chunk.end}) produced "
            f"{'more' if sent > chunk.length else 'fewer'} than {chunk.length} bytes",
            code="upload_source_mismatch",
            uploaded_bytes=chunk.start,
        )
