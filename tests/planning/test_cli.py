"""`tiktimer series materialize`, `queue show`, `queue reflow`, `calendar revoke`, run as
real processes on the test app's database (both backends)."""

from __future__ import annotations

import subprocess

import pytest
from sqlalchemy import func, select

from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.server import clean_env, tiktimer_command
from tests.planning.conftest import Planner
from tiktimer.models import Post, PostSeries

pytestmark = pytest.mark.slow


def tiktimer(planner: Planner, database: DatabaseUnderTest, *args: str) -> list[str]:
    settings = planner.app.state.services.settings
    env = clean_env(
        DATABASE_URL=database.url,
        SECRET_KEY=settings.auth.secret_key.get_secret_value(),
        TIKTIMER_DATA_DIR=str(settings.storage.data_dir),
        TIKTIMER_LOG_LEVEL="WARNING",
        TIKTIMER_SERIES_HORIZON_DAYS="366",
    )
    result = subprocess.run(
        [*tiktimer_command(), *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


async def test_planning_commands(planner: Planner, database: DatabaseUnderTest) -> None:
    body = {
        "rrule": "FREQ=DAILY;COUNT=1",
        "dtstart": "2027-06-01T09:00",
        "post": planner.with_video(content="x"),
    }
    created = await planner.client.post("/api/v1/series", json=body, headers=planner.headers)
    assert created.status_code == 201
    async with planner.session() as session, session.begin():
        stored = await session.get(PostSeries, created.json()["id"])
        assert stored is not None
        stored.rrule = "FREQ=DAILY;COUNT=3"
    assert tiktimer(planner, database, "series", "materialize") == ["created 2 posts"]
    assert tiktimer(planner, database, "series", "materialize") == ["created 0 posts"]
    async with planner.session() as session:
        assert await session.scalar(select(func.count()).select_from(Post)) == 3

    slots = {"slots": [{"day": "sat", "time": "10:00"}]}
    base = f"/api/v1/accounts/{planner.account_id}/queue"
    await planner.client.put(f"{base}/slots", json=slots, headers=planner.headers)
    draft = await planner.post("queued")
    await planner.client.post(base, json={"post_id": draft}, headers=planner.headers)
    shown = tiktimer(planner, database, "queue", "show", str(planner.account_id))
    assert shown[0] == "zone: Europe/Berlin  slots: sat 10:00"
    assert shown[1].startswith("Sat ")
    assert shown[1].endswith(f"10:00  post {draft}")
    assert shown[2].endswith("10:00  free")
    assert tiktimer(planner, database, "queue", "reflow", str(planner.account_id)) == [
        "moved 0 posts"
    ]
    await planner.client.post("/api/v1/calendar/feed", headers=planner.headers)
    assert tiktimer(planner, database, "calendar", "revoke", "alice") == ["revoked"]
    assert tiktimer(planner, database, "calendar", "revoke", "alice") == ["no feed to revoke"]
