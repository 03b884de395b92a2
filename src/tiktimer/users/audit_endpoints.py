"""`GET /admin/audit`: the audit log, for admins (beside `/admin/users`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from tiktimer.audit.events import Event, Outcome
from tiktimer.audit.repository import AuditFilter, list_events
from tiktimer.audit.schemas import AuditEventRead, Instant
from tiktimer.audit.writer import AuditLog
from tiktimer.auth.dependencies import AdminUser
from tiktimer.db.session import SessionDep
from tiktimer.kit.openapi import errors
from tiktimer.kit.state import provided

router = APIRouter(tags=["users"])

MAX_ID = 2**31 - 1

AuditLogDep = Annotated[AuditLog, Depends(provided(AuditLog))]


@router.get("/admin/audit", response_model=list[AuditEventRead], responses=errors(401, 403, 422))
async def list_audit_events(
    _admin: AdminUser,
    session: SessionDep,
    audit: AuditLogDep,
    response: Response,
    event: Event | None = None,
    outcome: Outcome | None = None,
    actor_user_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    subject: Annotated[str | None, Query(max_length=128, pattern=r"^[^\x00]*$")] = None,
    since: Annotated[Instant | None, Query(description="From this instant on")] = None,
    until: Annotated[Instant | None, Query(description="Before this instant")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> list[AuditEventRead]:
    """Security events, newest first (admins only); the total is in `X-Total-Count`."""
    await audit.flush()  # what this process saw so far is listed, failed logins included
    where = AuditFilter(
        event=event.value if event else None,
        outcome=outcome.value if outcome else None,
        actor_user_id=actor_user_id,
        subject=subject,
        since=since,
        until=until,
    )
    found, total = await list_events(session, where, limit, offset)
    response.headers["X-Total-Count"] = str(total)
    return [AuditEventRead.model_validate(e) for e in found]
