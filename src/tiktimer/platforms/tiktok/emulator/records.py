"""What tests read back: one record per request and per publication (JSON-ready snapshots)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from tiktimer.kit.offset_clock import to_datetime

from .enums import MediaType
from .lifecycle import StatusView
from .models import PublishTask


@dataclass(frozen=True)
class RequestRecord:
    """One call to a TikTok endpoint; the bearer token is kept only as a SHA-256 hex."""

    method: str
    path: str
    endpoint: str | None
    token_hash: str | None
    status: int | None  # None when the connection was dropped or hung
    at: datetime
    fault: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data


@dataclass(frozen=True)
class PublicationRecord:
    """One publish task as TikTok would see it, with its current status."""

    publish_id: str
    client_key: str
    creator_username: str
    creator_open_id: str
    media_type: str
    post_mode: str
    source: str
    # The text the audience reads: a video's title, a photo post's description (or title).
    caption: str | None
    title: str | None
    description: str | None
    privacy_level: str | None
    requested_privacy_level: str | None
    post_info: dict[str, Any]
    post_info_ignored: bool
    media_bytes: int
    media_sha256: str | None
    status: str
    fail_reason: str | None
    post_ids: tuple[int, ...]
    created_at: datetime
    completed_at: datetime | None
    # Seconds since this client last called creator_info for the creator (None = never).
    creator_info_age_seconds: float | None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["post_ids"] = list(self.post_ids)
        data["created_at"] = self.created_at.isoformat()
        data["completed_at"] = self.completed_at.isoformat() if self.completed_at else None
        return data


def publication_record(task: PublishTask, view: StatusView) -> PublicationRecord:
    text = task.title if task.media_type is MediaType.VIDEO else task.description
    return PublicationRecord(
        publish_id=task.publish_id,
        client_key=task.client_key,
        creator_username=task.username,
        creator_open_id=task.open_id,
        media_type=task.media_type.value,
        post_mode=task.mode.value,
        source=task.source.value,
        caption=text if text is not None else task.title,
        title=task.title,
        description=task.description,
        privacy_level=task.privacy_level.value if task.privacy_level else None,
        requested_privacy_level=(
            task.requested_privacy_level.value if task.requested_privacy_level else None
        ),
        post_info=dict(task.post_info),
        post_info_ignored=task.post_info_ignored,
        media_bytes=task.transferred_bytes,
        media_sha256=task.media_sha256,
        status=view.status.value,
        fail_reason=view.fail_reason,
        post_ids=view.post_ids,
        created_at=to_datetime(task.created_at),
        completed_at=to_datetime(view.completed_at) if view.completed_at else None,
        creator_info_age_seconds=task.creator_info_age,
    )
