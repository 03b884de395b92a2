"""Dependency aliases of the media endpoints, and the one way a media record is answered."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from tiktimer.media.schemas import MediaRead
from tiktimer.media.service import MediaService
from tiktimer.media.uploads import UploadSessions


def _service(request: Request) -> MediaService:
    service: MediaService = request.app.state.media_service
    return service


def _uploads(request: Request) -> UploadSessions:
    uploads: UploadSessions = request.app.state.upload_sessions
    return uploads


MediaServiceDep = Annotated[MediaService, Depends(_service)]
UploadsDep = Annotated[UploadSessions, Depends(_uploads)]


def media_response(media: MediaRead, created: bool) -> Response:
    """201 with a new record; 200 with the existing one when the same file came again."""
    return Response(
        media.model_dump_json(), status_code=201 if created else 200, media_type="application/json"
    )
