"""The resumable upload protocol, server side: sessions, chunks, status queries (§3, §10).

A chunk must start exactly where the stored bytes end, so a client that restarts from
zero or skips ahead is refused, and `UploadSession.stored_ranges` proves each byte was
stored once.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .config import CHUNK_MULTIPLE, MAX_FILE_SIZE, ClientConfig, EmulatorConfig
from .errors import ApiError
from .models import Grant, State, UploadSession

INSERT_SCOPES = frozenset(
    {
        "https://www.googleapis.com/auth/youtube.upload",
        "https://www.googleapis.com/auth/youtube",
        "https://www.googleapis.com/auth/youtube.force-ssl",
        "https://www.googleapis.com/auth/youtubepartner",
    }
)
_RANGE = re.compile(r"bytes (?:(\d+)-(\d+)|\*)/(\d+)")
_DAY = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class ChunkHeaders:
    content_range: str | None
    content_length: int | None


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """308 with the stored range, or the session's finished video."""

    stored: int
    video_id: str | None = None


def require_insert_scope(grant: Grant) -> None:
    if not INSERT_SCOPES & set(grant.scopes):
        raise ApiError(403, "insufficientPermissions", "Request had insufficient scopes.")


def check_channel_cap(state: State, config: EmulatorConfig, login: str, now: datetime) -> None:
    """The channel's own cap, apart from the project's quota: 400, not 403 (§6.2)."""
    cap = config.channel_uploads_per_day
    if cap is None:
        return
    recent = [v for v in state.videos.values() if v.login == login and now - v.uploaded_at < _DAY]
    if len(recent) >= cap:
        raise ApiError(
            400,
            "uploadLimitExceeded",
            "The user has exceeded the number of videos they may upload.",
            domain="youtube.video",
        )


def read_upload_headers(headers: dict[str, str]) -> tuple[int, str]:
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ApiError(400, "badContent", "The metadata must be application/json.")
    raw_length = headers.get("x-upload-content-length", "")
    if not raw_length.isdigit() or not 0 < int(raw_length) <= MAX_FILE_SIZE:
        raise ApiError(400, "invalidValue", "X-Upload-Content-Length must be a positive size.")
    media_type = headers.get("x-upload-content-type", "").lower()
    if not (media_type.startswith("video/") or media_type == "application/octet-stream"):
        raise ApiError(400, "invalidValue", "X-Upload-Content-Type must be video/*.")
    return int(raw_length), media_type


def open_session(
    state: State,
    config: EmulatorConfig,
    grant: Grant,
    client: ClientConfig,
    resource: dict[str, Any],
    parts: tuple[str, ...],
    total: int,
    content_type: str,
) -> UploadSession:
    session = UploadSession(
        id=secrets.token_urlsafe(24),
        grant_id=grant.id,
        project=client.project,
        total=total,
        content_type=content_type,
        resource=resource,
        parts=parts,
        expires_at=config.clock() + timedelta(seconds=config.session_seconds),
    )
    state.sessions[session.id] = session
    return session


def live_session(state: State, config: EmulatorConfig, upload_id: str) -> UploadSession:
    session = state.sessions.get(upload_id)
    if session is None:
        raise ApiError(404, "notFound", "The upload session was not found.")
    if session.expires_at <= config.clock() and session.video_id is None:
        raise ApiError(config.expired_session_status, "notFound", "The upload session expired.")
    return session


def check_chunk(session: UploadSession, config: EmulatorConfig, head: ChunkHeaders) -> int | None:
    """The first byte the PUT's body carries, or None for a status query; refuses the rest."""
    if head.content_range is None:  # the whole file in one request
        if head.content_length != session.total or session.received:
            raise ApiError(400, "badContent", "A single-request upload must carry the file.")
        return 0
    match = _RANGE.fullmatch(head.content_range.strip())
    if match is None or int(match.group(3)) != session.total:
        raise ApiError(400, "badContent", "Invalid Content-Range for this session.")
    if match.group(1) is None:
        if head.content_length not in (0, None):
            raise ApiError(400, "badContent", "A status query carries no body.")
        return None
    first, last = int(match.group(1)), int(match.group(2))
    if last < first or last >= session.total or head.content_length != last - first + 1:
        raise ApiError(400, "badContent", "Content-Range and Content-Length disagree.")
    if first != len(session.received):
        raise ApiError(400, "badContent", f"The next byte expected is {len(session.received)}.")
    if config.strict_chunks and last + 1 < session.total and (last - first + 1) % CHUNK_MULTIPLE:
        raise ApiError(400, "badContent", "A non-final chunk must be a multiple of 262144 bytes.")
    return first


def store(session: UploadSession, first: int, body: bytes, *, complete: bool) -> None:
    """Append what arrived; a body cut short keeps whole 256 KiB blocks only."""
    if not complete:
        body = body[: len(body) - len(body) % CHUNK_MULTIPLE]
    if body:
        session.stored_ranges.append((first, first + len(body) - 1))
        session.received += body


def range_header(session: UploadSession) -> dict[str, str]:
    """308's Range header; none at all when nothing is stored yet (§3.2)."""
    if not session.received:
        return {}
    return {"Range": f"bytes=0-{len(session.received) - 1}"}
