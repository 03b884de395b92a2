"""The emulator's HTTP surface: Google's paths, one thin handler each."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from .emulator import YouTubeEmulator
from .errors import OAuthError

router = APIRouter()
CONSENT_PATH = "/o/oauth2/v2/auth/consent"


def _emulator(request: Request) -> YouTubeEmulator:
    emulator: YouTubeEmulator = request.app.state.emulator
    return emulator


def _headers(request: Request) -> dict[str, str]:
    return {k.lower(): v for k, v in request.headers.items()}


async def _form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "The body must be form-encoded.")
    return dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))


@router.get("/o/oauth2/v2/auth")
async def authorize(request: Request) -> Response:
    params = dict(request.query_params)
    consent = _emulator(request).consent_request(params)
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
    )
    scopes = "".join(f"<li>{html.escape(s)}</li>" for s in consent.scopes)
    action = html.escape(request.scope.get("root_path", "") + CONSENT_PATH)  # when mounted
    page = (
        f'<form method="post" action="{action}">{hidden}<ul>{scopes}</ul>'
        '<input name="login"><button name="decision" value="allow">Allow</button>'
        '<button name="decision" value="deny">Cancel</button></form>'
    )
    return HTMLResponse(f"<!doctype html><title>Sign in with Google</title>{page}")


@router.post(CONSENT_PATH)
async def consent(request: Request) -> Response:
    pairs = parse_qsl((await request.body()).decode(), keep_blank_values=True)
    form = dict(pairs)
    granted = tuple(v for k, v in pairs if k == "granted") or None
    params = {k: v for k, v in form.items() if k not in ("login", "decision", "granted")}
    target = await _emulator(request).consent(
        params, form.get("login", ""), form.get("decision") == "allow", granted
    )
    return RedirectResponse(target, status_code=302)


@router.post("/token")
async def token(request: Request) -> Response:
    body = await _emulator(request).token(await _form(request))
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.post("/revoke")
async def revoke(request: Request) -> Response:
    token = request.query_params.get("token")
    if token is None and request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        token = (await _form(request)).get("token")
    await _emulator(request).revoke(token or "")
    return Response(status_code=200)


@router.post("/upload/youtube/v3/videos")
async def insert(request: Request) -> Response:
    location = await _emulator(request).insert(
        _headers(request), dict(request.query_params), await request.body(), str(request.base_url)
    )
    return Response(status_code=200, headers={"Location": location})


@router.put("/upload/youtube/v3/videos")
async def chunk(request: Request) -> Response:
    answer = await _emulator(request).chunk(
        request.query_params.get("upload_id", ""), _headers(request), request.stream()
    )
    if answer.video is None:
        return Response(status_code=answer.status, headers=answer.headers)
    return JSONResponse(answer.video, status_code=answer.status)


@router.get("/youtube/v3/videos")
async def list_videos(request: Request) -> Any:
    return await _emulator(request).list_videos(_headers(request), dict(request.query_params))


@router.get("/youtube/v3/channels")
async def list_channels(request: Request) -> Any:
    return await _emulator(request).my_channels(_headers(request), dict(request.query_params))
