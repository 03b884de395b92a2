"""TikTok connection routes (the original's paths) and the accounts list."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.ext.asyncio import AsyncSession

from tiktimer.accounts import binding
from tiktimer.accounts.binding import CONFIRM_COOKIE, FLOW_COOKIE
from tiktimer.accounts.connect import ConnectError, ConnectService
from tiktimer.accounts.pages import CONFIRM_PATH, confirm_page, result_page
from tiktimer.accounts.schemas import (
    AccountIdPath,
    AccountRead,
    AuthorizeResponse,
    ConnectResult,
    ExchangeRequest,
)
from tiktimer.accounts.service import AccountService, to_read
from tiktimer.auth.dependencies import CurrentUser
from tiktimer.auth.ratelimits import CredentialLimits, CredentialLimitsDep, client_address
from tiktimer.auth.schemas import TokenPair
from tiktimer.auth.service import AuthService
from tiktimer.auth.tokens import AccessTokens
from tiktimer.db.session import SessionDep
from tiktimer.errors import BadRequest, TiktimerError, TooManyRequests
from tiktimer.kit.csp import csp_nonce
from tiktimer.kit.openapi import errors
from tiktimer.kit.schemas import DbId
from tiktimer.kit.state import provided
from tiktimer.models import SocialAccount

router = APIRouter(tags=["tiktok accounts"])


ConnectDep = Annotated[ConnectService, Depends(provided(ConnectService))]
AccountsDep = Annotated[AccountService, Depends(provided(AccountService))]
AuthDep = Annotated[AuthService, Depends(provided(AuthService))]
AccessDep = Annotated[AccessTokens, Depends(provided(AccessTokens))]
_HTML_PAGE = {"content": {"text/html": {"schema": {"type": "string"}}}}
_CALLBACK_PAGES: dict[int | str, dict[str, Any]] = {
    200: {"description": "An HTML page: connected as …", **_HTML_PAGE},
    400: {
        "description": "An HTML page: not connected (declined, expired or forged link)",
        **_HTML_PAGE,
    },
}
_CONFIRM_PAGES: dict[int | str, dict[str, Any]] = {
    200: {"description": "An HTML page: connected as …", **_HTML_PAGE},
    400: {"description": "An HTML page: expired or used confirmation", **_HTML_PAGE},
    401: {"description": "An HTML page: sign-in failed, nothing attached", **_HTML_PAGE},
    403: {"description": "An HTML page: another user or browser: nothing", **_HTML_PAGE},
    429: {"description": "An HTML page: too many sign-in attempts", **_HTML_PAGE},
}


@router.get(
    "/api/v1/auth/tiktok/authorize",
    response_model=AuthorizeResponse,
    responses=errors(
        401, 422, also={307: {"description": "With `redirect=true`: to TikTok's consent page"}}
    ),
)
async def authorize(
    request: Request,
    response: Response,
    user: CurrentUser,
    session: SessionDep,
    connect: ConnectDep,
    redirect: Annotated[bool, Query(description="Answer with a 307 to TikTok")] = False,
) -> Response | AuthorizeResponse:
    """Start connecting a TikTok account: TikTok's consent URL, valid for 10 minutes.

    The answer sets a cookie that lets this browser finish the connection by itself; any
    other browser opening the URL must sign in as you to confirm.
    """
    started = await connect.start_bound(session, user.id)
    if redirect:
        response = RedirectResponse(started.authorization_url, status_code=307)
        binding.set_cookie(response, request, FLOW_COOKIE, started.browser_secret)
        return response
    binding.set_cookie(response, request, FLOW_COOKIE, started.browser_secret)
    return AuthorizeResponse(authorization_url=started.authorization_url, sandbox=connect.sandbox)


@router.get(
    "/api/v1/auth/tiktok/callback",
    response_class=Response,
    responses=errors(422, also=_CALLBACK_PAGES),
)
async def callback(
    request: Request,
    session: SessionDep,
    connect: ConnectDep,
    state: str | None = None,
    code: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
) -> Response:
    """Where TikTok sends the browser back. No bearer: the state identifies the user.

    Only the browser that started the flow (its cookie) connects at once; any other gets a
    page asking the starting user to sign in, and nothing is attached until they do.
    """
    nonce = csp_nonce(request)
    try:
        pending = await connect.consume_state(session, state)
        if error or not code:
            reason = (
                "You declined the request."
                if error == "access_denied"
                else (error_description or error or "TikTok sent no authorization code.")
            )
            return result_page("Not connected", reason, ok=False, nonce=nonce, status_code=400)
        if not binding.proves(request.cookies.get(FLOW_COOKIE), state, "state"):
            secret = await connect.park(session, pending, code)
            page = confirm_page(binding.derive(secret, "confirm"), nonce=nonce)
            binding.set_cookie(page, request, CONFIRM_COOKIE, secret)
            return page
        account = await connect.complete(session, pending, code)
    except ConnectError as exc:  # returning (not raising) commits: the state stays spent
        return result_page("Not connected", exc.message, ok=False, nonce=nonce, status_code=400)
    page = connected_page(account, sandbox=connect.sandbox, nonce=nonce)
    binding.clear_cookie(page, request, FLOW_COOKIE)
    return page


@router.post(
    CONFIRM_PATH,
    # Not HTMLResponse: the JSON errors (413, 422, 429) must be documented as JSON.
    response_class=Response,
    responses=_CONFIRM_PAGES | errors(413, 422),
)
async def confirm(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    ticket: Annotated[str, Form(max_length=128)],
    session: SessionDep,
    connect: ConnectDep,
    auth: AuthDep,
    access: AccessDep,
    limits: CredentialLimitsDep,
) -> Response:
    """The confirmation page's form: sign in as the user who started the connection.

    One try per ticket: whatever the outcome, the held code is spent.
    """
    nonce = csp_nonce(request)
    try:
        if not binding.proves(request.cookies.get(CONFIRM_COOKIE), ticket, "confirm"):
            raise _Refused(FOREIGN_CONFIRMATION, 403)
        parked = await connect.consume_ticket(session, ticket)
        signed_in = await _sign_in(request, form, session, auth, limits)
        if access.decode(signed_in.access_token).user_id != parked.pending.user_id:
            raise _Refused(OTHER_USER, 403)
        account = await connect.complete(session, parked.pending, parked.code)
    except ConnectError as exc:  # returning (not raising) commits: the ticket stays spent
        return _refused_page(_Refused(exc.message, 400), nonce)
    except _Refused as refusal:
        return _refused_page(refusal, nonce)
    page = connected_page(account, sandbox=connect.sandbox, nonce=nonce)
    binding.clear_cookie(page, request, CONFIRM_COOKIE)
    return page


FOREIGN_CONFIRMATION = (
    "This confirmation did not come from the page TikTimer showed this browser; "
    "nothing was attached. Start the connection again from TikTimer."
)
OTHER_USER = (
    "You signed in as a different TikTimer user than the one who started this "
    "connection, so nothing was attached."
)


class _Refused(Exception):
    """The confirmation attaches nothing; the page says why, with this status."""

    def __init__(
        self, message: str, status_code: int, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.headers = dict(headers or {})


def _refused_page(refusal: _Refused, nonce: str) -> HTMLResponse:
    page = result_page(
        "Not connected", refusal.message, ok=False, nonce=nonce, status_code=refusal.status_code
    )
    page.headers.update(refusal.headers)
    return page


async def _sign_in(
    request: Request,
    form: OAuth2PasswordRequestForm,
    session: AsyncSession,
    auth: AuthService,
    limits: CredentialLimits,
) -> TokenPair:
    """Sign in as POST /token does (per-address limits first); refusals become pages."""
    address = client_address(request)
    try:
        await limits.login(address)
        return await auth.login(
            session, form.username, form.password, limits=limits, address=address
        )
    except TooManyRequests as exc:
        raise _Refused(f"{exc.detail}. Nothing was attached.", 429, exc.headers) from None
    except TiktimerError:
        raise _Refused(
            "Sign-in failed, so nothing was attached. Start the connection again from TikTimer.",
            401,
        ) from None


def connected_page(account: SocialAccount, *, sandbox: bool, nonce: str) -> HTMLResponse:
    read = to_read(account)
    name = f"@{read.username}" if read.username else (read.display_name or read.open_id)
    warning = None
    if read.missing_scopes:
        warning = (
            "TikTok did not grant "
            + ", ".join(read.missing_scopes)
            + ": TikTimer cannot publish for this account until you reconnect and allow them."
        )
    suffix = " (sandbox)" if sandbox else ""
    return result_page(
        "Connected", f"Connected as {name}{suffix}.", ok=True, nonce=nonce, warning=warning
    )


@router.post(
    "/api/v1/auth/tiktok/exchange-token",
    response_model=ConnectResult,
    responses=errors(400, 401, 413, 422),
)
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


@router.delete(
    "/api/v1/auth/tiktok/disconnect",
    response_model=AccountRead,
    responses=errors(400, 401, 404, 422),
)
async def disconnect(
    user: CurrentUser,
    session: SessionDep,
    accounts: AccountsDep,
    account_id: DbId | None = None,
) -> AccountRead:
    """Revoke TikTimer's access at TikTok and delete the stored tokens."""
    return to_read(await accounts.disconnect(session, user.id, account_id))


@router.get("/api/v1/accounts", response_model=list[AccountRead], responses=errors(401))
async def list_accounts(
    user: CurrentUser, session: SessionDep, accounts: AccountsDep
) -> list[AccountRead]:
    """Your connected accounts with scopes and token health; never a token."""
    return [to_read(a) for a in await accounts.list_for_owner(session, user.id)]


@router.get(
    "/api/v1/accounts/{account_id}", response_model=AccountRead, responses=errors(401, 404, 422)
)
async def get_account(
    account_id: AccountIdPath, user: CurrentUser, session: SessionDep, accounts: AccountsDep
) -> AccountRead:
    """One of your accounts; another user's account is 404."""
    return to_read(await accounts.get_owned(session, user.id, account_id))
