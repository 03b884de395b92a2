"""Rendering a page: the template, the layout's facts (user, banners, CSRF) and its CSP.

Pages load only our own script and stylesheet (no inline code), so their policy forbids
inline script and style outright; fetches and media stay on this origin. Avatars from
TikTok's image hosts are the one exception (real TikTok only; the sandbox draws initials).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import HTMLResponse, Response

from tiktimer import __version__
from tiktimer.accounts.schemas import AccountRead
from tiktimer.accounts.service import AccountService, to_read
from tiktimer.auth.dependencies import Principal
from tiktimer.kit.state import services
from tiktimer.web.session import CSRF_FIELD, csrf_for
from tiktimer.web.settings_view import WebSettings, web_settings

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
AVATAR_HOSTS = "https://*.tiktokcdn.com https://*.tiktokcdn-us.com"
NEEDS_RECONNECT = frozenset({"expired", "reauth_required"})


def page_policy(settings: WebSettings) -> str:
    """Own script and style only; forms may also go on to TikTok's consent page."""
    auth = urlsplit(settings.tiktok_auth_url)
    consent = "" if settings.sandbox else f" {auth.scheme}://{auth.netloc}"
    images = "'self' data: blob:" + ("" if settings.sandbox else f" {AVATAR_HOSTS}")
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; media-src 'self' blob:; connect-src 'self'; "
        f"form-action 'self'{consent}; frame-ancestors 'none'; base-uri 'none'"
    )


def local_time(value: datetime | str | None, tz: str, fmt: str = "%a %d %b %Y, %H:%M") -> str:
    """An instant as the user's wall clock (stored instants are UTC)."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.astimezone(ZoneInfo(tz)).strftime(fmt)


PRIVACY_LABELS = {
    "PUBLIC_TO_EVERYONE": "Everyone",
    "MUTUAL_FOLLOW_FRIENDS": "Friends",
    "FOLLOWER_OF_CREATOR": "Followers",
    "SELF_ONLY": "Only me",
}
#: TikTok's publish status in words (the post page's timeline).
PLATFORM_STATUS = {
    "PROCESSING_UPLOAD": "TikTok is receiving and processing the video",
    "PROCESSING_DOWNLOAD": "TikTok is fetching and processing the media",
    "PUBLISH_COMPLETE": "TikTok published it",
    "SEND_TO_USER_INBOX": "Sent to the creator's TikTok inbox: finish it in the TikTok app",
    "FAILED": "TikTok refused it",
}
TEMPLATES.env.filters["local"] = local_time
TEMPLATES.env.globals["platform_status"] = PLATFORM_STATUS
TEMPLATES.env.globals["privacy_labels"] = PRIVACY_LABELS


async def accounts_of(request: Request, session: AsyncSession, user_id: int) -> list[AccountRead]:
    owned = await services(request).provide(AccountService).list_for_owner(session, user_id)
    return [to_read(account) for account in owned]


async def render(
    request: Request,
    template: str,
    *,
    user: Principal | None,
    session: AsyncSession | None = None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """The page, with the layout's banners: sandbox mode, accounts to reconnect."""
    settings = web_settings(request)
    accounts = context.get("accounts")
    if accounts is None and user is not None and session is not None:
        accounts = await accounts_of(request, session, user.id)
    reconnect = [a for a in accounts or [] if a.token_health in NEEDS_RECONNECT]
    response: HTMLResponse = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "sandbox": settings.sandbox,
            "reconnect": reconnect,
            "csrf_field": CSRF_FIELD,
            "csrf": csrf_for(request),
            "version": __version__,
            "tz": user.timezone if user else "UTC",
            **context,
        },
        status_code=status_code,
        headers={"Cache-Control": "no-store", "Content-Security-Policy": page_policy(settings)},
    )
    csrf_for(request, response)
    return response


def field_messages(detail: Any) -> dict[str, list[str]]:
    """A 422's `detail` (FastAPI's shape) as messages per field, for inline errors."""
    found: dict[str, list[str]] = {}
    if isinstance(detail, str):
        return {"_": [detail]}
    for item in detail if isinstance(detail, list) else []:
        loc = [str(part) for part in item.get("loc", []) if part != "body"]
        found.setdefault(loc[0] if loc else "_", []).append(str(item.get("msg", "")))
    return found
