"""`/api/v1/series`: recurring posts (an RRULE in your time zone), each occurrence a post."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.auth.dependencies import CurrentUser
from tiktimer.config import Settings
from tiktimer.db.session import SessionDep
from tiktimer.kit.openapi import errors
from tiktimer.kit.schemas import DbId, IdInPath, Schema, StorableTime, StrictInput
from tiktimer.kit.state import services
from tiktimer.kit.time import utc_now
from tiktimer.models import PostSeries
from tiktimer.planning import series as series_service
from tiktimer.planning.materialise import Materialiser, materialiser_for
from tiktimer.posts.dependencies import PostServiceDep
from tiktimer.posts.queue.wakeup import DueSignal
from tiktimer.posts.schemas import PostCreate, PostUpdate

router = APIRouter(prefix="/api/v1/series", tags=["series"], responses=errors(401, 422))
SeriesIdPath = Annotated[int, IdInPath("Series not found")]


def _materialiser(request: Request) -> Materialiser:
    provider = services(request)
    return materialiser_for(provider.provide(Settings), provider.provide(DueSignal))


MaterialiserDep = Annotated[Materialiser, Depends(_materialiser)]


class SeriesPost(PostCreate):
    """The post fields every occurrence starts with (its time comes from the rule)."""

    scheduled_time: StorableTime | None = None  # type: ignore[assignment]


class SeriesCreate(StrictInput):
    rrule: str = Field(
        max_length=500, description="RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=MO;COUNT=10"
    )
    dtstart: StorableTime = Field(
        description="The first time, as a wall-clock time in `timezone` (no offset)"
    )
    timezone: str | None = Field(None, max_length=64, description="IANA zone; default yours")
    post: SeriesPost


class SeriesSplit(StrictInput):
    """Change "this and all following": from the occurrence whose post is `from_post_id`."""

    from_post_id: DbId
    rrule: str | None = Field(None, max_length=500)
    dtstart: StorableTime | None = None
    post: PostUpdate | None = None


class OccurrenceRead(Schema):
    occurs_at: datetime
    post_id: int | None
    status: str | None
    held: bool
    skipped_reason: str | None


class SeriesRead(Schema):
    id: int
    rrule: str
    dtstart: str
    timezone: str
    status: str
    until_at: datetime | None
    template: dict[str, Any]
    materialised_until: datetime | None
    created_at: datetime
    occurrences: list[OccurrenceRead]


async def series_view(session: AsyncSession, series: PostSeries) -> SeriesRead:
    await session.flush()
    rows = await series_service.occurrences_of(session, series.id)
    occurrences = [
        OccurrenceRead(
            occurs_at=o.occurs_at,
            post_id=o.post_id,
            status=status,
            held=o.held,
            skipped_reason=o.skipped_reason,
        )
        for o, status in rows
    ]
    fields = {
        name: getattr(series, name) for name in SeriesRead.model_fields if name != "occurrences"
    }
    return SeriesRead(**fields, occurrences=occurrences)


@router.post("", response_model=SeriesRead, status_code=201, responses=errors(400, 409, 413))
async def create_series(
    data: SeriesCreate,
    user: CurrentUser,
    session: SessionDep,
    posts: PostServiceDep,
    materialiser: MaterialiserDep,
) -> SeriesRead:
    """Start a recurring post; its first occurrence passes pre-flight like any post."""
    post = PostCreate.model_validate(
        {
            **data.post.model_dump(exclude_unset=True, exclude={"scheduled_time", "draft"}),
            "scheduled_time": utc_now(),
        }
    )
    created = await series_service.create(
        session,
        posts,
        materialiser,
        user,
        rrule=data.rrule,
        dtstart=data.dtstart,
        timezone=data.timezone,
        post=post,
        now=utc_now(),
    )
    return await series_view(session, created)


@router.get("", response_model=list[SeriesRead])
async def list_series(
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[SeriesRead]:
    """Your series, newest first."""
    rows = await session.scalars(
        select(PostSeries)
        .where(PostSeries.user_id == user.id)
        .order_by(PostSeries.id.desc())
        .limit(limit)
    )
    return [await series_view(session, s) for s in rows.all()]


@router.get("/{series_id}", response_model=SeriesRead, responses=errors(404))
async def get_series(series_id: SeriesIdPath, user: CurrentUser, session: SessionDep) -> SeriesRead:
    return await series_view(
        session, await series_service.owned(session, user.id, series_id, lock=False)
    )


@router.post("/{series_id}/split", response_model=SeriesRead, responses=errors(400, 404, 409, 413))
async def split_series(
    series_id: SeriesIdPath,
    data: SeriesSplit,
    user: CurrentUser,
    session: SessionDep,
    posts: PostServiceDep,
    materialiser: MaterialiserDep,
) -> SeriesRead:
    """Change this occurrence and all following: answers the new series."""
    changes = data.post.model_dump(exclude_unset=True, mode="json") if data.post else {}
    changes.pop("scheduled_time", None)
    changes.pop("draft", None)
    successor = await series_service.split(
        session,
        posts,
        materialiser,
        user,
        series_id,
        from_post_id=data.from_post_id,
        rrule=data.rrule,
        dtstart=data.dtstart,
        changes=changes,
        now=utc_now(),
    )
    return await series_view(session, successor)


@router.post("/{series_id}/pause", response_model=SeriesRead, responses=errors(404, 409))
async def pause_series(
    series_id: SeriesIdPath, user: CurrentUser, session: SessionDep
) -> SeriesRead:
    """Hold the series: its coming posts are cancelled until `resume`."""
    await series_service.pause(session, user, series_id, utc_now())
    return await get_series(series_id, user, session)


@router.post("/{series_id}/resume", response_model=SeriesRead, responses=errors(404, 409))
async def resume_series(
    series_id: SeriesIdPath,
    user: CurrentUser,
    session: SessionDep,
    posts: PostServiceDep,
    materialiser: MaterialiserDep,
) -> SeriesRead:
    """Schedule the held posts still ahead again and make the coming ones."""
    await series_service.resume(session, posts, materialiser, user, series_id, utc_now())
    return await get_series(series_id, user, session)


@router.post("/{series_id}/end", response_model=SeriesRead, responses=errors(404))
async def end_series(series_id: SeriesIdPath, user: CurrentUser, session: SessionDep) -> SeriesRead:
    """No more occurrences; coming posts that have not started are deleted."""
    await series_service.end(session, user, series_id, utc_now())
    return await get_series(series_id, user, session)
