"""`POST /api/v1/posts/import`: schedule many posts from one CSV file (README "Bulk import")."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from sqlalchemy.ext.asyncio import async_sessionmaker

from tiktimer.auth.dependencies import CurrentUser
from tiktimer.config import Settings
from tiktimer.errors import PayloadTooLarge, TiktimerError
from tiktimer.idempotency import (
    KEY_HEADER,
    IdempotentRequest,
    Replayed,
    digest_of,
    idempotent_request,
)
from tiktimer.kit.jsonresp import JSONBytes
from tiktimer.kit.openapi import errors
from tiktimer.kit.state import services
from tiktimer.media.service import MediaService
from tiktimer.posts.importing.components import build_importer
from tiktimer.posts.importing.importer import CsvImporter
from tiktimer.posts.importing.report import ImportMode, ImportRefused, ImportReport
from tiktimer.posts.importing.resolve import Importer
from tiktimer.posts.service import PostService

router = APIRouter(prefix="/api/v1/posts", tags=["posts"])
CSV_TYPES = frozenset(
    {
        "text/csv",
        "application/csv",
        "text/plain",
        "application/vnd.ms-excel",
        "application/octet-stream",
    }
)
_CSV_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
    }
}


class UnsupportedMediaType(TiktimerError):
    status_code = 415
    default_detail = "Send the CSV file itself as the body, with Content-Type: text/csv"


def importer_for(request: Request) -> CsvImporter:
    parts = services(request)
    return build_importer(
        parts.provide(Settings),
        parts.provide(PostService),
        parts.provide(MediaService),
        parts.provide(async_sessionmaker),
    )


ImporterDep = Annotated[CsvImporter, Depends(importer_for)]


@router.post(
    "/import",
    response_model=ImportReport,
    responses=errors(401, 413, 415, 422),
    openapi_extra=_CSV_BODY,
)
async def import_posts(
    request: Request,
    user: CurrentUser,
    importer: ImporterDep,
    mode: Annotated[
        ImportMode, Query(description="all: all or nothing; rows: each row alone")
    ] = "all",
    dry_run: Annotated[bool, Query(description="Check every row, create nothing")] = False,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=KEY_HEADER,
            max_length=255,
            description="Sending the same file with the same key and query within 24 hours "
            "returns the first report and imports nothing; the same key with another file "
            "or query → 422",
        ),
    ] = None,
) -> Response:
    """Create posts from a CSV body; every row's problems come back by row and column.

    200 with the report (a dry run, or `mode=rows` whatever its rows did); `mode=all` with
    any bad row → 422 with the same report and nothing created."""
    data = await _body(request, importer.limits.max_bytes)
    key = idempotent_request(
        idempotency_key,
        user_id=user.id,
        scope="posts.import",
        digest=digest_of(mode, dry_run, hashlib.sha256(data).hexdigest()),
    )
    try:
        if key is not None:
            await _replay_if_known(importer, key)
        report = await importer.run(
            Importer(user.id, user.timezone), data, mode=mode, dry_run=dry_run
        )
    except Replayed as replay:
        return replay.response()
    except ImportRefused as exc:
        problems = [p.model_dump() for p in exc.problems]
        return JSONBytes({"detail": str(exc), "problems": problems}, status_code=exc.status_code)
    failed = not dry_run and mode == "all" and report.invalid > 0
    response = JSONBytes(report.model_dump(), status_code=422 if failed else 200)
    return response if key is None or failed else await _remembered(importer, key, response)


async def _replay_if_known(importer: CsvImporter, key: IdempotentRequest) -> None:
    async with importer.sessionmaker() as session:
        await key.replay_if_known(await session.connection())


async def _remembered(
    importer: CsvImporter, key: IdempotentRequest, response: Response
) -> Response:
    """Store the report with the key. An import spans many transactions (one per row with
    `mode=rows`), so the key is taken after it: of two concurrent imports with one key, the
    ledger of imported rows keeps the second from creating anything twice, and it answers
    with the first's report."""
    try:
        async with importer.sessionmaker() as session, session.begin():
            await key.take(session)
            return await key.remember(session, response)
    except Replayed as replay:
        return replay.response()


async def _body(request: Request, max_bytes: int) -> bytes:
    """The CSV bytes, refused early when too large (413) or not a CSV upload (415)."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind not in CSV_TYPES:
        raise UnsupportedMediaType()
    too_big = PayloadTooLarge(f"The file is larger than {max_bytes} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_big
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)
