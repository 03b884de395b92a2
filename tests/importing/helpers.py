"""Writing import files and sending them as a client would."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, update

from tests.publishing.helpers import stored_media
from tiktimer.models import Media, Post


def later(days: float = 3) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0).isoformat()


def csv_bytes(rows: list[dict[str, str]], *, bom: bool = False) -> bytes:
    columns = list(dict.fromkeys(name for row in rows for name in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode()


async def send(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    body: bytes,
    *,
    mode: str = "all",
    dry_run: bool = False,
    content_type: str = "text/csv",
    key: str | None = None,
) -> httpx.Response:
    sent = {**headers, "Content-Type": content_type}
    if key is not None:
        sent["Idempotency-Key"] = key
    return await client.post(
        "/api/v1/posts/import",
        params={"mode": mode, "dry_run": str(dry_run).lower()},
        content=body,
        headers=sent,
    )


async def library_video(app: FastAPI, owner_id: int, filename: str) -> str:
    """A ready video in the owner's library under `filename`; its id."""
    media_id, _ = await stored_media(app, owner_id, 1_000_000)
    async with app.state.services.sessionmaker() as session:
        await session.execute(
            update(Media).where(Media.id == media_id).values(original_filename=filename)
        )
        await session.commit()
    return media_id


async def post_count(app: FastAPI) -> int:
    async with app.state.services.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Post)) or 0)


def problems_by_row(report: dict[str, Any]) -> dict[int, set[str | None]]:
    found: dict[int, set[str | None]] = {}
    for problem in report["problems"]:
        found.setdefault(problem["row"], set()).add(problem["column"])
    return found


def statuses(report: dict[str, Any]) -> dict[int, str]:
    return {row["row"]: row["status"] for row in report["rows"]}
