"""Signed, expiring, unauthenticated image URLs: how TikTok fetches a photo post's images.

TikTok takes photos only by PULL_FROM_URL (reference §4.4): it downloads each image from
an https URL on a domain or prefix verified for the app. TikTimer serves them at
`{TIKTIMER_MEDIA_PUBLIC_URL}/api/v1/media/{id}/public?exp=…&sig=…`, where `sig` is an
HMAC of the id and expiry under a key derived from SECRET_KEY. Anything wrong or expired
is a plain 404 (no redirects: TikTok treats a 3xx as a failed pull). Verify the prefix
`{TIKTIMER_MEDIA_PUBLIC_URL}/api/v1/media/` in TikTok's developer portal.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from tiktimer.db.read import ReadDep
from tiktimer.errors import NotFound
from tiktimer.kit.state import provided
from tiktimer.media.components import MediaComponents
from tiktimer.models import Media
from tiktimer.storage import Storage, StorageError

PUBLIC_MEDIA_PATH = "/api/v1/media/{media_id}/public"
_KEY_LABEL = b"tiktimer.public-media.v1"


class MediaUrlSigner:
    def __init__(
        self,
        secret: str,
        base_url: str,
        *,
        ttl_seconds: int = 7200,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest()
        self.base_url = base_url.rstrip("/")
        self.ttl_seconds = ttl_seconds
        self._clock = clock

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def prefix(self) -> str:
        """The URL prefix to verify in TikTok's developer portal."""
        return f"{self.base_url}/api/v1/media/"

    def url(self, media_id: str) -> str:
        expires = int(self._clock()) + self.ttl_seconds
        path = PUBLIC_MEDIA_PATH.format(media_id=media_id)
        return f"{self.base_url}{path}?exp={expires}&sig={self._sign(media_id, expires)}"

    def valid(self, media_id: str, expires: int, signature: str) -> bool:
        if expires < self._clock():
            return False
        # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500).
        return hmac.compare_digest(signature.encode(), self._sign(media_id, expires).encode())

    def _sign(self, media_id: str, expires: int) -> str:
        message = f"{media_id}.{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()


router = APIRouter(tags=["tiktok publishing"])


@router.get(PUBLIC_MEDIA_PATH, response_class=StreamingResponse, include_in_schema=False)
async def public_media(
    media_id: str,
    request: Request,
    connection: ReadDep,
    signer: Annotated[MediaUrlSigner, Depends(provided(MediaUrlSigner))],
    media: Annotated[MediaComponents, Depends(provided(MediaComponents))],
    exp: Annotated[int, Query()] = 0,
    sig: Annotated[str, Query(max_length=128)] = "",
) -> StreamingResponse:
    """An image of a photo post, for TikTok's download; 404 unless the signature holds."""
    if not signer.valid(media_id, exp, sig):
        raise NotFound("Media not found")
    row = (
        await connection.execute(
            select(Media.storage_key, Media.size, Media.content_type).where(
                Media.id == media_id, Media.status == "ready", Media.kind == "image"
            )
        )
    ).first()
    if row is None:
        raise NotFound("Media not found")
    key, size, content_type = str(row[0]), int(row[1]), str(row[2])
    body = await _opened(media.storage, key, size)
    headers = {"Content-Length": str(size), "Cache-Control": "private, no-store"}
    return StreamingResponse(body, media_type=content_type, headers=headers)


async def _opened(storage: Storage, key: str, size: int) -> AsyncIterator[bytes]:
    """Start reading before answering, so a missing object is a 404 rather than a cut body."""
    stream = storage.open_range(key, 0, size)
    try:
        first = await anext(stream, b"")
    except StorageError:
        await stream.aclose()
        raise NotFound("Media not found") from None
    return _chain(first, stream)


async def _chain(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    try:
        if first:
            yield first
        async for piece in rest:
            yield piece
    finally:
        aclose = getattr(rest, "aclose", None)
        if aclose is not None:
            await aclose()
