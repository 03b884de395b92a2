"""`ChunkUploader`: PUTs a video to its upload URL chunk by chunk, streaming each one.

The one place the client retries on its own: TikTok documents that a 5xx chunk must be
sent again, and a 416 tells where the host's copy stands, so the upload resumes there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from tiktimer.kit.backoff import Backoff
from tiktimer.kit.instruments import platform_call
from tiktimer.platforms.tiktok.api.calls import TikTokApi
from tiktimer.platforms.tiktok.api.chunk_responses import (
    ReadRange,
    chunk_stream,
    resync_index,
    upload_failure,
)
from tiktimer.platforms.tiktok.api.responses import network_error
from tiktimer.platforms.tiktok.chunks import Chunk, ChunkPlan, plan_chunks
from tiktimer.platforms.tiktok.errors import TikTokReinitRequired, TikTokRetryableError
from tiktimer.platforms.tiktok.schemas import UploadResult

logger = logging.getLogger("tiktimer.platforms.tiktok.client")

UPLOAD_CONTENT_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm"})
DEFAULT_CHUNK_BACKOFF = Backoff(initial=1.0, factor=2.0, maximum=30.0, jitter=0.2)


@dataclass
class _Progress:
    """Where one upload stands: the chunk to send next and what it took so far."""

    index: int
    attempt: int = 0
    retries: int = 0
    resyncs: int = 0
    log_id: str | None = None

    def move_to(self, index: int) -> None:
        self.index, self.attempt = index, 0

    def result(self, plan: ChunkPlan) -> UploadResult:
        return UploadResult(
            uploaded_bytes=plan.video_size,
            chunk_count=plan.total_chunk_count,
            chunk_retries=self.retries,
            resyncs=self.resyncs,
            log_id=self.log_id,
        )


def _start_index(
    size: int, content_type: str, plan: ChunkPlan | None, start_offset: int
) -> tuple[ChunkPlan, int]:
    """The plan to follow and the chunk to start at, refusing arguments TikTok would."""
    if content_type not in UPLOAD_CONTENT_TYPES:
        raise ValueError(f"content_type must be one of {sorted(UPLOAD_CONTENT_TYPES)}")
    plan = plan or plan_chunks(size)
    if plan.video_size != size:
        raise ValueError("the chunk plan is for a different size")
    index = plan.index_at(start_offset)
    if index is None or index >= plan.total_chunk_count:
        raise ValueError("start_offset must be the start of a chunk")
    return plan, index


class ChunkUploader:
    """Sends the chunks of one plan in order, retrying and resynchronising as TikTok asks."""

    def __init__(
        self,
        api: TikTokApi,
        *,
        timeout: httpx.Timeout | float,
        attempts: int,
        backoff: Backoff,
        max_resyncs: int,
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self._api = api
        self._timeout = timeout
        self._attempts = attempts
        self._backoff = backoff
        self._max_resyncs = max_resyncs
        self._sleep = sleep

    async def upload(
        self,
        upload_url: str,
        size: int,
        read_range: ReadRange,
        *,
        content_type: str,
        plan: ChunkPlan | None,
        start_offset: int,
    ) -> UploadResult:
        """Every chunk from ``start_offset`` on; see ``TikTokClient.upload_file``."""
        plan, index = _start_index(size, content_type, plan, start_offset)
        progress = _Progress(index)
        while progress.index < plan.total_chunk_count:
            chunk = plan.chunk(progress.index)
            failure = await self._send(upload_url, plan, chunk, read_range, content_type, progress)
            if failure is not None:
                await self._retry_or_raise(failure, chunk, progress)
        # Past the last chunk: its 2xx came, or a 416 revealed TikTok already holds every
        # byte (our final 201 was lost).
        return progress.result(plan)

    async def _send(
        self,
        upload_url: str,
        plan: ChunkPlan,
        chunk: Chunk,
        read_range: ReadRange,
        content_type: str,
        progress: _Progress,
    ) -> TikTokRetryableError | None:
        """One PUT of ``chunk``; moves ``progress`` on, or returns the retryable failure."""
        try:
            response = await self._put_chunk(upload_url, chunk, read_range, content_type)
        except httpx.RequestError as exc:
            return network_error(exc, "upload.chunk", idempotent=False)
        progress.log_id = response.headers.get("x-tt-logid") or progress.log_id
        status = response.status_code
        logger.debug(
            "tiktok.upload.chunk_sent chunk=%d/%d status=%d",
            chunk.index + 1,
            plan.total_chunk_count,
            status,
        )
        is_last = chunk.index == plan.total_chunk_count - 1
        if status == 206 and not is_last:
            progress.move_to(chunk.index + 1)
        elif status in (200, 201) and is_last:
            progress.move_to(plan.total_chunk_count)
        elif status == 416:
            await self._resync(response, plan, chunk, progress)
        else:
            return upload_failure(response, chunk, is_last, progress.log_id)
        return None

    async def _resync(
        self, response: httpx.Response, plan: ChunkPlan, chunk: Chunk, progress: _Progress
    ) -> None:
        """Continue from the chunk TikTok's progress header names, or give the upload up."""
        progress.resyncs += 1
        target = resync_index(response, plan)
        if progress.resyncs > self._max_resyncs or target is None:
            raise TikTokReinitRequired(
                "the upload is out of sync with TikTok and cannot be resumed",
                code="upload_out_of_sync",
                log_id=progress.log_id,
                http_status=416,
                uploaded_bytes=chunk.start,
            )
        logger.info("tiktok.upload.resync from_chunk=%d to_chunk=%d", chunk.index + 1, target + 1)
        if target == chunk.index:
            # TikTok's progress is where we are, yet it refused: an earlier attempt of this
            # chunk may still be in flight there. Wait, resend.
            await self._sleep(self._backoff.delay(progress.resyncs - 1))
        progress.move_to(target)

    async def _retry_or_raise(
        self, failure: TikTokRetryableError, chunk: Chunk, progress: _Progress
    ) -> None:
        """Wait before sending ``chunk`` again, or raise once its attempts are spent."""
        progress.attempt += 1
        if progress.attempt >= self._attempts:
            failure.uploaded_bytes = chunk.start
            logger.warning(
                "tiktok.upload.chunk_failed chunk=%d attempts=%d code=%s log_id=%s",
                chunk.index + 1,
                progress.attempt,
                failure.code,
                failure.log_id,
            )
            raise failure
        progress.retries += 1
        delay = max(failure.retry_after or 0.0, self._backoff.delay(progress.attempt - 1))
        logger.info(
            "tiktok.upload.chunk_retry chunk=%d attempt=%d delay=%.1f code=%s",
            chunk.index + 1,
            progress.attempt,
            delay,
            failure.code,
        )
        await self._sleep(delay)

    async def _put_chunk(
        self, upload_url: str, chunk: Chunk, read_range: ReadRange, content_type: str
    ) -> httpx.Response:
        body = chunk_stream(read_range, chunk)
        started, result = time.perf_counter(), "network"
        try:
            response = await self._api.send(
                "PUT",
                upload_url,
                lane="upload",
                request_timeout=self._timeout,
                content=body,
                headers={
                    "Content-Type": content_type,
                    "Content-Length": str(chunk.length),
                    "Content-Range": chunk.content_range,
                },
            )
            result = "ok" if response.is_success else "failed"
            return response
        finally:
            platform_call("tiktok", "upload.chunk", result, time.perf_counter() - started)
            await body.aclose()
