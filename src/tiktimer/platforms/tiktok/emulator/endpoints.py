"""The paths the emulator serves, by short endpoint name (used by faults, limits and logs)."""

from __future__ import annotations

from enum import StrEnum


class Family(StrEnum):
    """How an endpoint shapes its errors: HTML page, flat OAuth JSON, envelope, bare status."""

    PAGE = "page"
    OAUTH = "oauth"
    API = "api"
    UPLOAD = "upload"


ENDPOINT_PATHS: dict[str, str] = {
    "authorize": "/v2/auth/authorize/",
    "token": "/v2/oauth/token/",
    "revoke": "/v2/oauth/revoke/",
    "user_info": "/v2/user/info/",
    "creator_info": "/v2/post/publish/creator_info/query/",
    "video_init": "/v2/post/publish/video/init/",
    "inbox_init": "/v2/post/publish/inbox/video/init/",
    "content_init": "/v2/post/publish/content/init/",
    "status": "/v2/post/publish/status/fetch/",
    "cancel": "/v2/post/publish/cancel/",
    "upload": "/upload/video/",
}

ENDPOINT_FAMILIES: dict[str, Family] = {
    "authorize": Family.PAGE,
    "token": Family.OAUTH,
    "revoke": Family.OAUTH,
    "upload": Family.UPLOAD,
}

ADMIN_PREFIX = "/_emulator"

_BY_PATH = {path: name for name, path in ENDPOINT_PATHS.items()}


def endpoint_for(route_path: str) -> str | None:
    return _BY_PATH.get(route_path)


def family_of(endpoint: str) -> Family:
    return ENDPOINT_FAMILIES.get(endpoint, Family.API)
