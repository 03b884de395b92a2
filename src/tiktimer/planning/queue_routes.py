"""`/api/v1/accounts/{id}/queue`: an account's weekly slots and the posts in them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import Field, field_validator

from tiktimer.accounts.schemas import AccountIdPath
from tiktimer.auth.dependencies import CurrentUser
from tiktimer.db.session import SessionDep
from tiktimer.errors import Unprocessable
from tiktimer.kit.openapi import errors
from tiktimer.kit.schemas import DbCount, DbId, Schema, StrictInput
from tiktimer.kit.time import utc_now
from tiktimer.planning import queue as queues
from tiktimer.planning.queue_state import QueueState, upcoming_posts
from tiktimer.planning.wallclock import (
    WEEKDAYS,
    UnknownZone,
    format_minute,
    parse_minute,
    slot_times,
)
from tiktimer.posts.dependencies import PostIdPath, PostServiceDep

router = APIRouter(
    prefix="/api/v1/accounts/{account_id}/queue",
    tags=["queue"],
    responses=errors(401, 404, 422),
)
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Slot(StrictInput):
    day: Weekday
    time: str = Field(pattern=r"^\d{2}:\d{2}$", description="HH:MM, wall-clock")

    @field_validator("time")
    @classmethod
    def _time_of_day(cls, value: str) -> str:
        parse_minute(value)
        return value


class SlotsUpdate(StrictInput):
    timezone: str | None = Field(
        None, max_length=64, description="IANA zone of the slots; null: your own zone"
    )
    slots: list[Slot] = Field(max_length=200)
    reflow: bool = Field(False, description="Move the queued posts onto the new slots")


class QueueAdd(StrictInput):
    post_id: DbId
    position: Literal["last", "next"] = Field(
        "last", description="last: the next free slot; next: share next, at the head"
    )


class QueueMove(StrictInput):
    position: DbCount = Field(description="0 is the next slot's post")


class QueuedPostRead(Schema):
    id: int
    status: str
    content: str
    queued: bool


class QueueEntry(Schema):
    at: datetime
    local_time: str
    slot: bool
    post: QueuedPostRead | None


class QueueRead(Schema):
    account_id: int
    timezone: str
    timezone_setting: str | None
    slots: list[Slot]
    upcoming: list[QueueEntry]


async def queue_view(state: QueueState, session: SessionDep, days: int) -> QueueRead:
    """Every slot of the next `days` days with the post in it, and the queued posts that sit
    off the slots (after the slots changed, without a re-flow)."""
    now = utc_now()
    end = now + timedelta(days=days)
    instants = [t for t in slot_times(state.slots, state.tz, now, 1000, days) if t <= end]
    entries = {at: QueueEntry(at=at, local_time="", slot=True, post=None) for at in instants}
    for post, queued in await upcoming_posts(session, state.account_id, now, end):
        if post.scheduled_time not in entries and not queued:
            continue
        entry = entries.setdefault(
            post.scheduled_time,
            QueueEntry(at=post.scheduled_time, local_time="", slot=False, post=None),
        )
        if entry.post is None or queued:
            entry.post = QueuedPostRead(
                id=post.id, status=post.status, content=post.content[:200], queued=queued
            )
    for at, entry in entries.items():
        entry.local_time = at.astimezone(state.tz).isoformat()
    return QueueRead(
        account_id=state.account_id,
        timezone=str(state.tz.key),
        timezone_setting=state.timezone_setting,
        slots=[Slot(day=WEEKDAYS[d], time=format_minute(m)) for d, m in state.slots],
        upcoming=[entries[at] for at in sorted(entries)],
    )


Days = Annotated[int, Query(ge=1, le=62, description="How many days ahead")]


@router.get("", response_model=QueueRead)
async def get_queue(
    account_id: AccountIdPath, user: CurrentUser, session: SessionDep, days: Days = 14
) -> QueueRead:
    """The slots of the coming days with their posts, in the queue's zone."""
    state = await queues.state_of(session, user, account_id, utc_now(), lock=False)
    return await queue_view(state, session, days)


@router.put("/slots", response_model=QueueRead, responses=errors(400, 409, 413))
async def put_slots(
    account_id: AccountIdPath,
    data: SlotsUpdate,
    user: CurrentUser,
    session: SessionDep,
    posts: PostServiceDep,
) -> QueueRead:
    """Replace the weekly slots; with `reflow`, queued posts move onto them."""
    slots = [(WEEKDAYS.index(s.day), parse_minute(s.time)) for s in data.slots]
    try:
        await queues.set_slots(session, user, account_id, timezone=data.timezone, slots=slots)
    except UnknownZone as exc:
        raise Unprocessable(_field("timezone", str(exc))) from None
    if data.reflow:
        await queues.reflow(session, posts, user, account_id, utc_now())
    return await get_queue(account_id, user, session)


@router.post("", response_model=QueueRead, status_code=201, responses=errors(400, 409, 413))
async def add_to_queue(
    account_id: AccountIdPath,
    data: QueueAdd,
    user: CurrentUser,
    session: SessionDep,
    posts: PostServiceDep,
) -> QueueRead:
    """Add a draft or scheduled post: the next free slot, or `position: next` to share it
    next (the other queued posts move one slot later)."""
    head = data.position == "next"
    await queues.add(session, posts, user, account_id, data.post_id, head=head, now=utc_now())
    return await get_queue(account_id, user, session)


@router.post("/reflow", response_model=QueueRead, responses=errors(409))
async def reflow_queue(
    account_id: AccountIdPath, user: CurrentUser, session: SessionDep, posts: PostServiceDep
) -> QueueRead:
    """Move the queued posts, in order, into the first free slots (posts being published
    stay)."""
    await queues.reflow(session, posts, user, account_id, utc_now())
    return await get_queue(account_id, user, session)


@router.post("/{post_id}/move", response_model=QueueRead, responses=errors(400, 409, 413))
async def move_in_queue(
    account_id: AccountIdPath,
    post_id: PostIdPath,
    data: QueueMove,
    user: CurrentUser,
    session: SessionDep,
    posts: PostServiceDep,
) -> QueueRead:
    """Move a queued post to another position; the queue re-flows."""
    now = utc_now()
    await queues.move(session, posts, user, account_id, post_id, position=data.position, now=now)
    return await get_queue(account_id, user, session)


@router.delete("/{post_id}", status_code=204, responses=errors(409))
async def remove_from_queue(
    account_id: AccountIdPath,
    post_id: PostIdPath,
    user: CurrentUser,
    session: SessionDep,
    posts: PostServiceDep,
    reflow: bool = False,
) -> Response:
    """Take a post out of the queue (a scheduled one becomes a draft); `?reflow=true`
    moves the later posts up."""
    now = utc_now()
    await queues.remove(session, posts, user, account_id, post_id, reflow=reflow, now=now)
    return Response(status_code=204)


def _field(field: str, message: str) -> list[dict[str, object]]:
    return [{"loc": ["body", field], "msg": message, "type": "value_error"}]
