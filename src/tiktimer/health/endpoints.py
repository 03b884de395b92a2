"""`/` and `/health`: answer fast even when the database hangs."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.ext.asyncio import AsyncEngine

from tiktimer import __version__
from tiktimer.db.probe import probe, probe_engine
from tiktimer.kit.jsonresp import JSONBytes
from tiktimer.kit.time import utc_now
from tiktimer.services import services_of

router = APIRouter(tags=["health"])

DB_CHECK_TIMEOUT_SECONDS = 2.0


def wants_page(request: Request) -> bool:
    """A browser navigating here (it asks for HTML first); API clients get the JSON."""
    accept = request.headers.get("accept", "")
    return accept.startswith("text/html") or (
        "text/html" in accept and "application/json" not in accept
    )


@router.get("/", responses={303: {"description": "Browsers: to the web app, /app/"}})
async def root(request: Request) -> Any:
    """Welcome message with pointers to the docs; a browser is sent to the web app."""
    if wants_page(request):
        return RedirectResponse("/app/", status_code=303)
    return {
        "message": "Welcome to TikTimer: schedule TikTok posts, published on time, exactly once.",
        "version": __version__,
        "docs": "/docs",
        "health": "/health",
        "sandbox": services_of(request.app).settings.tiktok.sandbox_enabled,
    }


async def _database(engine: AsyncEngine) -> dict[str, Any]:
    """Live on every call (never cached): one `SELECT 1` round trip, `db/probe.py`."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(DB_CHECK_TIMEOUT_SECONDS):
            await probe(engine)
    except Exception as exc:  # any failure means "not reachable"; the reason is for operators
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


@router.get(
    "/health",
    responses={
        503: {
            "description": "The database did not answer: the same body, `unavailable`",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def health(request: Request) -> Response:
    """Service status with database reachability; 503 when the database is down.

    The database is checked on every call; the scheduler summary may be up to a second old
    (its `as_of` says when it was computed)."""
    state = services_of(request.app)
    database = await _database(probe_engine(state.engine, state.read_engine))
    body: dict[str, Any] = {
        "status": "ok" if database["ok"] else "unavailable",
        "api_version": __version__,
        "timestamp": utc_now(),
        "database": {"backend": state.engine.dialect.name, **database},
        "sandbox": state.settings.tiktok.sandbox_enabled,
    }
    for contribute in state.health_extras:
        body.update(await contribute())
    return JSONBytes(body, status_code=200 if database["ok"] else 503)
