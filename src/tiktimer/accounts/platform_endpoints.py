"""Connection routes of every platform with OAuth in its spec: `/api/v1/auth/{platform}/…`.

`router_for(names)` writes the three routes out for each platform this app connects (the
paths are concrete, so the API's description lists each and an unknown platform is a plain
404); TikTok's own routes (`endpoints`) keep their paths and behaviour.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse

from tiktimer.accounts import binding
from tiktimer.accounts.binding import FLOW_COOKIE
from tiktimer.accounts.connect import ConnectError
from tiktimer.accounts.pages import result_page
from tiktimer.accounts.platform_connect import PlatformConnect
from tiktimer.accounts.schemas import AccountRead, AuthorizeResponse
from tiktimer.accounts.service import AccountService, to_read
from tiktimer.auth.dependencies import CurrentUser
from tiktimer.db.session import SessionDep
from tiktimer.errors import BadRequest
from tiktimer.kit.csp import csp_nonce
from tiktimer.kit.openapi import errors
from tiktimer.kit.schemas import DbId
from tiktimer.kit.state import provided
from tiktimer.models import AccountStatus

PlatformConnectDep = Annotated[PlatformConnect, Depends(provided(PlatformConnect))]
AccountsDep = Annotated[AccountService, Depends(provided(AccountService))]
_HTML_PAGE = {"content": {"text/html": {"schema": {"type": "string"}}}}
_CALLBACK_PAGES: dict[int | str, dict[str, Any]] = {
    200: {"description": "An HTML page: connected as …", **_HTML_PAGE},
    400: {
        "description": "An HTML page: not connected (declined, expired, forged or another "
        "browser's link)",
        **_HTML_PAGE,
    },
}
OTHER_BROWSER = (
    "This sign-in was finished in another browser than the one that started it, so "
    "nothing was attached. Start the connection again from TikTimer in this browser."
)


def router_for(platforms: Iterable[str]) -> APIRouter:
    """The connection routes of each named platform (registry names with an OAuth setup)."""
    router = APIRouter(tags=["platform accounts"])
    for platform in platforms:
        _add_routes(router, platform)
    return router


def _add_routes(router: APIRouter, platform: str) -> None:
    base = f"/api/v1/auth/{platform}"
    _add_authorize(router, platform, base)
    _add_callback(router, platform, base)
    _add_disconnect(router, platform, base)


def _add_authorize(router: APIRouter, platform: str, base: str) -> None:
    @router.get(
        f"{base}/authorize",
        response_model=AuthorizeResponse,
        responses=errors(401, 404, 422, also={307: {"description": "To the consent page"}}),
    )
    async def authorize(
        request: Request,
        response: Response,
        user: CurrentUser,
        session: SessionDep,
        connect: PlatformConnectDep,
        redirect: Annotated[
            bool, Query(description="Answer with a 307 to the consent page")
        ] = False,
    ) -> Response | AuthorizeResponse:
        """Start connecting an account of `platform`: its consent URL, valid for 10 minutes.

        The answer sets a cookie: only this browser can finish the connection.
        """
        provider = connect.provider(platform)
        started = await connect.start(session, user.id, platform)
        path = binding.cookie_path(platform)
        if redirect:
            response = RedirectResponse(started.authorization_url, status_code=307)
        binding.set_cookie(response, request, FLOW_COOKIE, started.browser_secret, path=path)
        if redirect:
            return response
        return AuthorizeResponse(
            authorization_url=started.authorization_url, sandbox=provider.sandbox
        )


def _add_callback(router: APIRouter, platform: str, base: str) -> None:
    @router.get(
        f"{base}/callback",
        response_class=Response,
        responses=errors(422, also=_CALLBACK_PAGES),
    )
    async def callback(
        request: Request,
        session: SessionDep,
        connect: PlatformConnectDep,
        state: str | None = None,
        code: str | None = None,
        error: str | None = None,
    ) -> Response:
        """Where the platform sends the browser back. No bearer: the state names the user."""
        nonce = csp_nonce(request)
        provider = connect.provider(platform)
        try:
            pending = await connect.consume_state(session, platform, state)
            if error or not code:
                reason = (
                    "You declined the request."
                    if error == "access_denied"
                    else (error or f"{provider.title} sent no authorization code.")
                )
                return result_page("Not connected", reason, ok=False, nonce=nonce, status_code=400)
            if not binding.proves(request.cookies.get(FLOW_COOKIE), state, "state"):
                return result_page(
                    "Not connected", OTHER_BROWSER, ok=False, nonce=nonce, status_code=400
                )
            account = await connect.complete(session, platform, pending, code)
        except ConnectError as exc:  # returning (not raising) commits: the state stays spent
            return result_page("Not connected", exc.message, ok=False, nonce=nonce, status_code=400)
        name = account.display_name or account.open_id
        suffix = " (sandbox)" if provider.sandbox else ""
        page = result_page("Connected", f"Connected as {name}{suffix}.", ok=True, nonce=nonce)
        binding.clear_cookie(page, request, FLOW_COOKIE, path=binding.cookie_path(platform))
        return page


def _add_disconnect(router: APIRouter, platform: str, base: str) -> None:
    @router.delete(
        f"{base}/disconnect",
        response_model=AccountRead,
        responses=errors(400, 401, 404, 422),
    )
    async def disconnect(
        user: CurrentUser,
        session: SessionDep,
        connect: PlatformConnectDep,
        accounts: AccountsDep,
        account_id: DbId | None = None,
    ) -> AccountRead:
        """Revoke TikTimer's access at the platform and delete the stored tokens."""
        connect.provider(platform)
        owned = [
            a
            for a in await accounts.list_for_owner(session, user.id)
            if a.platform == platform and (account_id is None or a.id == account_id)
        ]
        if account_id is None:
            owned = [a for a in owned if a.status != AccountStatus.disconnected]
            if len(owned) != 1:
                raise BadRequest(
                    f"Pass account_id: you have {len(owned)} connected {platform} accounts"
                )
        elif not owned:
            await accounts.get_owned(session, user.id, account_id)  # 404 when not yours
            raise BadRequest(f"Account {account_id} is not a {platform} account")
        return to_read(await connect.disconnect(session, owned[0]))
