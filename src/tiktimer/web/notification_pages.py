"""Notifications in the browser: the in-app list, and the settings page for webhooks
(add and remove endpoints, choose their events, send a test, read the delivery log).

The pages call `NotificationService`, as `/api/v1/notifications` does; a new endpoint's
secret is shown once, on the page that answers its creation, and never again.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from tiktimer.auth.dependencies import Principal
from tiktimer.db.session import SessionDep
from tiktimer.errors import NotFound, TiktimerError
from tiktimer.kit.state import provided
from tiktimer.notifications.events import SUBSCRIBABLE
from tiktimer.notifications.schemas import EndpointCreate, EndpointIdPath, EndpointUpdate
from tiktimer.notifications.service import NotificationService
from tiktimer.web.render import field_messages, render
from tiktimer.web.session import APP_PATH, CsrfChecked, WebUser

router = APIRouter(prefix=APP_PATH)
NotificationsDep = Annotated[NotificationService, Depends(provided(NotificationService))]
SETTINGS_PATH = APP_PATH + "/settings/notifications"
EVENT_LABELS = {
    "post.published": "Post published",
    "post.failed": "Post failed",
    "post.missed": "Post missed its time",
    "post.unconfirmed": "Post not confirmed by TikTok",
    "account.reconnect_needed": "Account needs reconnecting",
    "test": "Test delivery",
}
Events = Annotated[list[str], Form(max_length=len(SUBSCRIBABLE))]


@router.get("/notifications")
async def notifications_page(
    request: Request, user: WebUser, session: SessionDep, notifications: NotificationsDep
) -> Response:
    found, total = await notifications.events(session, user.id, limit=100)
    return await render(
        request,
        "notifications.html",
        user=user,
        session=session,
        events=found,
        total=total,
        labels=EVENT_LABELS,
    )


@router.post("/notifications/read", dependencies=[CsrfChecked])
async def mark_read(
    user: WebUser, session: SessionDep, notifications: NotificationsDep
) -> Response:
    await notifications.mark_read(session, user.id)
    return RedirectResponse(APP_PATH + "/notifications", status_code=303)


@router.get("/settings/notifications")
async def settings_page(
    request: Request, user: WebUser, session: SessionDep, notifications: NotificationsDep
) -> Response:
    return await _settings(request, user, session, notifications)


async def _settings(
    request: Request,
    user: Principal,
    session: AsyncSession,
    notifications: NotificationService,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    endpoints = await notifications.endpoints(session, user.id)
    log, total = await notifications.deliveries(session, user.id, limit=50)
    context.setdefault("errors", {})
    context.setdefault("form", {"events": list(SUBSCRIBABLE)})
    return await render(
        request,
        "notification_settings.html",
        user=user,
        session=session,
        status_code=status_code,
        endpoints=endpoints,
        deliveries=log,
        deliveries_total=total,
        subscribable=SUBSCRIBABLE,
        labels=EVENT_LABELS,
        **context,
    )


@router.post("/settings/notifications", dependencies=[CsrfChecked])
async def add_endpoint(
    request: Request,
    user: WebUser,
    session: SessionDep,
    notifications: NotificationsDep,
    url: Annotated[str, Form(max_length=4096)] = "",
    description: Annotated[str, Form(max_length=1000)] = "",
    events: Events = [],  # noqa: B006 (FastAPI copies defaults)
) -> Response:
    """Add an endpoint; the answering page shows its secret, this once."""
    form = {"url": url, "description": description, "events": events}
    try:
        body = EndpointCreate(url=url, events=events, description=description or None)
        created = await notifications.add_endpoint(session, user.id, body)
    except ValidationError as exc:
        errors = field_messages(
            [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors(include_input=False)]
        )
    except TiktimerError as exc:
        await session.rollback()
        errors = field_messages(exc.detail)
    else:
        return await _settings(request, user, session, notifications, created=created)
    return await _settings(
        request, user, session, notifications, status_code=422, errors=errors, form=form
    )


@router.post("/settings/notifications/{endpoint_id}/events", dependencies=[CsrfChecked])
async def change_events(
    endpoint_id: EndpointIdPath,
    user: WebUser,
    session: SessionDep,
    notifications: NotificationsDep,
    events: Events = [],  # noqa: B006
) -> Response:
    try:
        body = EndpointUpdate(events=events)
    except ValidationError:
        # Another user's endpoint is a 404 whatever the form says, never a form error.
        if all(e.id != endpoint_id for e in await notifications.endpoints(session, user.id)):
            raise NotFound("Endpoint not found") from None
        return RedirectResponse(SETTINGS_PATH + "?error=choose-events", status_code=303)
    await notifications.set_events(session, user.id, endpoint_id, body.events)
    return RedirectResponse(SETTINGS_PATH + "?saved=1", status_code=303)


@router.post("/settings/notifications/{endpoint_id}/delete", dependencies=[CsrfChecked])
async def remove_endpoint(
    endpoint_id: EndpointIdPath, user: WebUser, session: SessionDep, notifications: NotificationsDep
) -> Response:
    await notifications.remove_endpoint(session, user.id, endpoint_id)
    return RedirectResponse(SETTINGS_PATH + "?removed=1", status_code=303)


@router.post("/settings/notifications/{endpoint_id}/test", dependencies=[CsrfChecked])
async def send_test(
    endpoint_id: EndpointIdPath, user: WebUser, session: SessionDep, notifications: NotificationsDep
) -> Response:
    await notifications.send_test(session, user.id, endpoint_id)
    return RedirectResponse(SETTINGS_PATH + "?tested=1", status_code=303)
