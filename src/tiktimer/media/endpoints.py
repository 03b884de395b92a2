"""`/api/v1/media`: upload, list, read, stream and delete the caller's media.

Resumable uploads (`/api/v1/media/uploads/…`) live in `upload_endpoints` and are included
here first, so their paths win over `/{media_id}`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from tiktimer.auth.dependencies import CurrentUser
from tiktimer.db.read import ReadDep
from tiktimer.db.session import SessionDep
from tiktimer.errors import NotFound
from tiktimer.kit.jsonresp import JSONBytes
from tiktimer.kit.openapi import errors, multipart_body
from tiktimer.kit.schemas import DbCount
from tiktimer.media import repository
from tiktimer.media.dependencies import MediaServiceDep, media_response
from tiktimer.media.errors import RangeNotSatisfiable
from tiktimer.media.ranges import Unsatisfiable, parse_range
from tiktimer.media.schemas import MediaRead
from tiktimer.media.upload_endpoints import router as uploads_router
from tiktimer.storage import ObjectNotFound, Storage

router = APIRouter(prefix="/api/v1/media", tags=["media"])
router.include_router(uploads_router)

MediaId = Annotated[str, Path(max_length=36)]
#: The body is read by the endpoint itself; this only documents it.
MULTIPART_FILE = multipart_body(["file"], {"file": {"type": "string", "format": "binary"}})

#: What the content route answers with: the probed type of the stored bytes.
_MEDIA_BYTES: dict[str, Any] = {
    kind: {"schema": {"type": "string", "format": "binary"}} for kind in ("video/*", "image/*")
}
#: The request headers the content route reads itself (documented, so clients and contract
#: tests know of them).
_CONDITIONAL_HEADERS: dict[str, Any] = {
    "parameters": [
        {"name": name, "in": "header", "required": False, "schema": {"type": "string"}}
        for name in ("Range", "If-Range", "If-None-Match")
    ]
}


@router.post(
    "",
    response_model=MediaRead,
    status_code=201,
    responses=errors(
        400,
        401,
        409,
        413,
        415,
        422,
        also={
            200: {
                "model": MediaRead,
                "description": "The same file was uploaded before: its record",
            }
        },
    ),
    openapi_extra=MULTIPART_FILE,
)
async def upload_media(
    request: Request, user: CurrentUser, session: SessionDep, media: MediaServiceDep
) -> Response:
    """Upload a video or image as multipart field `file`; not media → 422, too big → 413."""
    received = await media.receive(request, session, user.id)
    return media_response(received.media, received.created)


@router.get("", response_model=list[MediaRead], responses=errors(401, 422))
async def list_media(
    user: CurrentUser,
    connection: ReadDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[DbCount, Query()] = 0,
) -> Response:
    """The caller's media, newest first, as a JSON array; the total is in `X-Total-Count`."""
    items, total = await repository.list_owned(connection, user.id, limit=limit, offset=offset)
    return JSONBytes(items, headers={"X-Total-Count": str(total)})


@router.get("/{media_id}", response_model=MediaRead, responses=errors(401, 404, 422))
async def get_media(media_id: MediaId, user: CurrentUser, connection: ReadDep) -> Response:
    """One of the caller's media; another user's is 404."""
    item = await repository.get_owned(connection, user.id, media_id)
    if item is None:
        raise NotFound("Media not found")
    return JSONBytes(item)


@router.get(
    "/{media_id}/content",
    response_class=StreamingResponse,
    responses=errors(
        401,
        404,
        416,
        422,
        also={
            200: {"description": "The bytes", "content": _MEDIA_BYTES},
            206: {"description": "Partial content (`Content-Range`)", "content": _MEDIA_BYTES},
            304: {"description": "Not modified (`If-None-Match` matched the `ETag`)"},
        },
    ),
    openapi_extra=_CONDITIONAL_HEADERS,
)
async def media_content(
    media_id: MediaId,
    request: Request,
    user: CurrentUser,
    connection: ReadDep,
    media: MediaServiceDep,
) -> Response:
    """The bytes; honours `Range: bytes=a-b`, `a-` and `-n` (206), and `If-Range`."""
    item = await repository.content_of(connection, user.id, media_id)
    if item is None:
        raise NotFound("Media not found")
    size, etag = int(item["size"]), f'"{item["sha256"]}"'
    headers = {"Accept-Ranges": "bytes", "ETag": etag, "Cache-Control": "private, no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    range_header = request.headers.get("range")
    if request.headers.get("if-range", etag) != etag:
        range_header = None  # the client's copy is another version: send it all
    try:
        byte_range = parse_range(range_header, size)
    except Unsatisfiable:
        raise RangeNotSatisfiable(size) from None
    start, end = (0, size) if byte_range is None else (byte_range.start, byte_range.end)
    body = await _open(media.storage, str(item["storage_key"]), start, end)
    headers["Content-Length"] = str(end - start)
    if byte_range is not None:
        headers["Content-Range"] = byte_range.content_range(size)
    return StreamingResponse(
        body,
        status_code=200 if byte_range is None else 206,
        media_type=str(item["content_type"]),
        headers=headers,
    )


@router.delete("/{media_id}", status_code=204, responses=errors(401, 404, 409, 422))
async def delete_media(
    media_id: MediaId, user: CurrentUser, session: SessionDep, media: MediaServiceDep
) -> Response:
    """Delete media; one that a post scheduled or being published uses → 409."""
    key = await media.delete(session, user.id, media_id)
    # Background tasks run after the response, so after the commit: the object goes only
    # once no committed row points at it.
    return Response(status_code=204, background=BackgroundTask(media.remove_object, key))


async def _open(storage: Storage, key: str, start: int, end: int) -> AsyncIterator[bytes]:
    """Start reading now, so a missing object is a 404 rather than a broken 200."""
    pieces = storage.open_range(key, start, end)
    try:
        first = await anext(pieces, b"")
    except ObjectNotFound:
        await pieces.aclose()
        raise NotFound("Media content is missing from storage") from None
    return _chain(first, pieces)


async def _chain(first: bytes, pieces: AsyncGenerator[bytes, None]) -> AsyncIterator[bytes]:
    async with aclosing(pieces):
        yield first
        async for piece in pieces:
            yield piece
