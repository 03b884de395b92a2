"""`/api/v1/calendar/feed`: your private iCalendar feed URL, and the feed itself."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from tiktimer.auth.dependencies import CurrentUser
from tiktimer.config import Settings
from tiktimer.db.session import SessionDep
from tiktimer.errors import NotFound
from tiktimer.kit.openapi import errors
from tiktimer.kit.schemas import Schema
from tiktimer.kit.state import provided
from tiktimer.kit.time import utc_now
from tiktimer.planning import feed

router = APIRouter(prefix="/api/v1/calendar", tags=["calendar"], responses=errors(422))
SettingsDep = Annotated[Settings, Depends(provided(Settings))]


class FeedState(Schema):
    active: bool
    created_at: datetime | None


class FeedCreated(Schema):
    url: str
    created_at: datetime


@router.get("/feed", response_model=FeedState, responses=errors(401))
async def feed_state(user: CurrentUser, session: SessionDep) -> FeedState:
    """Whether you have a feed URL (the URL itself is shown only when it is created)."""
    created = await feed.created_at(session, user.id)
    return FeedState(active=created is not None, created_at=created)


@router.post("/feed", response_model=FeedCreated, status_code=201, responses=errors(401))
async def create_feed(user: CurrentUser, session: SessionDep, settings: SettingsDep) -> FeedCreated:
    """A new private feed URL; an earlier one stops working. Keep it secret."""
    now = utc_now()
    token = await feed.create(session, user.id, now)
    return FeedCreated(url=feed.feed_url(settings.server.public_base_url, token), created_at=now)


@router.delete("/feed", status_code=204, responses=errors(401, 404))
async def revoke_feed(user: CurrentUser, session: SessionDep) -> Response:
    """Revoke the feed URL: calendars subscribed to it stop updating."""
    if not await feed.revoke(session, user.id):
        raise NotFound("No calendar feed to revoke")
    return Response(status_code=204)


@router.get(
    "/feed.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}, **errors(404)},
)
async def calendar_feed(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str, Query(max_length=128, description="The feed URL's secret")],
) -> Response:
    """Your upcoming and recent posts as iCalendar (no sign-in: the token is the key)."""
    user = await feed.owner_of(session, token)
    if user is None:
        raise NotFound("No such calendar feed")
    body = await feed.render_feed(
        session,
        user,
        base_url=settings.server.public_base_url,
        now=utc_now(),
        past_days=settings.planning.feed_past_days,
        ahead_days=settings.planning.feed_ahead_days,
    )
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300"},
    )
