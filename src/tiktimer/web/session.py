"""Browser sessions: a signed HttpOnly cookie, and CSRF tokens for every form and script.

The session cookie is a JWT signed with a key derived from the service's secret for this
purpose only, so it is never accepted as a bearer token, nor a bearer token as a session.
It names the user and their token version: signing out (or a password change) bumps the
version, which ends every session and every API token at once, as `POST /auth/logout` does.

CSRF: a double-submit token that is signed (random value + HMAC), kept in its own cookie
and repeated in each form (`csrf_token`) or script request (`X-CSRF-Token`). A forged
cross-site post cannot read it, and a cookie planted by a sibling host fails the signature.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import Response

from tiktimer.accounts.binding import is_https
from tiktimer.auth.dependencies import Principal, principal_of_claims
from tiktimer.auth.tokens import AccessClaims, AccessTokens, InvalidAccessToken
from tiktimer.db.fairpool import fair_connect
from tiktimer.db.read import read_engine
from tiktimer.errors import Forbidden, Unauthorized
from tiktimer.web.settings_view import web_settings

SESSION_COOKIE = "tiktimer_session"
CSRF_COOKIE = "tiktimer_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
APP_PATH = "/app"


class SignInRequired(Exception):
    """No valid session: the page answers with a redirect to the sign-in form."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfRefused(Forbidden):
    default_detail = "The form expired or came from another site; reload the page and try again."


@dataclass(frozen=True, slots=True)
class WebKeys:
    """The session signer and the CSRF key, both derived from the service's secret."""

    sessions: AccessTokens
    csrf_key: bytes
    lifetime: timedelta

    def csrf_token(self) -> str:
        nonce = secrets.token_urlsafe(18)
        return f"{nonce}.{self._sign(nonce)}"

    def csrf_valid(self, token: str | None) -> bool:
        if not token or "." not in token:
            return False
        nonce, signature = token.rsplit(".", 1)
        return hmac.compare_digest(self._sign(nonce), signature)

    def _sign(self, nonce: str) -> str:
        return hmac.new(self.csrf_key, nonce.encode(), hashlib.sha256).hexdigest()[:32]


def _derive(secret: str, purpose: str) -> str:
    return hmac.new(secret.encode(), f"tiktimer-web:{purpose}".encode(), "sha256").hexdigest()


@lru_cache(maxsize=8)
def _keys(secret: str, algorithm: str, days: int) -> WebKeys:
    lifetime = timedelta(days=days)
    signer = AccessTokens(_derive(secret, "session"), algorithm, lifetime)
    return WebKeys(signer, _derive(secret, "csrf").encode(), lifetime)


def web_keys(request: Request) -> WebKeys:
    """This service's web keys (the session lasts as long as an API refresh token)."""
    settings = web_settings(request)
    return _keys(settings.secret, settings.algorithm, settings.session_days)


def _cookie(response: Response, request: Request, name: str, value: str, age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )


def start_session(response: Response, request: Request, user_id: int, token_version: int) -> None:
    keys = web_keys(request)
    token = keys.sessions.issue(user_id, token_version)
    _cookie(response, request, SESSION_COOKIE, token, int(keys.lifetime.total_seconds()))


def end_session(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, secure=is_https(request))


def session_claims(request: Request) -> AccessClaims | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return web_keys(request).sessions.decode(token)
    except InvalidAccessToken:
        return None


async def optional_user(request: Request) -> Principal | None:
    """The signed-in user, or None (no cookie, a forged or stale one, a deactivated user)."""
    claims = session_claims(request)
    if claims is None:
        return None
    async with fair_connect(read_engine(request)) as connection:
        try:
            principal = await principal_of_claims(connection, claims)
        except Unauthorized:
            return None
    request.state.web_claims = claims
    return principal


async def required_user(
    request: Request, user: Annotated[Principal | None, Depends(optional_user)]
) -> Principal:
    if user is None:
        path = request.url.path
        raise SignInRequired(path if request.method == "GET" else APP_PATH)
    return user


async def required_admin(user: Annotated[Principal, Depends(required_user)]) -> Principal:
    if not user.is_superuser:
        raise Forbidden("Admin privileges required")
    return user


def claims_of(request: Request) -> AccessClaims:
    """The session's claims, once `required_user` has accepted them."""
    claims: AccessClaims = request.state.web_claims
    return claims


def csrf_for(request: Request, response: Response | None = None) -> str:
    """The token to put in this page's forms; sets its cookie when the browser has none."""
    keys = web_keys(request)
    current = request.cookies.get(CSRF_COOKIE)
    if keys.csrf_valid(current):
        return str(current)
    token = getattr(request.state, "new_csrf", None) or keys.csrf_token()
    request.state.new_csrf = token
    if response is not None:
        _cookie(response, request, CSRF_COOKIE, token, 7 * 24 * 3600)
    return str(token)


async def check_csrf(request: Request) -> None:
    """Every state-changing web request repeats the cookie's token (form field or header)."""
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not cookie or not hmac.compare_digest(sent, cookie):
        raise CsrfRefused()
    if not web_keys(request).csrf_valid(cookie):
        raise CsrfRefused()


WebUser = Annotated[Principal, Depends(required_user)]
WebAdmin = Annotated[Principal, Depends(required_admin)]
MaybeWebUser = Annotated[Principal | None, Depends(optional_user)]
CsrfChecked = Depends(check_csrf)
