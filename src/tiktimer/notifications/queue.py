"""The worker's statements: route events to deliveries, claim due deliveries, record tries.

Routing makes one delivery row per (event, endpoint); the unique constraint and
`ON CONFLICT DO NOTHING` keep it one even if two workers route the same event. A claim takes
due rows `FOR UPDATE SKIP LOCKED` (SQLite: one writer at a time) and leases them to one
worker, so a delivery is sent by one worker at a time; a worker that dies mid-send leaves a
lease that runs out, and the delivery is sent again (receivers dedupe on the event id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tiktimer.db.dialect import Writes, claim_lock, insert_for
from tiktimer.models import NotificationDelivery, NotificationEndpoint, NotificationEvent
from tiktimer.notifications.events import TEST

events = cast(Table, NotificationEvent.__table__)
endpoints = cast(Table, NotificationEndpoint.__table__)
deliveries = cast(Table, NotificationDelivery.__table__)
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


@dataclass(frozen=True, slots=True)
class Job:
    """One claimed delivery, with what sending it needs."""

    delivery_id: int
    attempts: int
    url: str
    secret_encrypted: str
    event: dict[str, Any]


def _due(now: datetime) -> Any:
    return (
        deliveries.c.status == PENDING,
        deliveries.c.next_attempt_at <= now,
        or_(deliveries.c.lease_expires_at.is_(None), deliveries.c.lease_expires_at < now),
    )


async def has_work(connection: AsyncConnection, now: datetime) -> bool:
    """A cheap read before any write lock: an event to route or a delivery due."""
    unrouted = exists().where(events.c.routed == 0)
    due = exists().where(*_due(now))
    return bool((await connection.execute(select(unrouted | due))).scalar())


async def route_events(writes: Writes, now: datetime, limit: int) -> int:
    """Make the deliveries of up to `limit` unrouted events; how many events were routed."""
    async with writes.transaction() as connection:
        picked = claim_lock(
            select(events.c.id, events.c.user_id, events.c.type, events.c.endpoint_id)
            .where(events.c.routed == 0)
            .order_by(events.c.id)
            .limit(limit),
            of=events,
        )
        rows = (await connection.execute(picked)).all()
        if not rows:
            return 0
        targets = await _subscribers(connection, {row.user_id for row in rows})
        values = [
            {"event_id": row.id, "endpoint_id": endpoint_id}
            for row in rows
            for endpoint_id in _endpoints_for(row, targets.get(row.user_id, []))
        ]
        if values:
            statement = insert_for(connection, deliveries).on_conflict_do_nothing(
                index_elements=["event_id", "endpoint_id"]
            )
            filled = [v | _fresh(now) for v in values]
            await connection.execute(statement, filled)
        routed = update(events).where(events.c.id.in_([row.id for row in rows]))
        await connection.execute(routed.values(routed=1))
        return len(rows)


def _fresh(now: datetime) -> dict[str, Any]:
    return {"status": PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now}


def _endpoints_for(event: Any, subscribed: list[tuple[int, list[str]]]) -> list[int]:
    if event.type == TEST:
        return [event.endpoint_id] if event.endpoint_id is not None else []
    return [endpoint_id for endpoint_id, kinds in subscribed if event.type in kinds]


async def _subscribers(
    connection: AsyncConnection, user_ids: set[int]
) -> dict[int, list[tuple[int, list[str]]]]:
    statement = select(endpoints.c.id, endpoints.c.user_id, endpoints.c.events).where(
        endpoints.c.user_id.in_(user_ids)
    )
    found: dict[int, list[tuple[int, list[str]]]] = {}
    for row in await connection.execute(statement):
        found.setdefault(row.user_id, []).append((row.id, list(row.events or [])))
    return found


async def claim_due(
    writes: Writes, worker_id: str, now: datetime, lease: timedelta, limit: int
) -> list[Job]:
    """Lease up to `limit` due deliveries to `worker_id`."""
    async with writes.transaction() as connection:
        picked = claim_lock(
            select(deliveries.c.id)
            .where(*_due(now))
            .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
            .limit(limit),
            of=deliveries,
        )
        ids = list((await connection.execute(picked)).scalars())
        if not ids:
            return []
        await connection.execute(
            update(deliveries)
            .where(deliveries.c.id.in_(ids))
            .values(claimed_by=worker_id, lease_expires_at=now + lease)
        )
        return await _jobs(connection, ids)


async def _jobs(connection: AsyncConnection, ids: list[int]) -> list[Job]:
    statement = (
        select(
            deliveries.c.id.label("delivery_id"),
            deliveries.c.attempts,
            endpoints.c.url,
            endpoints.c.secret_encrypted,
            events,
        )
        .join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
        .join(events, events.c.id == deliveries.c.event_id)
        .where(deliveries.c.id.in_(ids))
        .order_by(deliveries.c.id)
    )
    jobs = []
    for row in (await connection.execute(statement)).mappings():
        event = {column.key: row[column] for column in events.c}
        jobs.append(
            Job(row["delivery_id"], row["attempts"], row["url"], row["secret_encrypted"], event)
        )
    return jobs


async def record_try(
    writes: Writes, delivery_id: int, worker_id: str, values: dict[str, Any]
) -> bool:
    """Write one try's result, if this worker still holds the delivery's lease."""
    statement = (
        update(deliveries)
        .where(deliveries.c.id == delivery_id, deliveries.c.claimed_by == worker_id)
        .values(**values, claimed_by=None, lease_expires_at=None)
        .returning(deliveries.c.id)
    )
    async with writes.one_statement() as connection:
        return (await connection.execute(statement)).first() is not None


async def prune(writes: Writes, before: datetime) -> int:
    """Delete events created before `before` that have nothing left to send."""
    unsent = exists().where(deliveries.c.event_id == events.c.id, deliveries.c.status == PENDING)
    statement = (
        delete(events)
        .where(events.c.created_at < before, events.c.routed == 1, ~unsent)
        .returning(events.c.id)
    )
    async with writes.transaction() as connection:
        await connection.execute(
            delete(deliveries).where(
                deliveries.c.status != PENDING,
                deliveries.c.event_id.in_(select(events.c.id).where(events.c.created_at < before)),
            )
        )
        return len((await connection.execute(statement)).all())
