"""The consent page, `GET /v2/auth/authorize/` on www.tiktok.com, and its form post (§1.2–1.3).

The page is a plain HTML form that posts back to the same path. Tests can skip the GET and
post the form directly (`application/x-www-form-urlencoded`):

* the authorize query parameters, unchanged: `client_key`, `scope`, `redirect_uri`,
  `state`, `response_type`, and `code_challenge` + `code_challenge_method` when used;
  they are validated again exactly as on the GET;
* `decision`: `allow` or `deny` (deny redirects with `error=access_denied`);
* `creator`: username of an existing sandbox creator, **or** `new_creator`: a name for a
  new one (its username is the name lower-cased, spaces → `_`; an existing username is
  reused);
* `granted_scopes`: the scopes the user keeps, repeated or comma-separated; when the field
  is absent every requested scope is granted; `user.info.basic` is always kept when it was
  requested; granting nothing is a denial.

Success redirects (302) to `redirect_uri?code=…&scopes=…&state=…`.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import quote, urlencode

from fastapi import APIRouter
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..endpoints import ENDPOINT_PATHS
from ..errors import AuthorizeRefused, NotFoundError, OAuthError
from ..oauth import AuthorizeRequest
from ..scopes import Scope, parse_scope_list
from .common import emulator_of, form_fields, self_base_url

router = APIRouter()

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_CARRIED = (
    "client_key",
    "scope",
    "redirect_uri",
    "state",
    "response_type",
    "code_challenge",
    "code_challenge_method",
)


@router.get(ENDPOINT_PATHS["authorize"])
async def authorize_page(request: Request) -> Response:
    """Show the consent form, or TikTok's error page when the request is misconfigured."""
    params = dict(request.query_params)
    emulator = emulator_of(request)
    authorize_request = emulator.check_authorize_request(params)
    async with emulator.synced():  # the creators other processes added, too
        return _consent_page(request, authorize_request, params, problem=None)


@router.post(ENDPOINT_PATHS["authorize"])
async def authorize_decision(request: Request) -> Response:
    """Apply the user's choice and redirect back to the app."""
    emulator = emulator_of(request)
    try:
        form = await form_fields(request, multi=frozenset({"granted_scopes"}))
    except OAuthError as exc:
        raise AuthorizeRefused("form", exc.description) from None
    authorize_request = emulator.check_authorize_request(form)
    decision = form.get("decision")
    if decision == "deny":
        return _deny(authorize_request, "The user denied the authorization request.")
    if decision != "allow":
        raise AuthorizeRefused("decision", "decision must be allow or deny")
    granted = _granted_scopes(authorize_request, form)
    if not granted:
        return _deny(authorize_request, "The user granted no permissions.")
    async with emulator.synced():
        try:
            code = emulator.consent(
                authorize_request,
                creator=form.get("creator"),
                new_creator=form.get("new_creator", "").strip() or None,
                granted=granted,
            )
        except (ValueError, NotFoundError) as exc:
            return _consent_page(request, authorize_request, form, problem=str(exc), status=400)
    query = {"code": code, "scopes": ",".join(granted), "state": authorize_request.state}
    return _redirect(authorize_request, query)


def _granted_scopes(request: AuthorizeRequest, form: dict[str, str]) -> tuple[str, ...]:
    if "granted_scopes" not in form:
        return request.scopes
    chosen = set(parse_scope_list(form["granted_scopes"]))
    unknown = chosen - set(request.scopes)
    if unknown:
        raise AuthorizeRefused("granted_scopes", f"not requested: {', '.join(sorted(unknown))}")
    if Scope.USER_INFO_BASIC in request.scopes:
        chosen.add(Scope.USER_INFO_BASIC)
    return tuple(scope for scope in request.scopes if scope in chosen)


def _deny(request: AuthorizeRequest, description: str) -> Response:
    query = {"error": "access_denied", "error_description": description, "state": request.state}
    return _redirect(request, query)


def _redirect(request: AuthorizeRequest, query: dict[str, str]) -> Response:
    location = f"{request.redirect_uri}?{urlencode(query, quote_via=quote)}"
    return RedirectResponse(location, status_code=302)


def _consent_page(
    request: Request,
    authorize_request: AuthorizeRequest,
    params: dict[str, str],
    *,
    problem: str | None,
    status: int = 200,
) -> HTMLResponse:
    hidden = [(name, params[name]) for name in _CARRIED if params.get(name)]
    html = _templates.get_template("authorize.html").render(
        request=authorize_request,
        creators=emulator_of(request).creators(),
        hidden=hidden,
        action=self_base_url(request) + ENDPOINT_PATHS["authorize"],
        problem=problem,
        csp_nonce=_csp_nonce(request),
    )
    return HTMLResponse(html, status_code=status)


def _csp_nonce(request: Request) -> str:
    """A nonce for the page's inline style, kept where a CSP middleware in front finds it.

    The key is the one `tiktimer.kit.csp` uses (this package imports nothing of TikTimer).
    """
    nonce = getattr(request.state, "csp_nonce", None)
    if nonce is None:
        nonce = secrets.token_urlsafe(18)
        request.state.csp_nonce = nonce
    return str(nonce)


def error_page(exc: AuthorizeRefused) -> HTMLResponse:
    html = _templates.get_template("authorize_error.html").render(
        parameter=exc.parameter, message=exc.message
    )
    return HTMLResponse(html, status_code=400)
