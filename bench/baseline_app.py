"""The floor for `GET /posts/`: FastAPI, one raw asyncpg query, orjson; no auth, no ORM.

bench/api.py runs it beside TikTimer on the same database so its figures are read as a
ratio against this baseline, measured in the same run on the same machine.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson
from fastapi import FastAPI, Response

state: dict[str, Any] = {}


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    state["pool"] = await asyncpg.create_pool(
        os.environ["BASELINE_PG_DSN"], min_size=10, max_size=10
    )
    yield
    await state["pool"].close()


app = FastAPI(lifespan=lifespan)


@app.get("/posts/")
async def posts() -> Response:
    async with state["pool"].acquire() as connection:
        rows = await connection.fetch(
            "SELECT * FROM posts WHERE user_id = $1 ORDER BY scheduled_time LIMIT 100", 1
        )
    return Response(orjson.dumps([dict(r) for r in rows]), media_type="application/json")
