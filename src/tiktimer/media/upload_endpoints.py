"""`/api/v1/media/uploads`: resumable uploads (tus 1.0 core) and `complete` (see `uploads`)."""

from __future__ import annotations

from email.utils import format_datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request, Response

from tiktimer.auth.dependencies import CurrentUser
from tiktimer.db.fairpool import fair_connect
from tiktimer.db.read import read_engine
from tiktimer.db.session import SessionDep
from tiktimer.errors import BadRequest
from tiktimer.idempotency import KEY_HEADER, Replayed, digest_of, idempotent_request
from tiktimer.kit.jsonresp import JSONBytes
from tiktimer.kit.openapi import errors
from tiktimer.kit.time import utc_now
from tiktimer.media.dependencies import MediaServiceDep, UploadsDep, media_response
from tiktimer.media.errors import PreconditionFailed, UnsupportedMediaType
from tiktimer.media.schemas import MediaRead, UploadSessionRead
from tiktimer.media.uploads import TUS_EXTENSIONS, TUS_VERSION, UploadSession
from tiktimer.media.uploads import parse_metadata as parse_upload_metadata

router = APIRouter(prefix="/uploads")

UploadId = Annotated[str, Path(max_length=32)]
OFFSET_OCTET_STREAM = "application/offset+octet-stream"


def _tus_version(tus_resumable: Annotated[str | None, Header()] = None) -> None:
    """A tus client must speak our version; clients that send no version are fine too."""
    if tus_resumable is not None and tus_resumable != TUS_VERSION:
        raise PreconditionFailed(
            f"Unsupported Tus-Resumable {tus_resumable!r}", {"Tus-Version": TUS_VERSION}
        )


TusDep = Depends(_tus_version)


def _headers(upload: UploadSession) -> dict[str, str]:
    headers = {
        "Tus-Resumable": TUS_VERSION,
        "Upload-Offset": str(upload.offset),
        "Upload-Expires": format_datetime(upload.expires_at, usegmt=True),
        "Cache-Control": "no-store",
    }
    if upload.length is not None:
        headers["Upload-Length"] = str(upload.length)
    return headers


def _body(upload: UploadSession) -> dict[str, object]:
    return UploadSessionRead(
        upload_id=upload.id,
        offset=upload.offset,
        length=upload.length,
        expires_at=upload.expires_at,
    ).model_dump(mode="json")


@router.options("", status_code=204)
async def upload_options(uploads: UploadsDep) -> Response:
    """tus discovery: version, extensions and the size limit."""
    headers = {
        "Tus-Resumable": TUS_VERSION,
        "Tus-Version": TUS_VERSION,
        "Tus-Extension": TUS_EXTENSIONS,
        "Tus-Max-Size": str(uploads.max_bytes),
    }
    return Response(status_code=204, headers=headers)


@router.post(
    "",
    response_model=UploadSessionRead,
    status_code=201,
    dependencies=[TusDep],
    responses=errors(400, 401, 412, 413, 422),
)
async def create_upload(
    request: Request,
    user: CurrentUser,
    uploads: UploadsDep,
    upload_length: Annotated[str | None, Header()] = None,
    upload_metadata: Annotated[str | None, Header()] = None,
) -> Response:
    """Start a resumable upload; `Upload-Length` (bytes) is optional, so is the metadata."""
    if upload_length is not None and not (
        upload_length.isascii() and upload_length.isdigit() and len(upload_length) <= 20
    ):
        raise BadRequest("Upload-Length must be a whole number of bytes")
    filename = parse_upload_metadata(upload_metadata).get("filename")
    length = int(upload_length) if upload_length is not None else None
    upload = await uploads.create(user.id, length=length, filename=filename)
    location = str(request.url_for("upload_status", upload_id=upload.id))
    headers = {**_headers(upload), "Location": location}
    return JSONBytes(_body(upload), status_code=201, headers=headers)


@router.head(
    "/{upload_id}",
    status_code=200,
    dependencies=[TusDep],
    response_class=Response,
    responses=errors(
        401,
        404,
        412,
        422,
        also={200: {"description": "No body: `Upload-Offset` (and `Upload-Length`) say it"}},
    ),
)
async def upload_offset(upload_id: UploadId, user: CurrentUser, uploads: UploadsDep) -> Response:
    """Where the upload stands (`Upload-Offset`), as tus clients ask before resuming."""
    upload = await uploads.status(user.id, upload_id, utc_now())
    return Response(status_code=200, headers=_headers(upload))


@router.get(
    "/{upload_id}",
    response_model=UploadSessionRead,
    name="upload_status",
    responses=errors(401, 404, 422),
)
async def upload_status(upload_id: UploadId, user: CurrentUser, uploads: UploadsDep) -> Response:
    """Where the upload stands, as JSON."""
    upload = await uploads.status(user.id, upload_id, utc_now())
    return JSONBytes(_body(upload), headers=_headers(upload))


@router.patch(
    "/{upload_id}",
    status_code=204,
    dependencies=[TusDep],
    responses=errors(400, 401, 404, 409, 412, 413, 415, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {OFFSET_OCTET_STREAM: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def append_upload(
    upload_id: UploadId,
    request: Request,
    user: CurrentUser,
    uploads: UploadsDep,
    upload_offset: Annotated[int, Header(ge=0)],
) -> Response:
    """Append the body (`application/offset+octet-stream`) at `Upload-Offset`; wrong → 409."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != OFFSET_OCTET_STREAM:
        raise UnsupportedMediaType(f"Send the chunk as {OFFSET_OCTET_STREAM}")
    upload = await uploads.append(user.id, upload_id, upload_offset, request, utc_now())
    return Response(status_code=204, headers=_headers(upload))


@router.delete(
    "/{upload_id}",
    status_code=204,
    dependencies=[TusDep],
    responses=errors(401, 404, 409, 412, 422),
)
async def delete_upload(upload_id: UploadId, user: CurrentUser, uploads: UploadsDep) -> Response:
    """Abandon the upload and its bytes."""
    await uploads.delete(user.id, upload_id, utc_now())
    return Response(status_code=204, headers={"Tus-Resumable": TUS_VERSION})


@router.post(
    "/{upload_id}/complete",
    response_model=MediaRead,
    status_code=201,
    responses=errors(
        401,
        404,
        409,
        422,
        also={
            200: {
                "model": MediaRead,
                "description": "The same file was uploaded before: its record",
            }
        },
    ),
)
async def complete_upload(
    upload_id: UploadId,
    user: CurrentUser,
    session: SessionDep,
    uploads: UploadsDep,
    media: MediaServiceDep,
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=KEY_HEADER,
            max_length=255,
            description="Completing again with the same key within 24 hours returns the "
            "first answer; the same key for another upload → 422",
        ),
    ] = None,
) -> Response:
    """Turn the finished upload into media, as `POST /api/v1/media` does; incomplete → 409."""
    key = idempotent_request(
        idempotency_key, user_id=user.id, scope="media.complete", digest=digest_of(upload_id)
    )
    try:
        if key is not None:  # a used upload is gone: a retry is answered from the key
            async with fair_connect(read_engine(request)) as read:
                await key.replay_if_known(read)
        async with uploads.completed(user.id, upload_id, utc_now(), session) as received:
            media_id, created = await media.ingest(session, user.id, received)
            if key is not None:  # after the upload's own claim: one writer at a time
                await key.take(session)
    except Replayed as replay:
        return replay.response()
    response = media_response(await media.read(session, user.id, media_id), created)
    return response if key is None else await key.remember(session, response)
