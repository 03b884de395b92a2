"""`tiktimer posts import FILE.csv`: the bulk import, straight into the database.

The same importer as `POST /api/v1/posts/import` (posts.importing), built from the same
parts as a worker's, so every row goes through `PostService.create` with its pre-flight.
"""

from __future__ import annotations

import json
from pathlib import Path

import anyio
from sqlalchemy import select

from tiktimer.config import Settings
from tiktimer.models import User
from tiktimer.posts.importing.components import build_importer
from tiktimer.posts.importing.report import ImportMode, ImportRefused, ImportReport
from tiktimer.posts.importing.resolve import Importer
from tiktimer.services import build_command_services

# Exit codes: every row fine; some row has problems; the file (or the user) was refused.
OK, ROW_PROBLEMS, REFUSED = 0, 1, 2


async def import_file(
    settings: Settings,
    path: Path,
    username: str,
    *,
    mode: str,
    dry_run: bool,
    as_json: bool,
) -> tuple[list[str], int]:
    """The lines to print and the exit code."""
    if mode not in ("all", "rows"):
        return ["error: --mode is all or rows"], REFUSED
    chosen: ImportMode = "rows" if mode == "rows" else "all"
    limit = settings.limits.import_max_kb * 1024
    file = anyio.Path(path)
    if (await file.stat()).st_size > limit:  # not read into memory at all
        return [f"error: the file is larger than {limit} bytes (TIKTIMER_IMPORT_MAX_KB)"], REFUSED
    data = await file.read_bytes()
    async with build_command_services(settings) as services:
        async with services.sessionmaker() as session:
            user = await session.scalar(select(User).where(User.username == username))
        if user is None:
            return [f"error: no user is called {username!r}"], REFUSED
        assert services.post_service is not None
        importer = build_importer(
            settings, services.post_service, services.media_service, services.sessionmaker
        )
        try:
            report = await importer.run(
                Importer(user.id, user.timezone), data, mode=chosen, dry_run=dry_run
            )
        except ImportRefused as exc:
            return [f"error: row {p.row}: {p.message}" for p in exc.problems], REFUSED
    code = ROW_PROBLEMS if report.problems else OK
    if as_json:
        return [json.dumps(report.model_dump(), ensure_ascii=False, indent=2)], code
    return describe(report), code


def describe(report: ImportReport) -> list[str]:
    """One line per row, one per problem, then the totals."""
    lines = []
    for row in report.rows:
        post = f" (post {row.post_id})" if row.post_id is not None else ""
        lines.append(f"row {row.row}: {row.status}{post}")
    lines += [f"row {p.row}, {p.column or 'row'}: {p.message}" for p in report.problems]
    kind = "dry run" if report.dry_run else f"mode={report.mode}"
    lines.append(
        f"{kind}: {report.created} created, {report.already_imported} already imported, "
        f"{report.invalid} invalid"
    )
    return lines
