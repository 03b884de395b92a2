"""The media library: uploads with their posters, probe facts and TikTok's verdict; delete.

Deleting calls `MediaService.delete`, which refuses media that a scheduled post uses.
A poster that is missing (media uploaded before posters existed, or deleted since) is
answered with a neutral picture, so no page shows a broken image; another user's media
is a 404.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.background import BackgroundTask
from starlette.responses import Response

from tiktimer.db.read import ReadDep
from tiktimer.db.session import SessionDep
from tiktimer.errors import NotFound, TiktimerError
from tiktimer.media import repository as media_repository
from tiktimer.media.endpoints import MediaId, media_content
from tiktimer.web.deps import MediaServiceDep
from tiktimer.web.reads import media_of
from tiktimer.web.render import render
from tiktimer.web.session import APP_PATH, CsrfChecked, WebUser

router = APIRouter(prefix=APP_PATH)


@router.get("/media")
async def library_page(
    request: Request, user: WebUser, session: SessionDep, error: str | None = None
) -> Response:
    items = await media_of(request, user, limit=200)
    return await render(request, "media.html", user=user, session=session, items=items, error=error)


@router.get("/media/{media_id}/content")
async def media_bytes(
    media_id: MediaId,
    request: Request,
    user: WebUser,
    connection: ReadDep,
    media: MediaServiceDep,
) -> Response:
    """The bytes for the page's player: `GET /api/v1/media/{id}/content` with the session."""
    return await media_content(media_id, request, user, connection, media)


@router.get("/media/{media_id}/thumbnail")
async def media_poster(
    media_id: MediaId, user: WebUser, connection: ReadDep, media: MediaServiceDep
) -> Response:
    """The poster frame made on upload (`media.thumbnails`), for the library, composer and
    calendar."""
    item = await media_repository.owned_any_status(connection, user.id, media_id)
    if item is None:
        raise NotFound("Media not found")  # another user's media is as good as none
    poster = await media.poster(str(item["storage_key"])) if item["status"] == "ready" else None
    if poster is None:
        return RedirectResponse(f"{APP_PATH}/static/no-poster.svg", status_code=302)
    headers = {"Cache-Control": "private, max-age=86400", "ETag": f'"p-{item["sha256"]}"'}
    return Response(poster, media_type="image/jpeg", headers=headers)


@router.post("/media/{media_id}/delete", dependencies=[CsrfChecked])
async def delete_media(
    media_id: MediaId, user: WebUser, session: SessionDep, media: MediaServiceDep
) -> Response:
    try:
        key = await media.delete(session, user.id, media_id)
    except TiktimerError as exc:
        await session.rollback()
        return RedirectResponse(f"{APP_PATH}/media?error={quote(str(exc.detail))}", status_code=303)
    # After the response, so after the commit: as `DELETE /api/v1/media/{id}` does.
    return RedirectResponse(
        APP_PATH + "/media", status_code=303, background=BackgroundTask(media.remove_object, key)
    )
