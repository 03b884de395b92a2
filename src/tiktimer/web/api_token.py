"""`POST /app/token`: a short-lived bearer token for the page's own scripts.

Scripts call the JSON API as any client does (the tus upload, `PATCH /posts/{id}` when a
post is dragged on the calendar), so the API keeps bearer tokens only. The token is the
API's ordinary access token for the session's user and token version; the request must
carry the page's CSRF token, so another site cannot obtain one.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from tiktimer.web.deps import AccessDep
from tiktimer.web.session import APP_PATH, CsrfChecked, WebUser, claims_of

router = APIRouter(prefix=APP_PATH)


@router.post("/token", dependencies=[CsrfChecked])
async def script_token(request: Request, user: WebUser, access: AccessDep) -> dict[str, Any]:
    claims = claims_of(request)
    return {
        "access_token": access.issue(user.id, claims.token_version),
        "expires_in": int(access.lifetime.total_seconds()),
    }
