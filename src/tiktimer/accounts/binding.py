"""Proof that the browser finishing a connection (TikTok's or another platform's) is the
one that started it.

A consent link can travel: mailed, pasted, opened on someone else's phone. Whoever opens it
picks the TikTok account, so the callback must not attach that account to the TikTimer user
who made the link unless that user is the one finishing. Two proofs count:

* the browser holds a secret (an HttpOnly cookie set when the flow started) whose hash is
  the OAuth state: knowing the state, which travels in URLs, does not give the secret;
* that user signs in on a confirmation page, whose form carries a one-time ticket that is
  again the hash of a cookie set with the page (so a forged cross-site post cannot use it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from starlette.requests import HTTPConnection
from starlette.responses import Response

COOKIE_PATH = "/api/v1/auth/tiktok"
FLOW_COOKIE = "tiktimer_connect"  # set by /authorize, proves the state at /callback
CONFIRM_COOKIE = "tiktimer_confirm"  # set with the confirmation page, proves its ticket
COOKIE_MAX_AGE = 600  # the state's lifetime


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def derive(secret: str, purpose: str) -> str:
    """The public value (state or ticket) bound to a browser's secret; one-way."""
    digest = hashlib.sha256(f"tiktimer:{purpose}:{secret}".encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def proves(secret: str | None, value: str | None, purpose: str) -> bool:
    if not secret or not value:
        return False
    return hmac.compare_digest(derive(secret, purpose).encode(), value.encode())


def cookie_path(platform: str) -> str:
    """The flow cookie's path for a platform's routes (TikTok's: `COOKIE_PATH`)."""
    return f"/api/v1/auth/{platform}"


def set_cookie(
    response: Response,
    request: HTTPConnection,
    name: str,
    value: str,
    *,
    path: str = COOKIE_PATH,
) -> None:
    """HttpOnly; SameSite=Lax for the flow cookie (it must survive TikTok's redirect back),
    Strict for the confirmation cookie (only our own page posts the form); Secure on HTTPS."""
    response.set_cookie(
        name,
        value,
        max_age=COOKIE_MAX_AGE,
        path=path,
        httponly=True,
        samesite="strict" if name == CONFIRM_COOKIE else "lax",
        secure=is_https(request),
    )


def clear_cookie(
    response: Response, request: HTTPConnection, name: str, *, path: str = COOKIE_PATH
) -> None:
    response.delete_cookie(name, path=path, httponly=True, secure=is_https(request), samesite="lax")


def is_https(request: HTTPConnection) -> bool:
    """HTTPS as the browser saw it (uvicorn applies trusted proxies' X-Forwarded-Proto)."""
    if request.url.scheme == "https":
        return True
    parts = getattr(request.app.state, "services", None)  # absent before start-up
    return bool(parts and parts.settings.server.public_base_url.startswith("https://"))
