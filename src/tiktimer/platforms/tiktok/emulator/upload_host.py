"""`UploadHost`: the emulated upload host's side of a chunk PUT, and the running hashes.

Hashes of chunked uploads live in memory only (see `Emulator`'s module doc), so they sit
here beside the chunk operations rather than in the snapshotted model.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from typing import Any

from tiktimer.kit.offset_clock import Clock

from .errors import UploadError
from .models import PublishTask
from .publishing import Publisher
from .uploads import ChunkTicket, abort_chunk, begin_chunk, commit_chunk


class UploadHost:
    """Begins, commits and aborts chunks of the publish tasks that expect an upload."""

    def __init__(self, publisher: Publisher, clock: Clock, lock: threading.RLock) -> None:
        self._publisher = publisher
        self._clock = clock
        self._lock = lock
        # upload_id -> (bytes hashed, running SHA-256)
        self._hashes: dict[str, tuple[int, Any]] = {}

    def clear(self) -> None:
        """Forget every running hash (a reset)."""
        self._hashes.clear()

    def begin_chunk(self, upload_id: str, token: str, headers: Mapping[str, str]) -> ChunkTicket:
        with self._lock:
            task = self._publisher.task_for_upload(upload_id, token)
            if task is None or task.upload is None:
                raise UploadError(404, "no valid upload task for this URL")
            upload = task.upload
            hashed, hasher = self._hashes.get(upload_id, (0, hashlib.sha256()))
            known = hasher if hashed == upload.received else None
            return begin_chunk(upload, headers, self._clock.now(), known)

    def commit_chunk(self, ticket: ChunkTicket, received_bytes: int) -> tuple[bool, int, int]:
        """Returns (complete, bytes received so far, total) for the 206/201 response."""
        with self._lock:
            task = self._upload_task(ticket.upload_id)
            upload = task.upload
            if upload is None:
                raise UploadError(404, "no valid upload task for this URL")
            complete = commit_chunk(upload, ticket, received_bytes)
            if ticket.hasher is not None:
                self._hashes[upload.upload_id] = (upload.received, ticket.hasher)
            if complete:
                task.transfer_done_at = self._clock.now()
                hashed = self._hashes.pop(upload.upload_id, None)
                task.media_sha256 = hashed[1].hexdigest() if hashed else None
            return complete, upload.received, upload.plan.video_size

    def abort_chunk(self, ticket: ChunkTicket) -> None:
        with self._lock:
            upload = self._upload_task(ticket.upload_id).upload
            if upload is not None:
                abort_chunk(upload)

    def _upload_task(self, upload_id: str) -> PublishTask:
        task = self._publisher.task_by_upload_id(upload_id)
        if task is None:
            raise UploadError(404, "no valid upload task for this URL")
        return task
