"""The import page: pick a CSV file, check it (a dry run), import it.

With scripts, the page sends the file to `POST /api/v1/posts/import` with the session's
bearer token, as the composer's script calls the JSON API. Without them, the form posts
here and the same importer answers with the page (CSRF-checked, size-bounded first).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from tiktimer.db.session import SessionDep
from tiktimer.errors import PayloadTooLarge, TiktimerError
from tiktimer.posts.importing.columns import COLUMN_FIELDS
from tiktimer.posts.importing.report import ImportMode, ImportRefused
from tiktimer.posts.importing.resolve import Importer
from tiktimer.posts.routes.importing import ImporterDep, importer_for
from tiktimer.web.render import render
from tiktimer.web.session import APP_PATH, CsrfChecked, WebUser

router = APIRouter(prefix=APP_PATH)
# Room for the form's other fields and the multipart framing around the file.
_FORM_OVERHEAD = 64 * 1024


@router.get("/import")
async def import_page(request: Request, user: WebUser, session: SessionDep) -> Response:
    return await _page(request, user, session)


class LengthRequired(TiktimerError):
    status_code = 411
    default_detail = "Send the form with a Content-Length"


async def _bounded(request: Request) -> None:
    """Refuse a body larger than an import file may be before the form is parsed."""
    limit = importer_for(request).limits.max_bytes + _FORM_OVERHEAD
    declared = request.headers.get("content-length", "")
    if not declared.isdigit():
        raise LengthRequired()
    if int(declared) > limit:
        raise PayloadTooLarge(f"The file is larger than {limit - _FORM_OVERHEAD} bytes")


@router.post("/import", dependencies=[Depends(_bounded), CsrfChecked])
async def import_form(
    request: Request, user: WebUser, session: SessionDep, importer: ImporterDep
) -> Response:
    """The page's form without scripts: the same importer, the report as a page."""
    form = await request.form()  # parsed (and kept) by the CSRF check
    upload = form.get("file")
    mode: ImportMode = "rows" if form.get("mode") == "rows" else "all"
    dry_run = form.get("dry_run") != "false"
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _page(request, user, session, message="Choose a CSV file first.")
    data = await upload.read()
    try:
        report = await importer.run(
            Importer(user.id, user.timezone), data, mode=mode, dry_run=dry_run
        )
    except ImportRefused as exc:
        return await _page(
            request, user, session, message=str(exc), problems=exc.problems, mode=mode
        )
    return await _page(request, user, session, report=report, mode=mode)


async def _page(request: Request, user: Any, session: Any, **context: Any) -> Response:
    context.setdefault("mode", "all")
    return await render(
        request, "import.html", user=user, session=session, columns=list(COLUMN_FIELDS), **context
    )
