"""Posters made on upload, stored beside the media on local disk and on S3, removed with it."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from tests.fixtures.users import user_headers
from tests.media.test_thumbnails import decoded
from tests.media_api.helpers import Stored, upload
from tests.media_api.test_gc import UNUSED_TTL, gc, uploaded
from tests.media_factory import MediaSamples
from tiktimer.kit.time import utc_now
from tiktimer.media.thumbnails import thumbnail_key
from tiktimer.storage import S3Storage


async def poster_bytes(app: FastAPI, media_key: str) -> bytes:
    storage = app.state.services.storage
    key = thumbnail_key(media_key)
    size = await storage.size(key)
    return b"".join([piece async for piece in storage.open_range(key, 0, size)])


async def test_upload_stores_a_poster_beside_the_media(
    app: FastAPI, client: httpx.AsyncClient, media_samples: MediaSamples, stored: Stored
) -> None:
    headers = await user_headers(client, "alice")
    media = await uploaded(client, headers, media_samples, "portrait_phone_clip")
    (row,) = await stored.rows()
    assert stored.posters() == [thumbnail_key(stored.objects()[0])]
    assert decoded(await poster_bytes(app, str(row["storage_key"]))) == ("jpeg_pipe", 180, 320)
    if isinstance(app.state.services.storage, S3Storage):
        assert stored.posters()[0].startswith("media/u/")  # the bucket's prefix, as the media

    response = await client.delete(f"/api/v1/media/{media['id']}", headers=headers)
    assert response.status_code == 204
    assert stored.all_objects() == []


async def test_retention_removes_the_poster_with_the_media(
    app: FastAPI, client: httpx.AsyncClient, media_samples: MediaSamples, stored: Stored
) -> None:
    headers = await user_headers(client, "alice")
    response = await upload(client, headers, media_samples["jpeg"])
    assert response.status_code == 201
    assert len(stored.posters()) == 1
    report = await gc(app, utc_now() + UNUSED_TTL + timedelta(minutes=1))
    assert len(report.removed) == 1
    assert report.leaked == []
    assert stored.all_objects() == []
