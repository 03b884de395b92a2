"""Admin pages: users (activate, deactivate, grant or revoke admin) and the audit log.

The same calls as `/admin/users` and `/admin/audit`: the last-admin guard and the audit
events of `UserService.admin_update` apply unchanged.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from tiktimer.audit.events import Event
from tiktimer.audit.repository import AuditFilter, list_events
from tiktimer.auth.ratelimits import client_address
from tiktimer.db.session import SessionDep
from tiktimer.errors import TiktimerError
from tiktimer.users.schemas import AdminUserUpdate, UserIdPath
from tiktimer.web.deps import AuditLogDep, UserServiceDep
from tiktimer.web.render import render
from tiktimer.web.session import APP_PATH, CsrfChecked, WebAdmin

router = APIRouter(prefix=APP_PATH + "/admin")
Change = Literal["activate", "deactivate", "grant_admin", "revoke_admin"]
CHANGES: dict[str, AdminUserUpdate] = {
    "activate": AdminUserUpdate(is_active=True),
    "deactivate": AdminUserUpdate(is_active=False),
    "grant_admin": AdminUserUpdate(is_superuser=True),
    "revoke_admin": AdminUserUpdate(is_superuser=False),
}
PAGE = 50


@router.get("/users")
async def users_page(
    request: Request,
    admin: WebAdmin,
    session: SessionDep,
    users: UserServiceDep,
    error: str | None = None,
) -> Response:
    found, total = await users.list_all(session, 500, 0)
    return await render(
        request,
        "admin_users.html",
        user=admin,
        session=session,
        users=found,
        total=total,
        error=error,
    )


@router.post("/users/{user_id}", dependencies=[CsrfChecked])
async def change_user(
    request: Request,
    user_id: UserIdPath,
    admin: WebAdmin,
    session: SessionDep,
    users: UserServiceDep,
    change: Annotated[Change, Form()],
) -> Response:
    try:
        await users.admin_update(
            session, user_id, CHANGES[change], actor_id=admin.id, address=client_address(request)
        )
    except TiktimerError as exc:
        await session.commit()  # the refusal's audit event stays
        return RedirectResponse(
            f"{APP_PATH}/admin/users?error={quote(str(exc.detail))}", status_code=303
        )
    return RedirectResponse(APP_PATH + "/admin/users", status_code=303)


@router.get("/audit")
async def audit_page(
    request: Request,
    admin: WebAdmin,
    session: SessionDep,
    audit: AuditLogDep,
    event: Event | None = None,
    page: int = 0,
) -> Response:
    await audit.flush()
    where = AuditFilter(event=event.value if event else None)
    found, total = await list_events(session, where, PAGE, max(0, page) * PAGE)
    return await render(
        request,
        "admin_audit.html",
        user=admin,
        session=session,
        events=found,
        total=total,
        page=max(0, page),
        pages=(total + PAGE - 1) // PAGE,
        event=event.value if event else "",
        event_names=[e.value for e in Event],
    )
