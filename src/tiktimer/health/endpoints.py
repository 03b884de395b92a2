"""`/` and `/health`: answer fast even when the database hangs."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tiktimer import __version__
from tiktimer.kit.jsonresp import JSONBytes
from tiktimer.kit.time import utc_now
from tiktimer.services import services_of

router = APIRouter(tags=["health"])

DB_CHECK_TIMEOUT_SECONDS = 2.0


@router.get("/")
async def root(request: Request) -> dict[str, Any]:
    """Welcome message with pointers to the docs."""
    return {
        "message": "Welcome to TikTimer: schedule TikTok posts, published on time, exactly once.",
        "version": __version__,
        "docs": "/docs",
        "health": "/health",
        "sandbox": services_of(request.app).settings.sandbox_enabled,
    }


async def _database(engine: AsyncEngine) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(DB_CHECK_TIMEOUT_SECONDS):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
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
    """Service status with database reachability; 503 when the database is down."""
    state = services_of(request.app)
    database = await _database(state.read_engine)
    body: dict[str, Any] = {
        "status": "ok" if database["ok"] else "unavailable",
        "api_version": __version__,
        "timestamp": utc_now(),
        "database": {"backend": state.read_engine.dialect.name, **database},
        "sandbox": state.settings.sandbox_enabled,
    }
    for contribute in state.health_extras:
        body.update(await contribute())
    return JSONBytes(body, status_code=200 if database["ok"] else 503)
