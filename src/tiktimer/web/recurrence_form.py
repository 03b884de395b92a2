"""The composer's "Repeat" choice: a post scheduled to repeat becomes a recurring series."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.auth.dependencies import Principal
from tiktimer.config import Settings
from tiktimer.kit.state import services
from tiktimer.kit.time import utc_now
from tiktimer.planning import series as series_service
from tiktimer.planning.materialise import materialiser_for
from tiktimer.posts.queue.wakeup import DueSignal
from tiktimer.posts.schemas import PostCreate
from tiktimer.posts.service import PostService

CHOICES = {
    "": "Does not repeat",
    "FREQ=DAILY": "Every day",
    "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR": "Every weekday (Monday to Friday)",
    "FREQ=WEEKLY": "Every week on this day",
    "FREQ=MONTHLY": "Every month on this date",
    "custom": "Custom rule (RRULE)",
}


def repeat_rule(raw: dict[str, Any]) -> str | None:
    """The RRULE the form asks for, or None for a one-off post."""
    choice = raw.get("repeat") or ""
    if choice == "custom":
        return (raw.get("rrule") or "").strip() or None
    return choice if choice in CHOICES and choice else None


async def save_series(
    request: Request,
    session: AsyncSession,
    user: Principal,
    posts: PostService,
    rule: str,
    when: datetime,
    fields: dict[str, Any],
) -> int:
    """Start the series; returns its first occurrence's post id (the page to show)."""
    provider = services(request)
    materialiser = materialiser_for(provider.provide(Settings), provider.provide(DueSignal))
    now = utc_now()
    data = PostCreate(**fields, scheduled_time=now)
    created = await series_service.create(
        session,
        posts,
        materialiser,
        user,
        rrule=rule,
        dtstart=when,
        timezone=None,
        post=data,
        now=now,
    )
    first = await series_service.occurrences_of(session, created.id, limit=1000)
    post_ids = [o.post_id for o, _ in first if o.post_id is not None]
    return post_ids[0]
