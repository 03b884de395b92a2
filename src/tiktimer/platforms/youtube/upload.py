"""`ResumableUpload`: the bytes of one session, chunk by chunk, resumed where YouTube's copy
ends (youtube-api.md §3.2–3.4).

After any doubt (a broken connection, a 5xx, a lost reply) the next request is the status
query `Content-Range: bytes */TOTAL`: the 308's `Range` says where to continue, and a
201 says the video already exists. The client's own count is never trusted and the upload
never restarts from zero, so each byte is stored once and at most one video is created.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterable, Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx

from tiktimer.kit.backoff import Backoff
from tiktimer.platforms.contract import ErrorKind
from tiktimer.platforms.youtube.errors import (
    RETRIABLE_STATUS,
    YouTubeError,
    api_error,
    network_error,
)
from tiktimer.platforms.youtube.schemas import UploadedVideo

logger = logging.getLogger("tiktimer.platforms.youtube.upload")

CHUNK_MULTIPLE = 256 * 1024
DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024
DEFAULT_BACKOFF = Backoff(initial=1.0, factor=2.0, maximum=64.0, jitter=1.0)
_RANGE = re.compile(r"bytes=0-(\d+)")

ReadRange = Callable[[int, int], AsyncIterable[bytes]]
"""`read_range(start, end_exclusive)`: a storage read of that range, streamed."""


def check_chunk_size(chunk_size: int) -> int:
    if chunk_size <= 0 or chunk_size % CHUNK_MULTIPLE:
        raise ValueError("the chunk size must be a positive multiple of 256 KiB (262144)")
    return chunk_size


class ResumableUpload:
    """One session URI's upload; `run(offset=None)` asks the session first (resume)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        session_uri: str,
        *,
        access_token: str,
        size: int,
        content_type: str,
        read_range: ReadRange,
        chunk_size: int,
        backoff: Backoff,
        max_retries: int,
        sleep: Callable[[float], Awaitable[None]],
        clock: Callable[[], datetime],
    ) -> None:
        self.http, self.session_uri, self.size = http, session_uri, size
        self._token, self.content_type, self.read_range = access_token, content_type, read_range
        self.chunk_size = check_chunk_size(chunk_size)
        self.backoff, self.max_retries, self.sleep, self.clock = backoff, max_retries, sleep, clock
        self.bytes_sent = 0

    async def run(self, offset: int | None = 0) -> UploadedVideo:
        """Send from `offset` (None: ask the session where it stands first)."""
        failures = 0
        while True:
            try:
                if offset is None:
                    response = await self._put(b"", f"bytes */{self.size}")
                else:
                    response = await self._send_chunk(offset)
            except httpx.TransportError as error:
                failures = await self._after_failure(failures, network_error("chunk", error))
                offset = None
                continue
            if response.status_code == 308:
                reached = self._stored(response)
                if offset is not None and reached <= offset:
                    stalled = YouTubeError(
                        ErrorKind.retry,
                        "YouTube stored none of the upload's last chunk; trying again later.",
                        stage="chunk",
                        status=308,
                    )
                    failures = await self._after_failure(failures, stalled)
                elif offset is not None:
                    failures = 0  # progress: the retry budget is for failures in a row
                offset = reached
                continue
            if response.status_code in (200, 201):
                return self._finished(response)
            refused = api_error(response, "chunk", self.clock())
            if response.status_code not in RETRIABLE_STATUS:
                raise refused
            failures = await self._after_failure(failures, refused)
            offset = None

    async def _send_chunk(self, offset: int) -> httpx.Response:
        end = min(offset + self.chunk_size, self.size)  # exclusive
        content = self.read_range(offset, end)
        response = await self._put(content, f"bytes {offset}-{end - 1}/{self.size}", end - offset)
        self.bytes_sent += end - offset
        return response

    async def _put(
        self, content: bytes | AsyncIterable[bytes], content_range: str, length: int = 0
    ) -> httpx.Response:
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Content-Length": str(length),
            "Content-Range": content_range,
        }
        if length:
            headers["Content-Type"] = self.content_type
        return await self.http.put(self.session_uri, content=content, headers=headers)

    def _stored(self, response: httpx.Response) -> int:
        """The next byte to send: after the 308's Range, or 0 when it has none."""
        header = response.headers.get("range")
        if header is None:
            return 0
        match = _RANGE.fullmatch(header.strip())
        if match is None or int(match.group(1)) >= self.size:
            raise YouTubeError(
                ErrorKind.retry,
                "YouTube answered the upload with an unreadable Range; trying again later.",
                stage="chunk",
                status=308,
            )
        return int(match.group(1)) + 1

    async def _after_failure(self, failures: int, error: YouTubeError) -> int:
        if failures >= self.max_retries:
            raise error
        delay = self.backoff.delay(failures)
        logger.warning(
            "youtube.upload.retry stage=%s status=%s reason=%s delay=%.1f",
            error.stage,
            error.status,
            error.reason,
            delay,
        )
        await self.sleep(delay)
        return failures + 1

    def _finished(self, response: httpx.Response) -> UploadedVideo:
        body: dict[str, Any] = response.json()
        status = body.get("status") or {}
        return UploadedVideo(
            video_id=str(body["id"]),
            privacy_status=status.get("privacyStatus"),
            upload_status=status.get("uploadStatus"),
            bytes_sent=self.bytes_sent,
        )
