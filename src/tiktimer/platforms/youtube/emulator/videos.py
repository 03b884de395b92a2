"""Videos after their last byte: the resource YouTube returns and how processing ends (§8).

A video's verdict is decided when it is created (a scripted one first, then `duplicate`
for bytes the channel uploaded before, else processed) and shows once
`processing_seconds` have passed.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from .config import ClientConfig, EmulatorConfig
from .models import Grant, State, UploadSession, Video

ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
READ_SCOPES = frozenset(
    {
        "https://www.googleapis.com/auth/youtube.readonly",
        "https://www.googleapis.com/auth/youtube",
        "https://www.googleapis.com/auth/youtube.force-ssl",
        "https://www.googleapis.com/auth/youtubepartner",
    }
)
PROCESSING_FAILURES = {"failed": "transcodeFailed"}


def create_video(
    state: State, client: ClientConfig, grant: Grant, session: UploadSession, now: datetime
) -> Video:
    digest = hashlib.sha256(session.received).hexdigest()
    resource = {k: dict(v) for k, v in session.resource.items()}
    status = resource.setdefault("status", {})
    if client.unverified:
        status["privacyStatus"] = "private"  # the 2020 lock on unaudited projects
    else:
        status.setdefault("privacyStatus", "public")  # the 2026-11-02 default
    video = Video(
        id="".join(secrets.choice(ID_ALPHABET) for _ in range(11)),
        login=grant.login,
        project=client.project,
        resource=resource,
        size=session.total,
        digest=digest,
        uploaded_at=now,
        verdict=_verdict(state, grant.login, digest),
    )
    state.videos[video.id] = video
    session.video_id = video.id
    session.received = bytearray()  # the bytes live on in the digest only
    return video


def _verdict(state: State, login: str, digest: str) -> tuple[str, str | None]:
    if state.scripted_verdicts:
        return state.scripted_verdicts.pop(0)
    if any(v.login == login and v.digest == digest for v in state.videos.values()):
        return ("rejected", "duplicate")
    return ("processed", None)


def render(
    video: Video,
    parts: tuple[str, ...],
    config: EmulatorConfig,
    *,
    owner: bool,
    just_uploaded: bool = False,
) -> dict[str, Any]:
    """The resource as `parts` show it; the insert's own answer always says `uploaded`."""
    elapsed = (config.clock() - video.uploaded_at).total_seconds()
    done = not just_uploaded and elapsed >= config.processing_seconds
    body: dict[str, Any] = {"kind": "youtube#video", "etag": video.digest[:27], "id": video.id}
    if "snippet" in parts:
        snippet = dict(video.resource.get("snippet", {}))
        snippet["channelId"] = "UC" + hashlib.sha256(video.login.encode()).hexdigest()[:22]
        snippet["publishedAt"] = video.uploaded_at.isoformat().replace("+00:00", "Z")
        body["snippet"] = snippet
    if "status" in parts:
        body["status"] = _status(video, done, owner=owner)
    if "processingDetails" in parts and owner:
        body["processingDetails"] = _processing(video, done, config)
    return body


def _status(video: Video, done: bool, *, owner: bool) -> dict[str, Any]:
    status = dict(video.resource.get("status", {}))
    if not owner:
        status.pop("selfDeclaredMadeForKids", None)
    status["madeForKids"] = bool(status.get("selfDeclaredMadeForKids", False))
    verdict, reason = video.verdict
    if video.deleted:
        status["uploadStatus"] = "deleted"
    elif not done:
        status["uploadStatus"] = "uploaded"
    else:
        status["uploadStatus"] = verdict
        if verdict == "failed":
            status["failureReason"] = reason
        elif verdict == "rejected":
            status["rejectionReason"] = reason
    return status


def _processing(video: Video, done: bool, config: EmulatorConfig) -> dict[str, Any]:
    if not done:
        elapsed = (config.clock() - video.uploaded_at).total_seconds()
        left = max(config.processing_seconds - elapsed, 0.0)
        return {
            "processingStatus": "processing",
            "processingProgress": {
                "partsTotal": 1000,
                "partsProcessed": int(1000 * elapsed / max(config.processing_seconds, 1e-9)),
                "timeLeftMs": int(left * 1000),
            },
        }
    verdict = video.verdict[0]
    if verdict == "failed":
        return {"processingStatus": "failed", "processingFailureReason": "transcodeFailed"}
    if verdict == "rejected":
        return {"processingStatus": "terminated"}
    return {"processingStatus": "succeeded"}


def can_list(grant: Grant) -> bool:
    return bool(READ_SCOPES & set(grant.scopes))
