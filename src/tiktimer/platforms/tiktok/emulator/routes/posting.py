"""Content Posting API on open.tiktokapis.com: creator_info, inits, status, cancel (§4)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ..endpoints import ENDPOINT_PATHS
from ..responses import envelope
from ..scopes import Scope
from .common import bearer_token, checked_json, emulator_of, upload_base_url

router = APIRouter()

_ANY_POSTING_SCOPE = (Scope.VIDEO_PUBLISH, Scope.VIDEO_UPLOAD)


@router.post(ENDPOINT_PATHS["creator_info"])
async def creator_info(request: Request) -> Response:
    """The creator's nickname, privacy options and limits; caps answer HTTP 200 + error code."""
    emulator = emulator_of(request)
    raw = await request.body()
    async with emulator.synced():
        caller = emulator.admit(bearer_token(request), "creator_info", (Scope.VIDEO_PUBLISH,))
        checked_json(request, raw, optional=True)
        return envelope(emulator.creator_info(caller))


@router.post(ENDPOINT_PATHS["video_init"])
async def video_init(request: Request) -> Response:
    """Direct Post of a video by FILE_UPLOAD or PULL_FROM_URL."""
    emulator = emulator_of(request)
    body = await request.body()
    async with emulator.synced():
        caller = emulator.admit(bearer_token(request), "video_init", (Scope.VIDEO_PUBLISH,))
        raw = checked_json(request, body)
        return envelope(emulator.init_direct_video(caller, raw, upload_base_url(request)))


@router.post(ENDPOINT_PATHS["inbox_init"])
async def inbox_init(request: Request) -> Response:
    """Send a video to the creator's inbox as a draft."""
    emulator = emulator_of(request)
    body = await request.body()
    async with emulator.synced():
        caller = emulator.admit(bearer_token(request), "inbox_init", (Scope.VIDEO_UPLOAD,))
        raw = checked_json(request, body)
        return envelope(emulator.init_inbox_video(caller, raw, upload_base_url(request)))


@router.post(ENDPOINT_PATHS["content_init"])
async def content_init(request: Request) -> Response:
    """Photo post, direct or to the inbox (the scope needed depends on post_mode)."""
    emulator = emulator_of(request)
    body = await request.body()
    async with emulator.synced():
        caller = emulator.admit(bearer_token(request), "content_init", _ANY_POSTING_SCOPE)
        raw = checked_json(request, body)
        return envelope(emulator.init_photo(caller, raw))


@router.post(ENDPOINT_PATHS["status"])
async def status_fetch(request: Request) -> Response:
    """Where a publish stands."""
    emulator = emulator_of(request)
    body = await request.body()
    async with emulator.synced():
        caller = emulator.admit(bearer_token(request), "status", _ANY_POSTING_SCOPE)
        raw = checked_json(request, body)
        return envelope(emulator.status(caller, raw))


@router.post(ENDPOINT_PATHS["cancel"])
async def cancel(request: Request) -> Response:
    """Stop a PULL_FROM_URL download still in progress; the answer has no `data`."""
    emulator = emulator_of(request)
    body = await request.body()
    async with emulator.synced():
        caller = emulator.admit(bearer_token(request), "cancel", _ANY_POSTING_SCOPE)
        emulator.cancel(caller, checked_json(request, body))
    return envelope(None, include_data=False)
