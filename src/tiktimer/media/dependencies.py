"""Dependency aliases of the media endpoints, and the one way a media record is answered."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Response

from tiktimer.kit.state import provided
from tiktimer.media.schemas import MediaRead
from tiktimer.media.service import MediaService
from tiktimer.media.uploads import UploadSessions

MediaServiceDep = Annotated[MediaService, Depends(provided(MediaService))]
UploadsDep = Annotated[UploadSessions, Depends(provided(UploadSessions))]


def media_response(media: MediaRead, created: bool) -> Response:
    """201 with a new record; 200 with the existing one when the same file came again."""
    return Response(
        media.model_dump_json(), status_code=201 if created else 200, media_type="application/json"
    )
