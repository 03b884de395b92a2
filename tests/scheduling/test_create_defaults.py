"""Defaults at create time: the only TikTok account is chosen; a post that will go out but
cannot publish as it stands is refused at create and edit, unless it is a draft."""

from __future__ import annotations

import httpx

from tests.media_factory import MediaSamples
from tests.publishing.helpers import connect_creator
from tests.scheduling.conftest import body, create, refused_fields
from tiktimer.platforms.tiktok.emulator import Emulator


async def test_the_only_account_is_chosen(
    client: httpx.AsyncClient, alice: dict[str, str], account: int, video: str
) -> None:
    post = await create(client, alice, media_id=video)
    assert post["social_account_id"] == account
    assert post["status"] == "scheduled"
    assert post["validation"]["ok"] is True


async def test_several_accounts_and_none_chosen_is_422_naming_the_field(
    client: httpx.AsyncClient,
    alice: dict[str, str],
    account: int,
    emulator: Emulator,
    video: str,
) -> None:
    await connect_creator(client, alice, emulator, "creator_two")
    response = await client.post("/posts/", json=body(media_id=video), headers=alice)
    assert refused_fields(response) == {"social_account_id": "account_required"}
    assert "several TikTok accounts" in response.text
    draft = await create(client, alice, media_id=video, draft=True)
    assert draft["social_account_id"] is None
    chosen = await create(client, alice, media_id=video, social_account_id=account)
    assert chosen["social_account_id"] == account


async def test_no_account_at_all_is_422_unless_draft(
    client: httpx.AsyncClient, alice: dict[str, str], video: str
) -> None:
    response = await client.post("/posts/", json=body(media_id=video), headers=alice)
    assert refused_fields(response) == {"social_account_id": "account_required"}
    draft = await create(client, alice, media_id=video, draft=True)
    assert draft["status"] == "draft"
    assert draft["validation"]["needs_account"] is True


async def test_no_media_is_422_with_the_reason_unless_draft(
    client: httpx.AsyncClient, alice: dict[str, str], account: int
) -> None:
    response = await client.post("/posts/", json=body(), headers=alice)
    assert refused_fields(response) == {"media_ids": "media_required"}
    draft = await create(client, alice, draft=True)
    assert draft["validation"]["needs_media"] is True
    assert (await client.get("/posts/", headers=alice)).headers["X-Total-Count"] == "1"


async def test_a_failing_preflight_lists_every_reason(
    client: httpx.AsyncClient, alice: dict[str, str], account: int
) -> None:
    response = await client.post(
        "/posts/",
        json=body(privacy_level="PUBLIC_TO_EVERYONE", allow_duet=True),
        headers=alice,
    )
    refused = refused_fields(response)
    assert refused["media_ids"] == "media_required"
    assert refused["privacy_level"] == "privacy_level_not_offered"


async def test_scheduling_an_incomplete_draft_is_refused_at_edit(
    client: httpx.AsyncClient, alice: dict[str, str], account: int, video: str
) -> None:
    draft = await create(client, alice, draft=True)
    url = f"/posts/{draft['id']}"
    refused = await client.patch(url, json={"draft": False}, headers=alice)
    assert refused_fields(refused) == {"media_ids": "media_required"}
    assert (await client.get(url, headers=alice)).json()["status"] == "draft"
    scheduled = await client.patch(url, json={"draft": False, "media_ids": [video]}, headers=alice)
    assert scheduled.status_code == 200, scheduled.text
    assert scheduled.json()["status"] == "scheduled"
    emptied = await client.patch(url, json={"media_ids": []}, headers=alice)
    assert refused_fields(emptied) == {"media_ids": "media_required"}
    kept = await client.patch(url, json={"media_ids": [], "draft": True}, headers=alice)
    assert kept.status_code == 200, kept.text


async def test_the_multipart_create_chooses_the_account_too(
    client: httpx.AsyncClient, alice: dict[str, str], account: int, samples: MediaSamples
) -> None:
    with samples["h264_mp4"].open("rb") as video:
        response = await client.post(
            "/api/v1/tiktok/posts/",
            data={"content": "uploaded", "scheduled_time": body()["scheduled_time"]},
            files={"video": ("clip.mp4", video, "video/mp4")},
            headers=alice,
        )
    assert response.status_code == 201, response.text
    assert response.json()["social_account_id"] == account
    assert response.json()["status"] == "scheduled"
