"""Media as the API shows it. Storage keys and owners stay inside."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from tiktimer.kit.schemas import Schema


class VerdictRead(Schema):
    ok: bool = Field(description="Whether TikTok's published limits accept the file")
    reasons: list[str] = Field(description="One plain sentence per limit it breaks")


class MediaRead(Schema):
    id: str
    size: int = Field(description="Bytes")
    sha256: str = Field(description="Hex SHA-256 of the bytes, also the content's ETag")
    content_type: str = Field(description="From the probed format, never from the client")
    kind: Literal["video", "image"]
    original_filename: str | None
    probe: dict[str, Any] = Field(
        description="What FFmpeg read from the file: container, codec, width, height, "
        "frame_rate, duration_sec, …"
    )
    verdict: VerdictRead
    status: Literal["ready"]
    created_at: datetime


class UploadSessionRead(Schema):
    upload_id: str
    offset: int = Field(description="Bytes received so far: send the next chunk from here")
    length: int | None = Field(description="Declared total size, if one was given")
    expires_at: datetime = Field(description="Abandoned after this, counted from the last chunk")
