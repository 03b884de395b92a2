"""`tiktimer serve`'s own dispatcher: on by default, started and stopped with the app."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from tests.fixtures.app import make_settings
from tests.fixtures.lifespan import lifespan_of
from tests.scheduler.conftest import (
    API_BASE,
    CLIENT_KEY,
    CLIENT_SECRET,
    REDIRECT_URI,
    World,
    eventually,
    settled,
)
from tiktimer.app import create_app
from tiktimer.models import WorkerHeartbeat


async def test_the_app_runs_a_dispatcher_when_told_to(
    world: World, app: FastAPI, emulator_app: FastAPI, tmp_path: Path
) -> None:
    settings = make_settings(
        app.state.services.settings.database.url,
        app.state.services.settings.storage.data_dir,
        tiktok_client_key=CLIENT_KEY,
        tiktok_client_secret=CLIENT_SECRET,
        tiktok_redirect_uri=REDIRECT_URI,
        tiktok_api_base=API_BASE,
        tiktok_sandbox=False,
        run_scheduler=True,
        scheduler_poll_seconds=0.2,
        status_poll_first_seconds=0.2,
        token_keys_raw=",".join(app.state.services.settings.auth.token_keys),
    )
    serving = create_app(settings, tiktok_transport=httpx.ASGITransport(app=emulator_app))
    [post_id] = await world.ready()

    async with lifespan_of(serving):
        [post] = await settled(world, [post_id])
        health = (await _get(serving, "/health")).json()["scheduler"]
        assert health["in_process"] is True

        async def beating() -> bool:
            return (await _get(serving, "/health")).json()["scheduler"]["alive_workers"] == 1

        await eventually(beating)

    assert post.status == "published"
    async with app.state.services.sessionmaker() as session:  # stopped: it said goodbye
        assert (await session.scalars(WorkerHeartbeat.__table__.select())).all() == []


async def _get(application: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://tiktimer.test") as client:
        return await client.get(path)
