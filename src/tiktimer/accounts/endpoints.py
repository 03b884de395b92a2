"""TikTok connection routes (the original's paths) and the accounts list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import RedirectResponse

from tiktimer.accounts.connect import ConnectError, ConnectService
from tiktimer.accounts.pages import result_page
from tiktimer.accounts.schemas import AccountRead, AuthorizeResponse, ConnectResult, ExchangeRequest
from tiktimer.accounts.service import AccountService, to_read
from tiktimer.auth.dependencies import CurrentUser
from tiktimer.db.session import SessionDep
from tiktimer.errors import BadRequest
from tiktimer.kit.state import from_state

router = APIRouter(tags=["tiktok accounts"])


ConnectDep = Annotated[ConnectService, Depends(from_state("connect_service"))]
AccountsDep = Annotated[AccountService, Depends(from_state("account_service"))]


@router.get("/api/v1/auth/tiktok/authorize", response_model=AuthorizeResponse)
async def authorize(
    user: CurrentUser,
    session: SessionDep,
    connect: ConnectDep,
    redirect: Annotated[bool, Query(description="Answer with a 307 to TikTok")] = False,
) -> Response | AuthorizeResponse:
    """Start connecting a TikTok account: TikTok's consent URL, valid for 10 minutes."""
    url = await connect.start(session, user.id)
    if redirect:
        return RedirectResponse(url, status_code=307)
    return AuthorizeResponse(authorization_url=url, sandbox=connect.sandbox)


@router.get("/api/v1/auth/tiktok/callback", include_in_schema=True, response_class=Response)
async def callback(
    session: SessionDep,
    connect: ConnectDep,
    state: str | None = None,
    code: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
) -> Response:
    """Where TikTok sends the browser back. No bearer: the state identifies the user."""
    try:
        pending = await connect.consume_state(session, state)
        if error or not code:
            reason = (
                "You declined the request."
                if error == "access_denied"
                else (error_description or error or "TikTok sent no authorization code.")
            )
            return result_page("Not connected", reason, ok=False, status_code=400)
        account = await connect.complete(session, pending, code)
    except ConnectError as exc:  # returning (not raising) commits: the state stays spent
        return result_page("Not connected", exc.message, ok=False, status_code=400)
    read = to_read(account)
    name = f"@{read.username}" if read.username else (read.display_name or read.open_id)
    warning = None
    if read.missing_scopes:
        warning = (
            "TikTok did not grant "
            + ", ".join(read.missing_scopes)
            + ": TikTimer cannot publish for this account until you reconnect and allow them."
        )
    sandbox = " (sandbox)" if connect.sandbox else ""
    return result_page("Connected", f"Connected as {name}{sandbox}.", ok=True, warning=warning)


@router.post("/api/v1/auth/tiktok/exchange-token", response_model=ConnectResult)
async def exchange_token(
    body: ExchangeRequest, user: CurrentUser, session: SessionDep, connect: ConnectDep
) -> ConnectResult:
    """Finish a connection by hand, when TikTok's redirect cannot reach this server."""
    try:
        pending = await connect.consume_state(session, body.state, user_id=user.id)
        account = await connect.complete(session, pending, body.code)
    except ConnectError as exc:
        await session.commit()  # the state stays spent despite the error response
        raise BadRequest(exc.message) from None
    return ConnectResult(account=to_read(account), sandbox=connect.sandbox)


@router.delete("/api/v1/auth/tiktok/disconnect", response_model=AccountRead)
async def disconnect(
    user: CurrentUser,
    session: SessionDep,
    accounts: AccountsDep,
    account_id: int | None = None,
) -> AccountRead:
    """Revoke TikTimer's access at TikTok and delete the stored tokens."""
    return to_read(await accounts.disconnect(session, user.id, account_id))


@router.get("/api/v1/accounts", response_model=list[AccountRead])
async def list_accounts(
    user: CurrentUser, session: SessionDep, accounts: AccountsDep
) -> list[AccountRead]:
    """Your connected accounts with scopes and token health; never a token."""
    return [to_read(a) for a in await accounts.list_for_owner(session, user.id)]


@router.get("/api/v1/accounts/{account_id}", response_model=AccountRead)
async def get_account(
    account_id: int, user: CurrentUser, session: SessionDep, accounts: AccountsDep
) -> AccountRead:
    """One of your accounts; another user's account is 404."""
    return to_read(await accounts.get_owned(session, user.id, account_id))
