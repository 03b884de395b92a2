"""Following a publish after its init: status polls, their pace, and cancelling a pull."""

from __future__ import annotations

from pydantic import SecretStr

from tiktimer.kit.backoff import Backoff
from tiktimer.platforms.tiktok.api.calls import TikTokApi
from tiktimer.platforms.tiktok.api.responses import parse
from tiktimer.platforms.tiktok.schemas import Acknowledgement, PublishStatus

STATUS_POLL_BACKOFF = Backoff(initial=5.0, factor=1.5, maximum=60.0, minimum=2.0, jitter=0.1)
"""Delays between ``fetch_post_status`` polls of one publish: 5 s growing to 60 s, never
under 2 s (the status endpoint allows 30 requests per minute per token)."""


async def fetch_post_status(
    api: TikTokApi, access_token: str | SecretStr, publish_id: str
) -> PublishStatus:
    """One status poll, in its own lane so polls never hold up an init."""
    if not publish_id:
        raise ValueError("publish_id is required")
    endpoint = "post.status"
    data, log_id = await api.post_json(
        access_token,
        "/v2/post/publish/status/fetch/",
        {"publish_id": publish_id},
        endpoint,
        idempotent=True,
        lane="status",
    )
    return parse(PublishStatus, data, endpoint=endpoint, log_id=log_id)


async def cancel_post(
    api: TikTokApi, access_token: str | SecretStr, publish_id: str
) -> Acknowledgement:
    """Best-effort cancel of a PULL_FROM_URL publish still downloading."""
    if not publish_id:
        raise ValueError("publish_id is required")
    _, log_id = await api.post_json(
        access_token,
        "/v2/post/publish/cancel/",
        {"publish_id": publish_id},
        "post.cancel",
        idempotent=False,
    )
    return Acknowledgement(log_id=log_id)
