"""PULL_FROM_URL for videos and photos: URL ownership, streamed downloads, cancel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.emulator.flows import (
    MEDIA_PREFIX,
    TikTok,
    error_code,
    generated_bytes,
    make_config,
    serve,
)

VIDEO_SIZE = 3_500_000
PHOTO_SIZE = 200_000
CONTENT = "/v2/post/publish/content/init/"


class MediaHost:
    """A fake media server behind an httpx transport: sizes, redirects, 404s, a slow file."""

    def __init__(self) -> None:
        self.first_piece_counted = asyncio.Event()
        self.release = asyncio.Event()

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        name = request.url.path.rsplit("/", 1)[-1]
        if name == "redirect.mp4":
            return httpx.Response(302, headers={"Location": MEDIA_PREFIX + "ok.mp4"})
        if name == "missing.mp4":
            return httpx.Response(404)
        if name == "slow.mp4":
            return httpx.Response(200, content=self._slow())
        size = PHOTO_SIZE if name.endswith(".webp") else VIDEO_SIZE
        return httpx.Response(200, content=generated_bytes(size))

    async def _slow(self) -> AsyncIterator[bytes]:
        yield b"x" * 1000
        self.first_piece_counted.set()  # the next piece is wanted: the first was counted
        await self.release.wait()
        yield b"y" * 1000


@pytest.fixture
async def media_host() -> MediaHost:
    return MediaHost()


@pytest.fixture
async def pulling(media_host: MediaHost) -> AsyncIterator[TikTok]:
    config = make_config(processing_seconds=0, pull_transport=media_host.transport())
    async with serve(config) as tiktok:
        yield tiktok


def pull_body(url: str, privacy: str = "PUBLIC_TO_EVERYONE") -> dict[str, Any]:
    return {
        "post_info": {"title": "pulled", "privacy_level": privacy, "brand_content_toggle": False},
        "source_info": {"source": "PULL_FROM_URL", "video_url": url},
    }


def photo_body(images: list[str], mode: str = "DIRECT_POST", **post_info: Any) -> dict[str, Any]:
    info = {
        "title": "photos",
        "description": "two #cats",
        "privacy_level": "PUBLIC_TO_EVERYONE",
    } | post_info
    return {
        "media_type": "PHOTO",
        "post_mode": mode,
        "post_info": info,
        "source_info": {"source": "PULL_FROM_URL", "photo_images": images, "photo_cover_index": 0},
    }


async def settled(tiktok: TikTok, token: str, publish_id: str) -> dict[str, Any]:
    """Poll until the download is over (the emulator pulls in the background)."""
    for _ in range(200):
        data: dict[str, Any] = (await tiktok.status(token, publish_id)).json()["data"]
        if data["status"] != "PROCESSING_DOWNLOAD":
            return data
        await asyncio.sleep(0.01)
    raise AssertionError("the download never finished")


async def test_video_is_downloaded_and_counted(pulling: TikTok) -> None:
    token = pulling.tokens()

    response = await pulling.init_video(token, pull_body(MEDIA_PREFIX + "123/ok.mp4"))

    data = response.json()["data"]
    assert set(data) == {"publish_id"}
    assert data["publish_id"].startswith("v_pub_url~v2.")
    assert (await settled(pulling, token, data["publish_id"]))["status"] == "PUBLISH_COMPLETE"
    assert pulling.emulator.publication(data["publish_id"]).media_bytes == VIDEO_SIZE


async def test_progress_is_reported_as_downloaded_bytes(
    pulling: TikTok, media_host: MediaHost
) -> None:
    token = pulling.tokens()
    data = (await pulling.init_video(token, pull_body(MEDIA_PREFIX + "slow.mp4"))).json()["data"]
    await media_host.first_piece_counted.wait()

    during = (await pulling.status(token, data["publish_id"])).json()["data"]
    media_host.release.set()
    after = await settled(pulling, token, data["publish_id"])

    assert during == {
        "status": "PROCESSING_DOWNLOAD",
        "publicaly_available_post_id": [],
        "downloaded_bytes": 1000,
    }
    assert after["downloaded_bytes"] == 2000


@pytest.mark.parametrize(
    "url",
    [
        "https://media.example.com/videos/2023/user/x.mp4",
        "https://media.example.com/videos/userx/x.mp4",
        "http://media.example.com/videos/user/x.mp4",
        "https://example.org/x.mp4",
        "https://evilcdn.example.org/x.mp4",
    ],
)
async def test_unverified_urls_are_refused(pulling: TikTok, url: str) -> None:
    response = await pulling.init_video(pulling.tokens(), pull_body(url))

    assert (response.status_code, error_code(response)) == (403, "url_ownership_unverified")


async def test_a_verified_domain_covers_its_subdomains(pulling: TikTok) -> None:
    response = await pulling.init_video(
        pulling.tokens(), pull_body("https://video.cdn.example.org/any/path/ok.mp4")
    )

    assert response.status_code == 200


@pytest.mark.parametrize("name", ["redirect.mp4", "missing.mp4"])
async def test_redirects_and_errors_fail_the_pull(pulling: TikTok, name: str) -> None:
    token = pulling.tokens()
    data = (await pulling.init_video(token, pull_body(MEDIA_PREFIX + name))).json()["data"]

    final = await settled(pulling, token, data["publish_id"])

    assert final == {"status": "FAILED", "fail_reason": "video_pull_failed"}


async def test_slow_download_times_out(media_host: MediaHost) -> None:
    config = make_config(pull_transport=media_host.transport(), pull_timeout_seconds=0.05)
    async with serve(config) as tiktok:
        token = tiktok.tokens()
        body = pull_body(MEDIA_PREFIX + "slow.mp4")
        data = (await tiktok.init_video(token, body)).json()["data"]

        final = await settled(tiktok, token, data["publish_id"])

        assert final["fail_reason"] == "video_pull_failed"


async def test_cancel_stops_a_download(pulling: TikTok) -> None:
    token = pulling.tokens()
    data = (await pulling.init_video(token, pull_body(MEDIA_PREFIX + "slow.mp4"))).json()["data"]
    body = {"publish_id": data["publish_id"]}

    cancelled = await pulling.call("/v2/post/publish/cancel/", token, body)
    again = await pulling.call("/v2/post/publish/cancel/", token, body)

    assert cancelled.status_code == 200
    assert set(cancelled.json()) == {"error"}
    assert error_code(cancelled) == "ok"
    assert (again.status_code, error_code(again)) == (400, "publish_not_cancellable")
    final = (await pulling.status(token, data["publish_id"])).json()["data"]
    assert final == {"status": "FAILED", "fail_reason": "publish_cancelled"}


async def test_file_uploads_and_finished_pulls_cannot_be_cancelled(pulling: TikTok) -> None:
    token = pulling.tokens()
    uploaded = await pulling.publish_file(token)
    pulled = (await pulling.init_video(token, pull_body(MEDIA_PREFIX + "ok.mp4"))).json()["data"]
    await settled(pulling, token, pulled["publish_id"])

    for publish_id in (uploaded["publish_id"], pulled["publish_id"]):
        response = await pulling.call("/v2/post/publish/cancel/", token, {"publish_id": publish_id})
        assert error_code(response) == "publish_not_cancellable"


async def test_direct_photo_post(pulling: TikTok) -> None:
    token = pulling.tokens()
    images = ["https://img.cdn.example.org/a.webp", "https://img.cdn.example.org/b.webp"]

    response = await pulling.call(CONTENT, token, photo_body(images))

    publish_id = response.json()["data"]["publish_id"]
    assert publish_id.startswith("p_pub_url~v2.")
    assert (await settled(pulling, token, publish_id))["status"] == "PUBLISH_COMPLETE"
    record = pulling.emulator.publication(publish_id)
    assert record.media_bytes == 2 * PHOTO_SIZE
    assert (record.caption, record.title, record.media_type) == ("two #cats", "photos", "PHOTO")


async def test_photo_to_inbox(pulling: TikTok) -> None:
    token = pulling.tokens()
    body = photo_body(["https://cdn.example.org/a.webp"], mode="MEDIA_UPLOAD")

    response = await pulling.call(CONTENT, token, body)

    publish_id = response.json()["data"]["publish_id"]
    assert publish_id.startswith("p_inbox_url~v2.")
    assert (await settled(pulling, token, publish_id))["status"] == "SEND_TO_USER_INBOX"


async def test_photo_pull_failure(pulling: TikTok) -> None:
    token = pulling.tokens()
    body = photo_body(["https://cdn.example.org/a.webp", "https://cdn.example.org/missing.mp4"])

    publish_id = (await pulling.call(CONTENT, token, body)).json()["data"]["publish_id"]

    assert (await settled(pulling, token, publish_id))["fail_reason"] == "photo_pull_failed"


IMAGE = "https://cdn.example.org/a.webp"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (photo_body([IMAGE] * 36), 400, "invalid_param"),
        (photo_body([]), 400, "invalid_param"),
        (photo_body([IMAGE], title="😀" * 45 + "a"), 400, "invalid_param"),
        (photo_body([IMAGE], description="d" * 4001), 400, "invalid_param"),
        (photo_body([IMAGE]) | {"media_type": "VIDEO"}, 400, "invalid_param"),
        (photo_body([IMAGE], mode="DIRECT POST"), 400, "invalid_param"),
        (
            photo_body([IMAGE], privacy_level="FOLLOWER_OF_CREATOR"),
            403,
            "privacy_level_option_mismatch",
        ),
        (photo_body(["https://example.com/a.webp"]), 403, "url_ownership_unverified"),
    ],
)
async def test_photo_validation(
    pulling: TikTok, body: dict[str, Any], status: int, code: str
) -> None:
    response = await pulling.call(CONTENT, pulling.tokens(), body)

    assert (response.status_code, error_code(response)) == (status, code)


async def test_photo_cover_index_must_be_in_range_and_present(pulling: TikTok) -> None:
    out_of_range = photo_body([IMAGE])
    out_of_range["source_info"]["photo_cover_index"] = 1
    missing = photo_body([IMAGE])
    del missing["source_info"]["photo_cover_index"]
    file_upload = photo_body([IMAGE])
    file_upload["source_info"]["source"] = "FILE_UPLOAD"

    for body in (out_of_range, missing, file_upload):
        response = await pulling.call(CONTENT, pulling.tokens(), body)
        assert error_code(response) == "invalid_param"


async def test_photo_scope_follows_post_mode(pulling: TikTok) -> None:
    publish_only = pulling.tokens(scopes=("user.info.basic", "video.publish"))

    inbox = await pulling.call(CONTENT, publish_only, photo_body([IMAGE], mode="MEDIA_UPLOAD"))
    direct = await pulling.call(CONTENT, publish_only, photo_body([IMAGE]))

    assert (inbox.status_code, error_code(inbox)) == (401, "scope_not_authorized")
    assert direct.status_code == 200
