"""The upload host: signed, expiring upload URLs and strictly sequential chunk PUTs (§5.2–5.3).

A PUT is checked in two steps so the body never sits in memory: `begin_chunk` validates
the headers against the upload's progress and reserves the slot; the route streams the
body through a hash, then `commit_chunk` checks the real length and advances progress.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .chunks import parse_content_range, progress_header
from .errors import UploadError
from .models import Upload

ALLOWED_CONTENT_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm"})
# A chunk still "in flight" after this long was abandoned (its process died mid-PUT).
CHUNK_ABANDONED_SECONDS = 300.0


class UploadSigner:
    """`upload_token` = expiry + HMAC, so URLs cannot be guessed or have their expiry edited."""

    def __init__(self, secret: str) -> None:
        self._key = secret.encode()

    def token(self, upload_id: str, expires_at: float) -> str:
        expiry = str(int(expires_at))
        return f"{expiry}.{self._sign(upload_id, expiry)}"

    def is_genuine(self, upload_id: str, token: str) -> bool:
        expiry, _, signature = token.partition(".")
        return expiry.isdigit() and hmac.compare_digest(signature, self._sign(upload_id, expiry))

    def _sign(self, upload_id: str, expiry: str) -> str:
        message = f"{upload_id}.{expiry}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:40]


@dataclass(frozen=True)
class ChunkTicket:
    upload_id: str
    first: int
    last: int
    # The running SHA-256 including this chunk once streamed; None when the earlier chunks
    # were hashed by another process (hash state cannot be persisted): no digest then.
    hasher: Any | None

    @property
    def length(self) -> int:
        return self.last - self.first + 1


def begin_chunk(
    upload: Upload, headers: Mapping[str, str], now: float, hasher: Any | None
) -> ChunkTicket:
    """Check one PUT's headers against the plan and progress; reserve the upload for it.

    `hasher` is the running hash of the bytes received so far (None if unknown)."""
    total = upload.plan.video_size
    progress = progress_header(upload.received, total)
    if now >= upload.expires_at:
        raise UploadError(403, "upload_url has expired")
    if upload.received >= total:
        raise UploadError(416, "all bytes were already uploaded", progress)
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ALLOWED_CONTENT_TYPES:
        raise UploadError(400, "Content-Type must be video/mp4, video/quicktime or video/webm")
    parsed = parse_content_range(headers.get("content-range", ""))
    if parsed is None:
        raise UploadError(400, "Content-Range must be 'bytes first-last/total'")
    first, last, declared_total = parsed
    if declared_total != total:
        raise UploadError(400, "Content-Range total must equal video_size")
    declared_length = headers.get("content-length", "")
    if not declared_length.isdigit() or int(declared_length) != last - first + 1:
        raise UploadError(400, "Content-Length must equal the size of the Content-Range")
    started = upload.chunk_started_at
    if started is not None and now < started + CHUNK_ABANDONED_SECONDS:
        raise UploadError(416, "another chunk is still being uploaded", progress)
    if (first, last) != upload.plan.expected_chunk(upload.received):
        raise UploadError(416, "Content-Range does not match the upload progress", progress)
    upload.chunk_started_at = now
    return ChunkTicket(upload.upload_id, first, last, hasher.copy() if hasher else None)


def commit_chunk(upload: Upload, ticket: ChunkTicket, received_bytes: int) -> bool:
    """Advance progress if the body was as long as announced; True once the upload is whole."""
    upload.chunk_started_at = None
    if received_bytes != ticket.length:
        raise UploadError(
            400,
            "body length does not match Content-Length",
            progress_header(upload.received, upload.plan.video_size),
        )
    upload.received += received_bytes
    return upload.received >= upload.plan.video_size


def abort_chunk(upload: Upload) -> None:
    upload.chunk_started_at = None
