"""An app whose series are made a year ahead (the DST days of 2027 are inside the
horizon), a user in Europe/Berlin with one connected account, and service-level helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.fixtures.app import make_settings, sandboxed_app
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.holdings import small_video
from tests.fixtures.users import user_headers
from tests.publishing.helpers import connect_creator
from tiktimer.auth.dependencies import Principal
from tiktimer.models import Post
from tiktimer.posts.schemas import PostCreate
from tiktimer.posts.service import PostService


@pytest.fixture(scope="session")
async def app(
    database: DatabaseUnderTest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FastAPI]:
    settings = make_settings(
        database.url, tmp_path_factory.mktemp("planning"), series_horizon_days=366
    )
    async with sandboxed_app(settings) as application:
        yield application


@dataclass
class Planner:
    """The user alice (Europe/Berlin) with one account, and direct service access."""

    app: FastAPI
    client: httpx.AsyncClient
    headers: dict[str, str]
    user: Principal
    account_id: int
    media_id: str  # a ready video: a post that goes out needs one

    def with_video(self, **post: object) -> dict[str, object]:
        """A post's fields with the planner's video attached."""
        return {"media_id": self.media_id, **post}

    @property
    def posts(self) -> PostService:
        service: PostService = self.app.state.services.post_service
        return service

    def session(self):  # type: ignore[no-untyped-def]
        return self.app.state.services.sessionmaker()

    async def post(self, content: str, *, draft: bool = True, at: str = "2030-01-01T10:00Z") -> int:
        body = self.with_video(content=content, scheduled_time=at, draft=draft)
        response = await self.client.post("/posts/", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        post_id: int = response.json()["id"]
        return post_id

    async def times(self) -> dict[int, tuple[datetime, str]]:
        async with self.session() as session:
            rows = await session.execute(select(Post.id, Post.scheduled_time, Post.status))
            return {pid: (at, status) for pid, at, status in rows}


@pytest.fixture
async def planner(app: FastAPI, client: httpx.AsyncClient, tmp_path: Path) -> Planner:
    headers = await user_headers(client, "alice", timezone="Europe/Berlin")
    me = (await client.get("/users/me", headers=headers)).json()
    account_id = await connect_creator(client, headers, app.state.services.sandbox_emulator)
    user = Principal(id=me["id"], username="alice", is_superuser=False, timezone="Europe/Berlin")
    video = small_video(tmp_path)
    with video.open("rb") as f:
        media = await client.post("/api/v1/media", files={"file": (video.name, f)}, headers=headers)
    assert media.status_code == 201, media.text
    return Planner(app, client, headers, user, account_id, media.json()["id"])


def post_body(**fields: object) -> dict[str, object]:
    return PostCreate.model_validate(
        {"content": "weekly", "scheduled_time": "2030-01-01T00:00Z", **fields}
    ).model_dump(mode="json", exclude={"scheduled_time", "draft"}, exclude_none=True)
