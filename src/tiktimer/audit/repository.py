"""Reading the audit log back: filtered, newest first, one page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.models import AuditEvent


@dataclass(frozen=True, slots=True)
class AuditFilter:
    event: str | None = None
    outcome: str | None = None
    actor_user_id: int | None = None
    subject: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        table = AuditEvent
        found: list[ColumnElement[bool]] = []
        if self.event is not None:
            found.append(table.event == self.event)
        if self.outcome is not None:
            found.append(table.outcome == self.outcome)
        if self.actor_user_id is not None:
            found.append(table.actor_user_id == self.actor_user_id)
        if self.subject is not None:
            found.append(table.subject == self.subject)
        if self.since is not None:
            found.append(table.at >= self.since)
        if self.until is not None:
            found.append(table.at < self.until)
        return found


async def list_events(
    session: AsyncSession, where: AuditFilter, limit: int, offset: int
) -> tuple[list[AuditEvent], int]:
    conditions = where.conditions()
    total_query: Select[Any] = select(func.count()).select_from(AuditEvent).where(*conditions)
    total = (await session.execute(total_query)).scalar_one()
    page = (
        select(AuditEvent)
        .where(*conditions)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list((await session.execute(page)).scalars()), total
