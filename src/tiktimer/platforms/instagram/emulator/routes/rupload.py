"""The upload host (rupload.facebook.com, §4.3): `POST /ig-api-upload/{ver}/{container-id}`
with the file's bytes, and the emulator's `GET` for the received offset (§13.6)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from ..endpoints import graph_segments
from ..errors import invalid_parameter
from .common import emulator_of

router = APIRouter()


@router.post("/ig-api-upload/{path:path}")
async def upload(request: Request, path: str) -> Response:
    container_id = _container_id(path)
    try:
        body = await emulator_of(request).rupload(container_id, request.headers, _body(request))
    except ClientDisconnect:
        return Response(status_code=400)  # nobody is listening any more
    return JSONResponse(body)


@router.get("/ig-api-upload/{path:path}")
async def offset(request: Request, path: str) -> Response:
    body = await emulator_of(request).rupload_offset(_container_id(path), request.headers)
    return JSONResponse(body)


def _container_id(path: str) -> str:
    _, parts = graph_segments(path)  # with or without the version segment (§4.3)
    if len(parts) != 1:
        raise invalid_parameter("Use the uri the container's creation returned.")
    return parts[0]


async def _body(request: Request) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        if chunk:
            yield chunk
