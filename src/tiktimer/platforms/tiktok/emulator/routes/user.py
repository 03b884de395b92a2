"""`GET /v2/user/info/` (§3)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ..endpoints import ENDPOINT_PATHS
from ..responses import envelope
from ..scopes import Scope
from .common import bearer_token, emulator_of

router = APIRouter()

_USER_SCOPES = (Scope.USER_INFO_BASIC, Scope.USER_INFO_PROFILE, Scope.USER_INFO_STATS)


@router.get(ENDPOINT_PATHS["user_info"])
async def user_info(request: Request) -> Response:
    """The fields asked for in `fields`, each gated by its scope."""
    emulator = emulator_of(request)
    async with emulator.synced():
        caller = emulator.admit(bearer_token(request), "user_info", _USER_SCOPES)
        return envelope(emulator.user_info(caller, request.query_params.get("fields", "")))
