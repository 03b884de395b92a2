"""What the client hands back: tokens, a session, a video's processing state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class TokenSet:
    """Google's token response. `refresh_token` is None on a refresh: keep the stored one."""

    access_token: str = field(repr=False)
    expires_at: datetime
    scopes: tuple[str, ...]
    refresh_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class VideoMetadata:
    """The `snippet` and `status` of a new upload (limits are checked by `metadata.py`)."""

    title: str
    description: str = ""
    tags: tuple[str, ...] = ()
    category_id: str | None = None
    privacy_status: str = "private"
    made_for_kids: bool = False
    contains_synthetic_media: bool = False
    notify_subscribers: bool = True

    def resource(self) -> dict[str, Any]:
        snippet: dict[str, Any] = {"title": self.title, "description": self.description}
        if self.tags:
            snippet["tags"] = list(self.tags)
        if self.category_id is not None:
            snippet["categoryId"] = self.category_id
        status = {
            "privacyStatus": self.privacy_status,
            "selfDeclaredMadeForKids": self.made_for_kids,
            "containsSyntheticMedia": self.contains_synthetic_media,
        }
        return {"snippet": snippet, "status": status}


@dataclass(frozen=True, slots=True)
class UploadedVideo:
    video_id: str
    privacy_status: str | None  # read back: an unaudited project's upload may be private
    upload_status: str | None
    bytes_sent: int  # bytes of the chunks YouTube answered (what an earlier try stored is not)


@dataclass(frozen=True, slots=True)
class VideoState:
    """One `videos.list` reading of status and processingDetails."""

    video_id: str
    upload_status: str | None  # uploaded | processed | failed | rejected | deleted
    processing_status: str | None  # processing | succeeded | failed | terminated
    failure_reason: str | None = None
    rejection_reason: str | None = None
    privacy_status: str | None = None

    @property
    def finished(self) -> bool:
        return self.upload_status in ("processed", "failed", "rejected", "deleted")
