"""The API's reads and writes of endpoints, events and the delivery log (a request's session).

Every statement names its user, so one user's ids are another's 404s.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.models import NotificationDelivery, NotificationEndpoint, NotificationEvent
from tiktimer.notifications.events import TEST

MAX_ENDPOINTS_PER_USER = 20


async def endpoints_of(session: AsyncSession, user_id: int) -> Sequence[NotificationEndpoint]:
    statement = (
        select(NotificationEndpoint)
        .where(NotificationEndpoint.user_id == user_id)
        .order_by(NotificationEndpoint.id)
    )
    return (await session.scalars(statement)).all()


async def endpoint_of(
    session: AsyncSession, user_id: int, endpoint_id: int
) -> NotificationEndpoint | None:
    statement = select(NotificationEndpoint).where(
        NotificationEndpoint.id == endpoint_id, NotificationEndpoint.user_id == user_id
    )
    return (await session.scalars(statement)).first()


async def count_endpoints(session: AsyncSession, user_id: int) -> int:
    statement = select(func.count()).where(NotificationEndpoint.user_id == user_id)
    return int(await session.scalar(statement) or 0)


async def remove_endpoint(session: AsyncSession, user_id: int, endpoint_id: int) -> bool:
    """Delete the endpoint (its deliveries and test events go with it)."""
    statement = (
        delete(NotificationEndpoint)
        .where(NotificationEndpoint.id == endpoint_id, NotificationEndpoint.user_id == user_id)
        .returning(NotificationEndpoint.id)
    )
    return (await session.execute(statement)).first() is not None


async def add_test_event(session: AsyncSession, user_id: int, endpoint_id: int) -> int:
    """A `test` event for this one endpoint; the worker sends it like any other."""
    event = NotificationEvent(
        user_id=user_id,
        type=TEST,
        endpoint_id=endpoint_id,
        detail="A test delivery from TikTimer.",
    )
    session.add(event)
    await session.flush()
    return event.id


async def events_of(
    session: AsyncSession, user_id: int, *, limit: int, offset: int
) -> tuple[Sequence[NotificationEvent], int]:
    """The in-app list, newest first, and its total (test events are not listed)."""
    mine = (NotificationEvent.user_id == user_id, NotificationEvent.type != TEST)
    total = await session.scalar(select(func.count()).select_from(NotificationEvent).where(*mine))
    statement = (
        select(NotificationEvent)
        .where(*mine)
        .order_by(NotificationEvent.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return (await session.scalars(statement)).all(), int(total or 0)


async def mark_read(session: AsyncSession, user_id: int, now: datetime) -> int:
    """Every unread event of the user is read now; how many were unread."""
    statement = (
        update(NotificationEvent)
        .where(NotificationEvent.user_id == user_id, NotificationEvent.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(await session.execute(statement), "rowcount", 0) or 0)


async def deliveries_of(
    session: AsyncSession, user_id: int, *, endpoint_id: int | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """The delivery log, newest first, with each delivery's event type."""
    where = [NotificationEndpoint.user_id == user_id]
    if endpoint_id is not None:
        where.append(NotificationDelivery.endpoint_id == endpoint_id)
    joined = (
        select(NotificationDelivery, NotificationEvent.type, NotificationEvent.post_id)
        .join(NotificationEndpoint, NotificationEndpoint.id == NotificationDelivery.endpoint_id)
        .join(NotificationEvent, NotificationEvent.id == NotificationDelivery.event_id)
        .where(*where)
    )
    total = await session.scalar(select(func.count()).select_from(joined.subquery()))
    rows = await session.execute(
        joined.order_by(NotificationDelivery.id.desc()).limit(limit).offset(offset)
    )
    found = [
        {**_columns(delivery), "event_type": kind, "post_id": post_id}
        for delivery, kind, post_id in rows.all()
    ]
    return found, int(total or 0)


def _columns(delivery: NotificationDelivery) -> dict[str, Any]:
    return {c.key: getattr(delivery, c.key) for c in NotificationDelivery.__table__.columns}
