"""Video posts end to end: the original's multipart endpoint, then the publisher through
the emulator, over HTTP, with a real MP4 made at test time."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from tests.media_factory import MediaSamples
from tests.publishing.helpers import RecordingPacer, drive, file_sha256, future, upload_puts
from tiktimer.platforms.tiktok.emulator import Emulator
from tiktimer.platforms.tiktok.publisher import TikTokPublisher


async def post_video(
    client: httpx.AsyncClient, headers: dict[str, str], path: Path, **fields: str
) -> httpx.Response:
    with path.open("rb") as f:
        return await client.post(
            "/api/v1/tiktok/posts/",
            data={"content": "My #first video 🎬", "scheduled_time": future(), **fields},
            files={"video": ("clip.mp4", f, "video/mp4")},
            headers=headers,
        )


async def test_multipart_post_is_private_by_default_and_publishes_once(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: dict[str, str],
    account: int,
    samples: MediaSamples,
    emulator: Emulator,
    publisher: TikTokPublisher,
) -> None:
    clip = samples["h264_mp4"]
    response = await post_video(client, alice, clip, social_account_id=str(account))
    assert response.status_code == 201, response.text
    post = response.json()
    assert post["privacy_level"] == "SELF_ONLY"
    assert post["status"] == "scheduled"
    assert post["media_type"] == "video"
    assert [post["allow_comment"], post["allow_duet"], post["allow_stitch"]] == [False] * 3
    assert post["validation"]["ok"] is True, post["validation"]
    assert len(post["media_ids"]) == 1

    driven = await drive(app, publisher, emulator, post["id"])

    assert driven.error is None, driven.error
    assert driven.post.status == "published"
    assert driven.post.platform_status == "PUBLISH_COMPLETE"
    assert driven.post.platform_publish_id == driven.publish_ids[0]
    assert driven.post.platform_post_ids == []  # private posts get no public id
    [record] = emulator.publications()
    assert record.status == "PUBLISH_COMPLETE"
    assert record.caption == "My #first video 🎬"
    assert record.privacy_level == "SELF_ONLY"
    assert record.media_bytes == clip.stat().st_size
    assert record.media_sha256 == file_sha256(clip)
    assert record.post_info["disable_comment"] is True
    assert record.post_info["brand_content_toggle"] is False
    assert record.creator_info_age_seconds is not None
    assert record.creator_info_age_seconds < 5  # creator_info asked right before the init
    assert upload_puts(emulator) == [201]


async def test_multipart_fields_are_validated(
    client: httpx.AsyncClient, alice: dict[str, str], account: int, samples: MediaSamples
) -> None:
    clip = samples["h264_mp4"]
    unknown = await post_video(client, alice, clip, colour="red")
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["body", "colour"]
    bad = await post_video(client, alice, clip, allow_comment="maybe", privacy_level="EVERYONE")
    assert bad.status_code == 422
    assert {tuple(e["loc"]) for e in bad.json()["detail"]} == {
        ("body", "allow_comment"),
        ("body", "privacy_level"),
    }
    missing = await client.post(
        "/api/v1/tiktok/posts/",
        data={"content": "x", "scheduled_time": future()},
        files={"other": ("a.txt", b"x", "text/plain")},
        headers=alice,
    )
    assert missing.status_code == 422


async def test_inbox_draft_goes_to_the_creators_inbox(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: dict[str, str],
    account: int,
    samples: MediaSamples,
    emulator: Emulator,
    publisher: TikTokPublisher,
) -> None:
    response = await post_video(
        client, alice, samples["h264_mp4"], social_account_id=str(account), post_mode="inbox"
    )
    assert response.status_code == 201, response.text
    post = response.json()
    codes = [w["code"] for w in post["validation"]["warnings"]]
    assert "inbox_settings_ignored" in codes

    driven = await drive(app, publisher, emulator, post["id"])

    assert driven.error is None, driven.error
    assert driven.post.status == "published"
    assert driven.post.platform_status == "SEND_TO_USER_INBOX"
    [record] = emulator.publications()
    assert record.post_mode == "MEDIA_UPLOAD"
    assert record.post_info_ignored is False  # no post_info sent: TikTok would ignore it
    assert record.status == "SEND_TO_USER_INBOX"


async def test_every_call_is_paced_per_account(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: dict[str, str],
    account: int,
    samples: MediaSamples,
    emulator: Emulator,
    publisher: TikTokPublisher,
    pacer: RecordingPacer,
) -> None:
    response = await post_video(client, alice, samples["h264_mp4"], social_account_id=str(account))
    driven = await drive(app, publisher, emulator, response.json()["id"])
    assert driven.post.status == "published"
    buckets = [bucket for account_id, bucket in pacer.calls if account_id == account]
    assert buckets[:2] == ["creator_info", "init"]
    assert set(buckets[2:]) == {"status"}
    assert len(pacer.calls) == len(buckets)
