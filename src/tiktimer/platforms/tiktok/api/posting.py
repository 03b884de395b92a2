"""Content Posting: creator info and the four kinds of publish init.

An init is never retried blindly (a failed one may still have created a publish task),
so these functions send exactly once.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, SecretStr

from tiktimer.platforms.tiktok.api.calls import TikTokApi
from tiktimer.platforms.tiktok.api.responses import parse
from tiktimer.platforms.tiktok.errors import TikTokUnexpectedResponse
from tiktimer.platforms.tiktok.schemas import (
    CreatorInfo,
    PhotoDraftInfo,
    PhotoPostInfo,
    PhotoSource,
    PublishInit,
    VideoPostInfo,
    VideoSource,
)

_CONTENT_INIT = "/v2/post/publish/content/init/"


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_none=True)


async def query_creator_info(api: TikTokApi, access_token: str | SecretStr) -> CreatorInfo:
    """The creator's posting options (caps arrive as errors with HTTP 200)."""
    endpoint = "post.creator_info"
    data, log_id = await api.post_json(
        access_token, "/v2/post/publish/creator_info/query/", {}, endpoint, idempotent=True
    )
    return parse(CreatorInfo, data, endpoint=endpoint, log_id=log_id)


async def init_video_post(
    api: TikTokApi, access_token: str | SecretStr, post_info: VideoPostInfo, source: VideoSource
) -> PublishInit:
    """Direct Post a video."""
    payload = {"post_info": _dump(post_info), "source_info": _dump(source)}
    return await _init(api, access_token, "/v2/post/publish/video/init/", payload, source)


async def init_inbox_video(
    api: TikTokApi, access_token: str | SecretStr, source: VideoSource
) -> PublishInit:
    """Upload a video to the creator's inbox as a draft."""
    payload = {"source_info": _dump(source)}
    return await _init(api, access_token, "/v2/post/publish/inbox/video/init/", payload, source)


async def init_photos(
    api: TikTokApi,
    access_token: str | SecretStr,
    post_mode: str,
    post_info: PhotoPostInfo | PhotoDraftInfo,
    source: PhotoSource,
) -> PublishInit:
    """Post photos (``DIRECT_POST``) or send them to the inbox (``MEDIA_UPLOAD``)."""
    payload = {
        "media_type": "PHOTO",
        "post_mode": post_mode,
        "post_info": _dump(post_info),
        "source_info": _dump(source),
    }
    return await _init(api, access_token, _CONTENT_INIT, payload, None)


async def _init(
    api: TikTokApi,
    access_token: str | SecretStr,
    path: str,
    payload: dict[str, Any],
    source: VideoSource | None,
) -> PublishInit:
    endpoint = "post." + path.strip("/").split("/publish/")[-1].replace("/", ".")
    data, log_id = await api.post_json(access_token, path, payload, endpoint, False)
    result = parse(PublishInit, data, endpoint=endpoint, log_id=log_id)
    if source is not None and source.source == "FILE_UPLOAD" and not result.upload_url:
        raise TikTokUnexpectedResponse(
            "FILE_UPLOAD init response without upload_url",
            code="unexpected_response",
            log_id=log_id,
        )
    return result
