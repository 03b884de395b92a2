"""``GET /v2/user/info/`` and which of its fields each granted scope allows.

Asking for a field the grant does not cover fails the whole call, so the fields are
derived from the scopes rather than listed by callers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import quote

from pydantic import SecretStr

from tiktimer.platforms.tiktok.api.calls import TikTokApi
from tiktimer.platforms.tiktok.api.redaction import secret
from tiktimer.platforms.tiktok.api.responses import envelope_data, parse
from tiktimer.platforms.tiktok.errors import TikTokUnexpectedResponse
from tiktimer.platforms.tiktok.schemas import UserInfo

USER_INFO_FIELDS_BY_SCOPE: Mapping[str, tuple[str, ...]] = {
    "user.info.basic": (
        "open_id",
        "union_id",
        "avatar_url",
        "avatar_url_100",
        "avatar_large_url",
        "display_name",
    ),
    "user.info.profile": ("bio_description", "profile_deep_link", "is_verified", "username"),
    "user.info.stats": ("follower_count", "following_count", "likes_count", "video_count"),
}
DEFAULT_USER_INFO_FIELDS: tuple[str, ...] = ("open_id", "union_id", "avatar_url", "display_name")
"""Fields every Login Kit grant covers (``user.info.basic``)."""


def user_info_fields_for(scopes: Sequence[str]) -> tuple[str, ...]:
    """Every user-info field the granted ``scopes`` allow (asking for more is an error)."""
    return tuple(f for s in scopes for f in USER_INFO_FIELDS_BY_SCOPE.get(s, ()))


async def fetch_user_info(
    api: TikTokApi, access_token: str | SecretStr, fields: Sequence[str]
) -> UserInfo:
    """The user's profile: ``fields`` of it, as ``UserInfo``."""
    if not fields or any(not f or "," in f for f in fields):
        raise ValueError("fields must be non-empty names without commas")
    token = secret(access_token)
    endpoint = "user.info"
    # Literal commas, as in TikTok's examples.
    url = f"{api.api_base}/v2/user/info/?fields={','.join(quote(f) for f in fields)}"
    response, body = await api.request(
        "GET",
        url,
        endpoint=endpoint,
        idempotent=True,
        secret_values=(token,),
        headers={"Authorization": f"Bearer {token}"},
    )
    data, log_id = envelope_data(body, response, endpoint)
    user = data.get("user")
    if not isinstance(user, dict):
        raise TikTokUnexpectedResponse(
            "user info response without data.user", code="unexpected_response", log_id=log_id
        )
    return parse(UserInfo, user, endpoint=endpoint, log_id=log_id)
