"""The checks on a `POST /{ig-user-id}/media` request that need no fetched bytes (§4.1, §8).

Caption length is counted in code points (how Meta counts is UNCONFIRMED, §8).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import GraphError, invalid_parameter

MAX_CAPTION = 2200
MAX_HASHTAGS = 30
MAX_MENTIONS = 20
MAX_COLLABORATORS = 3
_HASHTAG = re.compile(r"(?<![\w&])#\w+")
_MENTION = re.compile(r"(?<![\w@])@[\w.]+")


@dataclass(frozen=True)
class ReelParams:
    video_url: str | None  # None: bytes come through rupload
    caption: str
    share_to_feed: bool | None
    thumb_offset: int | None
    cover_url: str | None


def reel_params(params: Mapping[str, str], *, rupload: bool) -> ReelParams:
    """`rupload`: whether this app may upload through rupload.facebook.com."""
    _check_media_type(params.get("media_type"))
    if "alt_text" in params:
        raise invalid_parameter("alt_text is supported for images only, not reels.")
    upload_type = params.get("upload_type")
    video_url = params.get("video_url")
    if upload_type is not None:
        if upload_type != "resumable":
            raise invalid_parameter("upload_type must be resumable.")
        if not rupload:  # §1, §4.4: documented for Facebook Login for Business only
            raise invalid_parameter(
                "Resumable upload is available only for apps using Facebook Login for Business."
            )
        if video_url:
            raise invalid_parameter("Send either video_url or upload_type=resumable, not both.")
    elif not video_url:
        raise invalid_parameter("The parameter video_url is required.")
    else:
        check_url(video_url)
    caption = params.get("caption", "")
    check_caption(caption)
    if len(_list(params.get("collaborators"))) > MAX_COLLABORATORS:
        raise invalid_parameter(f"No more than {MAX_COLLABORATORS} collaborators.")
    cover_url = params.get("cover_url")
    if cover_url:
        check_url(cover_url)
    return ReelParams(
        video_url=video_url,
        caption=caption,
        share_to_feed=_boolean(params.get("share_to_feed")),
        thumb_offset=_offset(params.get("thumb_offset")),
        cover_url=cover_url or None,
    )


def check_caption(caption: str) -> None:
    if len(caption) > MAX_CAPTION:
        raise GraphError(36004, "The caption is too long.", subcode=2207010)
    if len(_HASHTAG.findall(caption)) > MAX_HASHTAGS:
        # The error for > 30 hashtags is UNCONFIRMED (§8): the parameter error.
        raise invalid_parameter(f"Cannot use more than {MAX_HASHTAGS} hashtags.")
    if len(_MENTION.findall(caption)) > MAX_MENTIONS:
        raise invalid_parameter(f"Cannot use more than {MAX_MENTIONS} tags.", subcode=2207040)


def check_url(url: str) -> None:
    if not url.isascii() or not re.match(r"^https?://[^\s/]+", url):
        raise GraphError(9004, "Media could not be fetched from this URI.", subcode=2207052)


def _check_media_type(media_type: str | None) -> None:
    if media_type == "REELS":
        return
    if media_type == "VIDEO":
        raise invalid_parameter(
            "VIDEO is only for carousel items; publish a single video as REELS.",
            subcode=2207089,
        )
    if media_type in ("IMAGE", "CAROUSEL", "STORIES"):
        raise invalid_parameter(f"This emulator publishes reels only, not {media_type}.")
    raise invalid_parameter("The media type is unknown.", subcode=2207023)


def _boolean(raw: str | None) -> bool | None:
    if raw is None:
        return None
    if raw.lower() not in ("true", "false"):
        raise invalid_parameter("share_to_feed must be true or false.")
    return raw.lower() == "true"


def _offset(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit():
        raise GraphError(1, "thumb_offset must be milliseconds, an integer ≥ 0.", subcode=2207057)
    return int(raw)


def _list(raw: str | None) -> list[str]:
    if not raw:
        return []
    return [item for item in re.split(r"[\[\]\",\s']+", raw) if item]
