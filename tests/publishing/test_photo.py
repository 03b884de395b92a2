"""Photo posts: TikTok pulls the images from TikTimer's signed public media URLs."""

from __future__ import annotations

import time

import httpx
from fastapi import FastAPI

from tests.media_factory import MediaSamples
from tests.publishing.conftest import MEDIA_BASE
from tests.publishing.helpers import create_post, drive, upload
from tiktimer.media.public_urls import MediaUrlSigner
from tiktimer.platforms.tiktok.emulator import Emulator
from tiktimer.platforms.tiktok.publisher import TikTokPublisher


async def test_photo_post_is_pulled_and_published(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: dict[str, str],
    account: int,
    samples: MediaSamples,
    emulator: Emulator,
    publisher: TikTokPublisher,
) -> None:
    photos = [await upload(client, alice, samples[name]) for name in ("jpeg", "webp")]
    post = await create_post(
        client,
        alice,
        platform="tiktok",
        social_account_id=account,
        media_type="photo",
        media_ids=[p["id"] for p in photos],
        title="Two photos",
        content="A #photo post 📷",
        photo_cover_index=1,
        auto_add_music=True,
    )
    assert post["validation"]["ok"] is True, post["validation"]

    driven = await drive(app, publisher, emulator, post["id"])

    assert driven.error is None, driven.error
    assert driven.post.status == "published"
    [record] = emulator.publications()
    assert record.media_type == "PHOTO"
    assert record.source == "PULL_FROM_URL"
    assert record.title == "Two photos"
    assert record.description == "A #photo post 📷"
    assert record.post_info["auto_add_music"] is True
    assert record.media_bytes == sum(p["size"] for p in photos)
    assert emulator.count_requests(endpoint="content_init") == 1


async def test_photo_draft_goes_to_the_inbox(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: dict[str, str],
    account: int,
    samples: MediaSamples,
    emulator: Emulator,
    publisher: TikTokPublisher,
) -> None:
    photo = await upload(client, alice, samples["jpeg"])
    post = await create_post(
        client,
        alice,
        social_account_id=account,
        media_type="photo",
        post_mode="inbox",
        media_id=photo["id"],
        title="Draft",
    )
    driven = await drive(app, publisher, emulator, post["id"])
    assert driven.error is None, driven.error
    assert driven.post.platform_status == "SEND_TO_USER_INBOX"
    [record] = emulator.publications()
    assert (record.post_mode, record.title) == ("MEDIA_UPLOAD", "Draft")


async def test_public_media_urls_are_signed_and_expire(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], samples: MediaSamples
) -> None:
    photo = await upload(client, alice, samples["jpeg"])
    video = await upload(client, alice, samples["h264_mp4"])
    signer: MediaUrlSigner = app.state.services.media_url_signer
    url = signer.url(photo["id"])
    assert url.startswith(f"{MEDIA_BASE}/api/v1/media/{photo['id']}/public?exp=")
    path = url.removeprefix(MEDIA_BASE)

    served = await client.get(path)  # no bearer: TikTok fetches it
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.content == samples["jpeg"].read_bytes()

    forged = path[:-4] + ("0000" if not path.endswith("0000") else "1111")
    assert (await client.get(forged)).status_code == 404
    other = signer.url(video["id"]).removeprefix(MEDIA_BASE)
    assert (await client.get(other)).status_code == 404  # only images are ever public
    late = path.replace("exp=", "exp=1")  # an edited expiry breaks the signature
    assert (await client.get(late)).status_code == 404
    an_hour_ago = MediaUrlSigner(
        app.state.services.settings.auth.jwt_key,
        MEDIA_BASE,
        ttl_seconds=600,
        clock=lambda: time.time() - 3600,
    )
    expired = an_hour_ago.url(photo["id"]).removeprefix(MEDIA_BASE)  # genuine, but expired
    assert (await client.get(expired)).status_code == 404
