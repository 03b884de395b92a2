"""`PullTracker`: PULL_FROM_URL downloads' progress and outcome, written into the model.

Downloads run in the process that took the init; their outcome is committed to the shared
state, so every process sees a pull end the same way.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from functools import partial

from tiktimer.kit.offset_clock import Clock

from .enums import FailReason, MediaType
from .models import PublishTask
from .publishing import Publisher
from .pulls import Downloads

log = logging.getLogger("tiktimer.sandbox")

PULL_RESULT_RETRIES = 6


class PullTracker:
    """Starts a task's download and applies what it reports back."""

    def __init__(
        self,
        publisher: Publisher,
        clock: Clock,
        lock: threading.RLock,
        downloads: Downloads,
        synced: Callable[[], AbstractAsyncContextManager[None]],
    ) -> None:
        self._publisher = publisher
        self._clock = clock
        self._lock = lock
        self._downloads = downloads
        self._synced = synced

    def start(self, task: PublishTask) -> None:
        """Download in this process only (the one that took the init); tasks are looked up
        by id each time, since a reload replaces the model's objects."""
        if task.pull_urls:
            self._downloads.start(
                task.publish_id,
                task.pull_urls,
                on_bytes=partial(self._pulled, task.publish_id),
                on_finished=partial(self._finished, task.publish_id),
            )

    def _pulled(self, publish_id: str, count: int) -> bool:
        """Progress, in this process's model (committed with the next operation)."""
        with self._lock:
            task = self._publisher.task(publish_id)
            if task is None or task.failed_at is not None:
                return False
            task.downloaded_bytes += count
            return True

    async def _finished(self, publish_id: str, succeeded: bool, total: int) -> None:
        """The download's outcome, committed to the shared state (retried while it is down)."""
        for attempt in range(PULL_RESULT_RETRIES):
            try:
                async with self._synced():
                    self._apply(publish_id, succeeded, total)
                return
            except Exception as exc:
                log.warning(
                    "sandbox.pull.result_not_saved publish_id=%s attempt=%d error=%s",
                    publish_id,
                    attempt + 1,
                    type(exc).__name__,
                )
                await asyncio.sleep(0.5 * 2**attempt)

    def _apply(self, publish_id: str, succeeded: bool, total: int) -> None:
        with self._lock:
            task = self._publisher.task(publish_id)
            if task is None:
                return
            now = self._clock.now()
            if not succeeded:
                photo = task.media_type is MediaType.PHOTO
                reason = FailReason.PHOTO_PULL_FAILED if photo else FailReason.VIDEO_PULL_FAILED
                self._publisher.fail(task, reason, now)
            elif task.failed_at is None:
                task.downloaded_bytes = max(task.downloaded_bytes, total)
                task.transfer_done_at = now
