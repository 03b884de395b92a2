"""The OAuth hosts: the authorize window (www.instagram.com, §2.1), the code exchange
(api.instagram.com, §2.2), the long-lived exchange and refresh (graph.instagram.com, §2.3).

The consent page is a plain form posting back to `/oauth/authorize` with the authorize
parameters unchanged, `username` (a sandbox account) and `decision` (`allow` or `deny`);
tests may post it directly.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..errors import invalid_parameter
from .common import emulator_of, form_only, parameters

router = APIRouter()
AUTHORIZE_FIELDS = ("client_id", "redirect_uri", "response_type", "scope", "state")


@router.get("/oauth/authorize")
async def authorize_page(request: Request) -> Response:
    params = dict(request.query_params)
    emulator_of(request).check_authorize(params)
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{escape(params[name])}">'
        for name in AUTHORIZE_FIELDS
        if name in params
    )
    page = (
        "<!doctype html><title>Instagram sandbox</title><form method=post>"
        f"{hidden}<label>Account <input name=username></label>"
        "<button name=decision value=allow>Allow</button>"
        "<button name=decision value=deny>Cancel</button></form>"
    )
    return HTMLResponse(page)


@router.post("/oauth/authorize")
async def authorize_decision(request: Request) -> Response:
    emulator = emulator_of(request)
    form = await form_only(request)
    authorize = emulator.check_authorize(form)
    if form.get("decision") != "allow":
        query = {
            "error": "access_denied",
            "error_reason": "user_denied",
            "error_description": "The user denied your request.",
        }
        if authorize.state:
            query["state"] = authorize.state
        return RedirectResponse(f"{authorize.redirect_uri}?{urlencode(query)}#_", 302)
    location = await emulator.consent(authorize, form.get("username", ""))
    return RedirectResponse(location, status_code=302)


@router.post("/oauth/access_token")
async def access_token(request: Request) -> Response:
    form = await form_only(request)
    if not form:
        raise invalid_parameter("The code exchange must be a POST form.")
    return JSONResponse(await emulator_of(request).exchange_code(form))


@router.get("/access_token")
async def long_lived(request: Request) -> Response:
    params = await parameters(request)
    return JSONResponse(await emulator_of(request).exchange_long_lived(params))


@router.get("/refresh_access_token")
async def refresh(request: Request) -> Response:
    params = await parameters(request)
    return JSONResponse(await emulator_of(request).refresh(params))
