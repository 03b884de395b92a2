"""`POST /api/v1/media` with real media made at test time, and what it keeps or refuses."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from tests.fixtures.users import user_headers
from tests.media_api.conftest import MAX_DURATION_SEC
from tests.media_api.helpers import MULTIPART, PART_TAIL, Stored, part_head, upload
from tests.media_factory import MediaSamples


async def test_h264_mp4_is_stored_with_an_ok_verdict(
    client: httpx.AsyncClient, media_samples: MediaSamples, stored: Stored
) -> None:
    headers = await user_headers(client, "alice")
    sample = media_samples["h264_mp4"]

    response = await upload(client, headers, sample, filename="holiday.mp4")

    assert response.status_code == 201, response.text
    media = response.json()
    assert set(media) == {
        "id",
        "size",
        "sha256",
        "content_type",
        "kind",
        "original_filename",
        "probe",
        "verdict",
        "status",
        "created_at",
    }
    data = sample.read_bytes()
    assert media["size"] == len(data)
    assert media["sha256"] == hashlib.sha256(data).hexdigest()
    assert media["content_type"] == "video/mp4"
    assert media["kind"] == "video"
    assert media["original_filename"] == "holiday.mp4"
    assert media["status"] == "ready"
    assert media["verdict"] == {"ok": True, "reasons": []}
    assert media["probe"]["container"] == "mp4"
    assert media["probe"]["video_codec"] == "h264"
    assert (media["probe"]["width"], media["probe"]["height"]) == (640, 360)
    assert media["probe"]["has_audio"] is True
    assert media["created_at"].endswith("Z")
    assert len(stored.objects()) == 1
    assert stored.objects()[0].endswith(f"{media['id']}.mp4")
    assert stored.upload_files() == []  # the temporary file was moved, not copied


async def test_webm_is_accepted(client: httpx.AsyncClient, media_samples: MediaSamples) -> None:
    headers = await user_headers(client, "alice")

    response = await upload(client, headers, media_samples["vp9_webm"])

    assert response.status_code == 201, response.text
    media = response.json()
    assert (media["content_type"], media["probe"]["video_codec"]) == ("video/webm", "vp9")
    assert media["verdict"]["ok"] is True


@pytest.mark.parametrize(
    ("sample", "reason"),
    [
        ("clip_15fps", "frame rate 15 fps is below TikTok's minimum of 23"),
        ("long_clip", f"is above the maximum of {MAX_DURATION_SEC:g} s"),
        ("clip_200x200", "width 200 px is below TikTok's minimum of 360 px"),
    ],
)
async def test_media_tiktok_refuses_is_kept_with_the_reason(
    client: httpx.AsyncClient,
    media_samples: MediaSamples,
    stored: Stored,
    sample: str,
    reason: str,
) -> None:
    headers = await user_headers(client, "alice")

    response = await upload(client, headers, media_samples[sample])

    assert response.status_code == 201, response.text
    verdict = response.json()["verdict"]
    assert verdict["ok"] is False
    assert any(reason in line for line in verdict["reasons"]), verdict
    assert len(stored.objects()) == 1


@pytest.mark.parametrize("sample", ["renamed_text", "truncated_mp4", "truncated_faststart_mp4"])
async def test_not_media_is_refused_and_nothing_is_kept(
    client: httpx.AsyncClient, media_samples: MediaSamples, stored: Stored, sample: str
) -> None:
    headers = await user_headers(client, "alice")

    response = await upload(client, headers, media_samples[sample])

    assert response.status_code == 422, response.text
    assert "not usable media" in response.json()["detail"]
    assert await stored.nothing_kept()


async def test_an_image_is_media_too(
    client: httpx.AsyncClient, media_samples: MediaSamples
) -> None:
    headers = await user_headers(client, "alice")

    response = await upload(client, headers, media_samples["jpeg"])

    assert response.status_code == 201, response.text
    assert (response.json()["kind"], response.json()["content_type"]) == ("image", "image/jpeg")


async def test_the_file_name_is_kept_for_display_only(
    client: httpx.AsyncClient, media_samples: MediaSamples, stored: Stored
) -> None:
    headers = await user_headers(client, "alice")

    raw_name = "C:\\Users\\me\\..\\évasion\x07.exe"  # as old browsers send it, plus a BEL
    body = part_head(filename=raw_name) + media_samples["h264_mp4"].read_bytes() + PART_TAIL

    response = await client.post(
        "/api/v1/media", content=body, headers={**headers, "Content-Type": MULTIPART}
    )

    assert response.status_code == 201, response.text
    assert response.json()["original_filename"] == "évasion.exe"
    assert response.json()["content_type"] == "video/mp4"  # from the bytes, not the name
    assert stored.objects()[0].endswith(".mp4")


async def test_upload_needs_a_login_and_reads_no_body_without_one(
    client: httpx.AsyncClient, media_samples: MediaSamples, stored: Stored
) -> None:
    response = await upload(client, {}, media_samples["h264_mp4"])

    assert response.status_code == 401
    assert await stored.nothing_kept()


async def test_upload_without_the_file_field_is_422(
    client: httpx.AsyncClient, media_samples: MediaSamples, stored: Stored
) -> None:
    headers = await user_headers(client, "alice")

    response = await upload(client, headers, media_samples["h264_mp4"], field="video")

    assert response.status_code == 422
    assert await stored.nothing_kept()


async def test_upload_that_is_not_multipart_is_415(client: httpx.AsyncClient) -> None:
    headers = await user_headers(client, "alice")

    response = await client.post("/api/v1/media", content=b"raw bytes", headers=headers)

    assert response.status_code == 415
