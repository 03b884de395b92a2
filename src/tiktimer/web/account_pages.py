"""The accounts page: connect a TikTok account from the browser, disconnect, token health.

Connecting starts the same bound OAuth flow as `GET /api/v1/auth/tiktok/authorize`
(`ConnectService.start_bound` and its browser cookie); TikTok's redirect comes back to the
API's callback, whose result page links back here.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from tiktimer.accounts import binding
from tiktimer.accounts.binding import FLOW_COOKIE
from tiktimer.accounts.schemas import AccountIdPath
from tiktimer.db.session import SessionDep
from tiktimer.errors import TiktimerError
from tiktimer.kit.time import utc_now
from tiktimer.web.deps import AccountsDep, ConnectDep
from tiktimer.web.domain import (
    PublishingDep,
    SignalDep,
    account_budget,
    pause_account,
    resume_account,
)
from tiktimer.web.render import accounts_of, render
from tiktimer.web.session import APP_PATH, CsrfChecked, WebUser

router = APIRouter(prefix=APP_PATH)
REQUIRED_SCOPES = ("user.info.basic", "video.publish", "video.upload")


@router.get("/accounts")
async def accounts_page(
    request: Request,
    user: WebUser,
    session: SessionDep,
    parts: PublishingDep,
    error: str | None = None,
) -> Response:
    accounts = await accounts_of(request, session, user.id)
    budgets = {}
    for account in accounts:
        budget = await account_budget(
            session,
            account_id=account.id,
            at=utc_now(),
            inbox=False,
            cap=parts.tiktok.daily_post_cap,
            exclude_post_id=None,
        )
        budgets[account.id] = max(0, budget.cap - (budget.used - 1))
    return await render(
        request,
        "accounts.html",
        user=user,
        accounts=accounts,
        budgets=budgets,
        required_scopes=REQUIRED_SCOPES,
        error=error,
        now=utc_now(),
    )


@router.post("/accounts/connect", dependencies=[CsrfChecked])
async def connect_account(
    request: Request, user: WebUser, session: SessionDep, connect: ConnectDep
) -> Response:
    """To TikTok's consent page (the sandbox's own, in sandbox mode), bound to this browser."""
    started = await connect.start_bound(session, user.id)
    response = RedirectResponse(started.authorization_url, status_code=303)
    binding.set_cookie(response, request, FLOW_COOKIE, started.browser_secret)
    return response


@router.post("/accounts/{account_id}/disconnect", dependencies=[CsrfChecked])
async def disconnect_account(
    account_id: AccountIdPath, user: WebUser, session: SessionDep, accounts: AccountsDep
) -> Response:
    try:
        await accounts.disconnect(session, user.id, account_id)
    except TiktimerError as exc:
        await session.rollback()
        return RedirectResponse(f"{APP_PATH}/accounts?error={exc.detail}", status_code=303)
    return RedirectResponse(APP_PATH + "/accounts", status_code=303)


@router.post("/accounts/{account_id}/pause", dependencies=[CsrfChecked])
async def pause(account_id: AccountIdPath, user: WebUser, session: SessionDep) -> Response:
    """Hold every post of the account (`POST /api/v1/accounts/{id}/pause`)."""
    try:
        await pause_account(account_id, user, session)
    except TiktimerError as exc:
        await session.rollback()
        return RedirectResponse(f"{APP_PATH}/accounts?error={exc.detail}", status_code=303)
    return RedirectResponse(APP_PATH + "/accounts", status_code=303)


@router.post("/accounts/{account_id}/resume", dependencies=[CsrfChecked])
async def resume(
    account_id: AccountIdPath, user: WebUser, session: SessionDep, signal: SignalDep
) -> Response:
    """Publish its posts again, by the late-publish policy."""
    try:
        await resume_account(account_id, user, session, signal)
    except TiktimerError as exc:
        await session.rollback()
        return RedirectResponse(f"{APP_PATH}/accounts?error={exc.detail}", status_code=303)
    return RedirectResponse(APP_PATH + "/accounts", status_code=303)
