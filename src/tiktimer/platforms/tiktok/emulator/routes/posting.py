"""Content Posting API on open.tiktokapis.com: creator_info, inits, status, cancel (§4)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ..emulator import Emulator
from ..endpoints import ENDPOINT_PATHS
from ..oauth import Caller
from ..responses import envelope
from ..scopes import Scope
from .common import bearer_token, checked_json, emulator_of, upload_base_url

router = APIRouter()

_ANY_POSTING_SCOPE = (Scope.VIDEO_PUBLISH, Scope.VIDEO_UPLOAD)


@asynccontextmanager
async def _admitted(
    request: Request, endpoint: str, scopes: tuple[Scope, ...], *, optional_body: bool = False
) -> AsyncIterator[tuple[Emulator, Caller, bytes]]:
    """The body read first, then under the emulator's lock: the token, scope and rate checks
    (401, 429) before the body's JSON check (400), as TikTok orders them."""
    emulator = emulator_of(request)
    body = await request.body()
    async with emulator.synced():
        caller = emulator.admit(bearer_token(request), endpoint, scopes)
        yield emulator, caller, checked_json(request, body, optional=optional_body)


@router.post(ENDPOINT_PATHS["creator_info"])
async def creator_info(request: Request) -> Response:
    """The creator's nickname, privacy options and limits; caps answer HTTP 200 + error code."""
    scopes = (Scope.VIDEO_PUBLISH,)
    async with _admitted(request, "creator_info", scopes, optional_body=True) as (em, caller, _):
        return envelope(em.creator_info(caller))


@router.post(ENDPOINT_PATHS["video_init"])
async def video_init(request: Request) -> Response:
    """Direct Post of a video by FILE_UPLOAD or PULL_FROM_URL."""
    async with _admitted(request, "video_init", (Scope.VIDEO_PUBLISH,)) as (em, caller, raw):
        return envelope(em.init_direct_video(caller, raw, upload_base_url(request)))


@router.post(ENDPOINT_PATHS["inbox_init"])
async def inbox_init(request: Request) -> Response:
    """Send a video to the creator's inbox as a draft."""
    async with _admitted(request, "inbox_init", (Scope.VIDEO_UPLOAD,)) as (em, caller, raw):
        return envelope(em.init_inbox_video(caller, raw, upload_base_url(request)))


@router.post(ENDPOINT_PATHS["content_init"])
async def content_init(request: Request) -> Response:
    """Photo post, direct or to the inbox (the scope needed depends on post_mode)."""
    async with _admitted(request, "content_init", _ANY_POSTING_SCOPE) as (em, caller, raw):
        return envelope(em.init_photo(caller, raw))


@router.post(ENDPOINT_PATHS["status"])
async def status_fetch(request: Request) -> Response:
    """Where a publish stands."""
    async with _admitted(request, "status", _ANY_POSTING_SCOPE) as (em, caller, raw):
        return envelope(em.status(caller, raw))


@router.post(ENDPOINT_PATHS["cancel"])
async def cancel(request: Request) -> Response:
    """Stop a PULL_FROM_URL download still in progress; the answer has no `data`."""
    async with _admitted(request, "cancel", _ANY_POSTING_SCOPE) as (em, caller, raw):
        em.cancel(caller, raw)
    return envelope(None, include_data=False)
