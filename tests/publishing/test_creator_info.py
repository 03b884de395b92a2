"""`GET /api/v1/accounts/{id}/creator-info`: everything the composer needs for TikTok's UX
rules, asked of TikTok each time; and public posts whose int64 ids are kept exactly."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.users import user_headers
from tests.publishing.helpers import connect_creator, create_post, drive, stored_media
from tiktimer.platforms.tiktok.emulator import (
    SANDBOX_CLIENT_KEY,
    Emulator,
    Fault,
    FaultKind,
)
from tiktimer.platforms.tiktok.publisher import TikTokPublisher


async def creator_info(
    client: httpx.AsyncClient, headers: dict[str, str], account: int
) -> httpx.Response:
    return await client.get(f"/api/v1/accounts/{account}/creator-info", headers=headers)


async def test_what_the_composer_needs(
    client: httpx.AsyncClient, alice: dict[str, str], emulator: Emulator
) -> None:
    account = await connect_creator(
        client, alice, emulator, "quiet_one", comment_disabled=True, max_video_post_duration_sec=60
    )
    before = emulator.count_requests(endpoint="creator_info")
    response = await creator_info(client, alice, account)
    assert response.status_code == 200, response.text
    info = response.json()
    assert info["creator_nickname"] == "Quiet_One"
    assert info["creator_username"] == "quiet_one"
    # A private account: everything but public (the built-in sandbox is an audited app).
    assert sorted(info["privacy_level_options"]) == [
        "FOLLOWER_OF_CREATOR",
        "MUTUAL_FOLLOW_FRIENDS",
        "SELF_ONLY",
    ]
    assert (info["comment_disabled"], info["duet_disabled"], info["stitch_disabled"]) == (
        True,
        True,  # a private account cannot allow duets or stitches
        True,
    )
    assert info["max_video_post_duration_sec"] == 60
    assert (info["can_post"], info["can_direct_post"], info["can_upload_drafts"]) == (
        True,
        True,
        True,
    )
    assert info["daily_posts_remaining"] == info["daily_post_cap"]
    rules = info["rules"]
    assert rules["privacy_level_default"] is None
    assert rules["interactions_default"] is False
    assert rules["photo_interactions"] == ["allow_comment"]
    assert rules["brand_content_label"] == "Paid partnership"
    assert "Music Usage Confirmation" in rules["declaration"]
    assert (rules["caption_max_utf16"], rules["photo_title_max_utf16"]) == (2200, 90)
    await creator_info(client, alice, account)
    assert emulator.count_requests(endpoint="creator_info") == before + 2  # fresh every time


async def test_when_the_creator_cannot_post(
    client: httpx.AsyncClient, alice: dict[str, str], account: int, emulator: Emulator
) -> None:
    emulator.update_creator("creator_one", posts_today=15)
    info = (await creator_info(client, alice, account)).json()
    assert info["can_post"] is False
    assert info["error_code"] == "spam_risk_too_many_posts"
    assert "daily limit of posts" in info["cannot_post_reason"]


async def test_drafts_only_accounts_and_strangers(
    client: httpx.AsyncClient, alice: dict[str, str], emulator: Emulator
) -> None:
    drafts = await connect_creator(
        client, alice, emulator, "drafts_only", granted_scopes="user.info.basic,video.upload"
    )
    info = (await creator_info(client, alice, drafts)).json()
    assert (info["can_direct_post"], info["can_upload_drafts"], info["can_post"]) == (
        False,
        True,
        False,
    )
    mallory = await user_headers(client, "mallory")
    assert (await creator_info(client, mallory, drafts)).status_code == 404


async def test_tiktok_unavailable_is_503(
    client: httpx.AsyncClient, alice: dict[str, str], account: int, emulator: Emulator
) -> None:
    emulator.add_fault(Fault(endpoint="creator_info", kind=FaultKind.HTTP_ERROR, status=502))
    assert (await creator_info(client, alice, account)).status_code == 503


@pytest.fixture
def audited(emulator: Emulator) -> Iterator[None]:
    """The sandbox app as if TikTok had audited it: public posts, public post ids."""
    [original] = [c for c in emulator.clients() if c.client_key == SANDBOX_CLIENT_KEY]
    emulator.register_client(dataclasses.replace(original, audited=True))
    yield
    emulator.register_client(original)


@pytest.mark.usefixtures("audited")
async def test_public_post_ids_are_exact_int64_strings(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: dict[str, str],
    alice_id: int,
    emulator: Emulator,
    publisher: TikTokPublisher,
) -> None:
    account = await connect_creator(client, alice, emulator, "public_one", is_private=False)
    info = (await creator_info(client, alice, account)).json()
    assert "PUBLIC_TO_EVERYONE" in info["privacy_level_options"]
    media_id, _ = await stored_media(app, alice_id, 1_000_000)
    post = await create_post(
        client,
        alice,
        social_account_id=account,
        media_id=media_id,
        privacy_level="PUBLIC_TO_EVERYONE",
        allow_comment=True,
        allow_duet=True,
        allow_stitch=True,
        brand_organic_toggle=True,
        is_aigc=True,
    )
    assert post["validation"]["ok"] is True, post["validation"]

    driven = await drive(app, publisher, emulator, post["id"])

    [record] = emulator.publications()
    [tiktok_id] = record.post_ids
    assert tiktok_id > 2**53
    assert driven.post.platform_post_ids == [str(tiktok_id)]
    assert driven.post.platform_post_id == str(tiktok_id)
    assert record.post_info["is_aigc"] is True
    assert record.post_info["brand_organic_toggle"] is True
    assert record.post_info["disable_duet"] is False
    read = (await client.get(f"/posts/{post['id']}", headers=alice)).json()
    assert read["platform_post_ids"] == [str(tiktok_id)]
    assert read["platform_log_ids"]  # TikTok's log id of the verdict, for support


async def test_a_full_minute_answers_from_the_last_reply_without_waiting(
    client: httpx.AsyncClient, alice: dict[str, str], account: int, emulator: Emulator
) -> None:
    for _ in range(21):  # TikTok allows 20 creator_info calls per minute per token
        response = await creator_info(client, alice, account)
        assert response.status_code == 200, response.text
        assert "SELF_ONLY" in response.json()["privacy_level_options"]
    assert emulator.count_requests(endpoint="creator_info") == 20
    assert emulator.count_requests(endpoint="creator_info", status=429) == 0
