"""The upload host: `PUT {upload_url}` with one chunk per request (§5.2–5.3).

The body is streamed through a SHA-256 and counted, never kept, so memory stays flat
however large the video; the shared state's lock is held only to check and to commit.
"""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ..chunks import progress_header
from ..emulator import Emulator
from ..endpoints import ENDPOINT_PATHS
from ..errors import UploadError
from ..uploads import ChunkTicket
from .common import emulator_of

router = APIRouter()


@router.put(ENDPOINT_PATHS["upload"])
async def put_chunk(request: Request) -> Response:
    """206 while chunks are missing, 201 after the last; bare statuses on refusal."""
    emulator = emulator_of(request)
    query = request.query_params
    try:
        async with emulator.synced():
            ticket = emulator.begin_chunk(
                query.get("upload_id", ""), query.get("upload_token", ""), request.headers
            )
    except UploadError:
        await _drain(request)
        raise
    received = 0
    hasher = ticket.hasher
    try:
        async for piece in request.stream():
            if hasher is not None:
                hasher.update(piece)
            received += len(piece)
    except BaseException:
        await _abort(emulator, ticket)
        raise
    async with emulator.synced():
        complete, so_far, total = emulator.commit_chunk(ticket, received)
    return Response(
        status_code=201 if complete else 206,
        headers={"Content-Range": progress_header(so_far, total)},
    )


async def _abort(emulator: Emulator, ticket: ChunkTicket) -> None:
    """Free the upload for the next PUT, even while this request is being cancelled."""
    if emulator.store is None:
        emulator.abort_chunk(ticket)
        return

    async def shared() -> None:
        async with emulator.synced():
            emulator.abort_chunk(ticket)

    with contextlib.suppress(Exception):  # a chunk left in flight expires by itself
        await asyncio.shield(shared())


async def _drain(request: Request) -> None:
    """Read a refused body to the end so the client gets the status, not a broken pipe."""
    async for _ in request.stream():
        pass
