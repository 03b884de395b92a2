"""The planning pages: an account's queue, recurring series, the calendar feed in settings.

Plain forms posting back here (CSRF-checked), each calling the same planning services as
the API's endpoints; a refusal comes back as the page with the reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from starlette.responses import Response

from tiktimer.accounts.schemas import AccountIdPath
from tiktimer.auth.dependencies import Principal
from tiktimer.config import Settings
from tiktimer.db.session import SessionDep
from tiktimer.errors import NotFound, TiktimerError
from tiktimer.kit.state import services
from tiktimer.kit.time import utc_now
from tiktimer.models import Post, PostSeries, PostStatus, SeriesOccurrence
from tiktimer.planning import feed
from tiktimer.planning import queue as queues
from tiktimer.planning import series as series_service
from tiktimer.planning.materialise import materialiser_for
from tiktimer.planning.queue_routes import queue_view
from tiktimer.planning.series_routes import SeriesIdPath, series_view
from tiktimer.planning.wallclock import UnknownZone, parse_minute, parse_slot, zone
from tiktimer.posts.dependencies import PostIdPath, PostServiceDep
from tiktimer.posts.queue.wakeup import DueSignal
from tiktimer.web.render import render
from tiktimer.web.session import APP_PATH, CsrfChecked, WebUser

router = APIRouter(prefix=APP_PATH)


async def _form(request: Request) -> dict[str, str]:
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


async def _attempt(
    session: SessionDep, back: str, action: Callable[[], Awaitable[object]]
) -> Response:
    """Run a change and go back to the page; a refusal goes back with its reason."""
    try:
        await action()
    except (TiktimerError, UnknownZone, ValueError) as exc:
        await session.rollback()
        detail = exc.detail if isinstance(exc, TiktimerError) else str(exc)
        if isinstance(detail, list):
            detail = "; ".join(str(item.get("msg", item)) for item in detail)
        return RedirectResponse(f"{back}?{_query(error=str(detail))}", status_code=303)
    return RedirectResponse(back, status_code=303)


def _query(**values: str) -> str:
    from urllib.parse import urlencode

    return urlencode(values)


@router.get("/accounts/{account_id}/queue")
async def queue_page(
    request: Request,
    account_id: AccountIdPath,
    user: WebUser,
    session: SessionDep,
    error: str | None = None,
) -> Response:
    state = await queues.state_of(session, user, account_id, utc_now(), lock=False)
    view = await queue_view(state, session, 28)
    drafts = await session.scalars(
        select(Post)
        .where(Post.user_id == user.id, Post.status == PostStatus.draft)
        .order_by(Post.id.desc())
        .limit(50)
    )
    slot_text = "\n".join(f"{s.day} {s.time}" for s in view.slots)
    return await render(
        request,
        "queue.html",
        user=user,
        session=session,
        account_id=account_id,
        queue=view,
        slot_text=slot_text,
        drafts=list(drafts),
        error=error,
    )


@router.post("/accounts/{account_id}/queue/slots", dependencies=[CsrfChecked])
async def save_slots(
    request: Request,
    account_id: AccountIdPath,
    user: WebUser,
    session: SessionDep,
    posts: PostServiceDep,
) -> Response:
    raw = await _form(request)

    async def change() -> None:
        slots = [parse_slot(line) for line in raw.get("slots", "").splitlines() if line.strip()]
        zone_name = raw.get("timezone", "").strip() or None
        await queues.set_slots(session, user, account_id, timezone=zone_name, slots=slots)
        if raw.get("reflow"):
            await queues.reflow(session, posts, user, account_id, utc_now())

    return await _attempt(session, _queue_url(account_id), change)


@router.post("/accounts/{account_id}/queue/{action}/{post_id}", dependencies=[CsrfChecked])
async def queue_action(
    request: Request,
    account_id: AccountIdPath,
    action: str,
    post_id: PostIdPath,
    user: WebUser,
    session: SessionDep,
    posts: PostServiceDep,
) -> Response:
    """add, next (share next), top (move to the head), remove."""
    raw = await _form(request)
    now = utc_now()
    actions: dict[str, Callable[[], Awaitable[object]]] = {
        "add": lambda: queues.add(session, posts, user, account_id, post_id, head=False, now=now),
        "next": lambda: queues.add(session, posts, user, account_id, post_id, head=True, now=now),
        "top": lambda: queues.move(session, posts, user, account_id, post_id, position=0, now=now),
        "remove": lambda: queues.remove(
            session, posts, user, account_id, post_id, reflow=bool(raw.get("reflow")), now=now
        ),
    }
    if action not in actions:
        raise NotFound("Not found")
    return await _attempt(session, _queue_url(account_id), actions[action])


@router.post("/accounts/{account_id}/queue/reflow", dependencies=[CsrfChecked])
async def queue_reflow(
    account_id: AccountIdPath, user: WebUser, session: SessionDep, posts: PostServiceDep
) -> Response:
    return await _attempt(
        session,
        _queue_url(account_id),
        lambda: queues.reflow(session, posts, user, account_id, utc_now()),
    )


def _queue_url(account_id: int) -> str:
    return f"{APP_PATH}/accounts/{account_id}/queue"


@router.get("/series")
async def series_page(
    request: Request, user: WebUser, session: SessionDep, error: str | None = None
) -> Response:
    rows = await session.scalars(
        select(PostSeries).where(PostSeries.user_id == user.id).order_by(PostSeries.id.desc())
    )
    views = [await series_view(session, s) for s in rows.all()]
    return await render(
        request, "series.html", user=user, session=session, series=views, error=error
    )


@router.post("/series/{series_id}/split", dependencies=[CsrfChecked])
async def series_split(
    request: Request,
    series_id: SeriesIdPath,
    user: WebUser,
    session: SessionDep,
    posts: PostServiceDep,
) -> Response:
    """ "This and all following": a new caption and/or time of day from one occurrence."""
    raw = await _form(request)
    provider = services(request)
    materialiser = materialiser_for(provider.provide(Settings), provider.provide(DueSignal))

    async def change() -> None:
        from_post = int(raw.get("from_post_id") or 0)
        dtstart = await _new_start(session, series_id, from_post, raw.get("time") or "")
        await series_service.split(
            session,
            posts,
            materialiser,
            user,
            series_id,
            from_post_id=from_post,
            rrule=None,
            dtstart=dtstart,
            changes={"content": raw.get("content") or ""},
            now=utc_now(),
        )

    return await _attempt(session, APP_PATH + "/series", change)


async def _new_start(
    session: SessionDep, series_id: int, post_id: int, time_of_day: str
) -> datetime | None:
    """The occurrence's local day at the new time of day (None: keep the time)."""
    if not time_of_day:
        return None
    minute = parse_minute(time_of_day)
    found = (
        await session.execute(
            select(SeriesOccurrence.occurs_at, PostSeries.timezone)
            .join(PostSeries, PostSeries.id == SeriesOccurrence.series_id)
            .where(SeriesOccurrence.series_id == series_id, SeriesOccurrence.post_id == post_id)
        )
    ).first()
    if found is None:
        return None  # the split refuses it with its own reason
    day = found[0].astimezone(zone(found[1])).date()
    return datetime.combine(day, time(minute // 60, minute % 60))


@router.post("/series/{series_id}/{action}", dependencies=[CsrfChecked])
async def series_action(
    request: Request,
    series_id: SeriesIdPath,
    action: str,
    user: WebUser,
    session: SessionDep,
    posts: PostServiceDep,
) -> Response:
    """pause, resume, end."""
    now = utc_now()
    provider = services(request)
    materialiser = materialiser_for(provider.provide(Settings), provider.provide(DueSignal))
    actions: dict[str, Callable[[], Awaitable[object]]] = {
        "pause": lambda: series_service.pause(session, user, series_id, now),
        "resume": lambda: series_service.resume(session, posts, materialiser, user, series_id, now),
        "end": lambda: series_service.end(session, user, series_id, now),
    }
    if action not in actions:
        raise NotFound("Not found")
    return await _attempt(session, APP_PATH + "/series", actions[action])


@router.post("/settings/calendar", dependencies=[CsrfChecked])
async def calendar_feed(request: Request, user: WebUser, session: SessionDep) -> Response:
    """Create (or replace) the feed URL and show it once; or revoke it."""
    raw = await _form(request)
    if raw.get("action") == "revoke":
        await feed.revoke(session, user.id)
        return RedirectResponse(APP_PATH + "/settings?saved=1", status_code=303)
    token = await feed.create(session, user.id, utc_now())
    base = services(request).provide(Settings).server.public_base_url
    return await _feed_page(request, user, session, feed.feed_url(base, token))


async def _feed_page(
    request: Request, user: Principal, session: SessionDep, url: str | None
) -> Response:
    context: dict[str, Any] = {"feed_url": url, "feed_since": utc_now()}
    return await render(request, "calendar_feed.html", user=user, session=session, **context)
