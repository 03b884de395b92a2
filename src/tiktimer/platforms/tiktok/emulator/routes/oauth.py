"""`/v2/oauth/token/` and `/v2/oauth/revoke/` on open.tiktokapis.com (§1.6–1.8)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ..endpoints import ENDPOINT_PATHS
from ..errors import MISSING_PARAMETER, OAuthError
from ..responses import oauth_ok
from .common import emulator_of, form_fields

router = APIRouter()


@router.post(ENDPOINT_PATHS["token"])
async def token(request: Request) -> Response:
    """Exchange a code or rotate a refresh token; credentials only in the form body."""
    emulator = emulator_of(request)
    form = await _credentials_form(request)
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        async with emulator.synced():
            return oauth_ok(emulator.exchange_code(form))
    if grant_type == "refresh_token":
        async with emulator.synced():
            return oauth_ok(emulator.refresh(form))
    emulator.authenticate_client(form)
    if not grant_type:
        raise OAuthError("invalid_request", MISSING_PARAMETER)
    raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported.")


@router.post(ENDPOINT_PATHS["revoke"])
async def revoke(request: Request) -> Response:
    """Revoke an access token and everything issued with it."""
    form = await _credentials_form(request)
    emulator = emulator_of(request)
    async with emulator.synced():
        emulator.revoke(form)
    return oauth_ok({})


async def _credentials_form(request: Request) -> dict[str, str]:
    form = await form_fields(request)
    basic = request.headers.get("authorization", "").lower().startswith("basic ")
    if basic and not (form.get("client_key") and form.get("client_secret")):
        raise OAuthError(
            "invalid_client", "Send client_key and client_secret in the body, not HTTP Basic."
        )
    return form
