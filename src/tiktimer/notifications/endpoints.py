"""`/api/v1/notifications`: outgoing webhooks, their delivery log, and the in-app list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from tiktimer.auth.dependencies import CurrentUser
from tiktimer.db.session import SessionDep
from tiktimer.kit.openapi import errors
from tiktimer.kit.schemas import DB_INT_MAX
from tiktimer.kit.state import provided
from tiktimer.notifications.schemas import (
    DeliveryRead,
    EndpointCreate,
    EndpointCreated,
    EndpointIdPath,
    EndpointRead,
    EndpointUpdate,
    EventRead,
    ReadMarked,
    TestQueued,
)
from tiktimer.notifications.service import NotificationService

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])

NotificationsDep = Annotated[NotificationService, Depends(provided(NotificationService))]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=DB_INT_MAX)]


@router.get("/", response_model=list[EventRead], responses=errors(401, 422))
async def list_notifications(
    user: CurrentUser,
    session: SessionDep,
    notifications: NotificationsDep,
    response: Response,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[EventRead]:
    """What happened to your posts and accounts, newest first; the total in `X-Total-Count`."""
    found, total = await notifications.events(session, user.id, limit=limit, offset=offset)
    response.headers["X-Total-Count"] = str(total)
    return [EventRead.model_validate(event) for event in found]


@router.post("/read", response_model=ReadMarked, responses=errors(401))
async def mark_notifications_read(
    user: CurrentUser, session: SessionDep, notifications: NotificationsDep
) -> ReadMarked:
    """Mark every notification read."""
    return ReadMarked(marked=await notifications.mark_read(session, user.id))


@router.get("/endpoints", response_model=list[EndpointRead], responses=errors(401))
async def list_endpoints(
    user: CurrentUser, session: SessionDep, notifications: NotificationsDep
) -> list[EndpointRead]:
    """Your webhook endpoints (their secrets are never shown again)."""
    return await notifications.endpoints(session, user.id)


@router.post(
    "/endpoints",
    status_code=201,
    response_model=EndpointCreated,
    responses=errors(400, 401, 409, 413, 422),
)
async def add_endpoint(
    body: EndpointCreate, user: CurrentUser, session: SessionDep, notifications: NotificationsDep
) -> EndpointCreated:
    """Add a webhook endpoint; the answer holds its signing secret, this once."""
    return await notifications.add_endpoint(session, user.id, body)


@router.patch(
    "/endpoints/{endpoint_id}",
    response_model=EndpointRead,
    responses=errors(400, 401, 404, 413, 422),
)
async def change_endpoint_events(
    endpoint_id: EndpointIdPath,
    body: EndpointUpdate,
    user: CurrentUser,
    session: SessionDep,
    notifications: NotificationsDep,
) -> EndpointRead:
    """Choose the events an endpoint receives."""
    return await notifications.set_events(session, user.id, endpoint_id, body.events)


@router.delete("/endpoints/{endpoint_id}", status_code=204, responses=errors(401, 404, 422))
async def remove_endpoint(
    endpoint_id: EndpointIdPath,
    user: CurrentUser,
    session: SessionDep,
    notifications: NotificationsDep,
) -> Response:
    """Remove an endpoint; its pending deliveries go with it."""
    await notifications.remove_endpoint(session, user.id, endpoint_id)
    return Response(status_code=204)


@router.post(
    "/endpoints/{endpoint_id}/test",
    status_code=202,
    response_model=TestQueued,
    responses=errors(401, 404, 422),
)
async def send_test(
    endpoint_id: EndpointIdPath,
    user: CurrentUser,
    session: SessionDep,
    notifications: NotificationsDep,
) -> TestQueued:
    """Queue a signed `test` delivery to the endpoint; its result shows in the log."""
    return TestQueued(event_id=await notifications.send_test(session, user.id, endpoint_id))


@router.get("/deliveries", response_model=list[DeliveryRead], responses=errors(401, 404, 422))
async def list_deliveries(
    user: CurrentUser,
    session: SessionDep,
    notifications: NotificationsDep,
    response: Response,
    endpoint_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[DeliveryRead]:
    """The delivery log, newest first: status, tries, the last response code, next try."""
    found, total = await notifications.deliveries(
        session, user.id, endpoint_id=endpoint_id, limit=limit, offset=offset
    )
    response.headers["X-Total-Count"] = str(total)
    return [DeliveryRead.model_validate(row) for row in found]
