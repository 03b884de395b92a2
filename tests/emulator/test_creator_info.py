"""creator_info: options by account type and client audit; caps answer HTTP 200."""

from __future__ import annotations

from tests.emulator.flows import UNAUDITED_KEY, TikTok, error_code, make_config, serve
from tiktimer.platforms.tiktok.emulator import CreatorSettings, PrivacyLevel


async def test_public_account(tiktok: TikTok) -> None:
    response = await tiktok.creator_info(tiktok.tokens("alice"))

    assert response.status_code == 200
    assert response.json()["data"] == {
        "creator_avatar_url": response.json()["data"]["creator_avatar_url"],
        "creator_username": "alice",
        "creator_nickname": "Alice",
        "privacy_level_options": ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
        "comment_disabled": False,
        "duet_disabled": False,
        "stitch_disabled": False,
        "max_video_post_duration_sec": 300,
    }


async def test_private_account_has_follower_options_and_no_duet_or_stitch(tiktok: TikTok) -> None:
    data = (await tiktok.creator_info(tiktok.tokens("bob"))).json()["data"]

    assert data["privacy_level_options"] == [
        "FOLLOWER_OF_CREATOR",
        "MUTUAL_FOLLOW_FRIENDS",
        "SELF_ONLY",
    ]
    assert data["duet_disabled"] is True
    assert data["stitch_disabled"] is True


async def test_creator_settings_are_reported(tiktok: TikTok) -> None:
    tiktok.emulator.create_creator(
        CreatorSettings(
            username="dana",
            privacy_level_options=(PrivacyLevel.SELF_ONLY, PrivacyLevel.MUTUAL_FOLLOW_FRIENDS),
            comment_disabled=True,
            max_video_post_duration_sec=600,
        )
    )

    data = (await tiktok.creator_info(tiktok.tokens("dana"))).json()["data"]

    assert data["privacy_level_options"] == ["SELF_ONLY", "MUTUAL_FOLLOW_FRIENDS"]
    assert data["comment_disabled"] is True
    assert data["max_video_post_duration_sec"] == 600
    assert data["creator_nickname"] == "dana"


async def test_unaudited_client_is_offered_self_only(tiktok: TikTok) -> None:
    response = await tiktok.creator_info(tiktok.tokens("bob", client_key=UNAUDITED_KEY))

    assert response.json()["data"]["privacy_level_options"] == ["SELF_ONLY"]


async def test_banned_creator_gets_http_200_with_error_code(tiktok: TikTok) -> None:
    tiktok.emulator.update_creator("alice", banned=True)

    response = await tiktok.creator_info(tiktok.tokens("alice"))

    assert response.status_code == 200
    assert error_code(response) == "spam_risk_user_banned_from_posting"
    assert response.json()["data"] == {}


async def test_daily_cap_reached_gets_http_200_with_error_code(tiktok: TikTok) -> None:
    tiktok.emulator.update_creator("alice", posts_today=15)

    response = await tiktok.creator_info(tiktok.tokens("alice"))

    assert (response.status_code, error_code(response)) == (200, "spam_risk_too_many_posts")


async def test_needs_video_publish_scope(tiktok: TikTok) -> None:
    token = tiktok.tokens(scopes=("user.info.basic", "video.upload"))

    response = await tiktok.creator_info(token)

    assert (response.status_code, error_code(response)) == (401, "scope_not_authorized")


async def test_a_json_body_is_optional_but_must_be_json(tiktok: TikTok) -> None:
    token = tiktok.tokens()

    empty_json = await tiktok.call("/v2/post/publish/creator_info/query/", token, {})
    form = await tiktok.http.post(
        "/v2/post/publish/creator_info/query/",
        headers={"Authorization": f"Bearer {token}"},
        data={"a": "b"},
    )

    assert error_code(empty_json) == "ok"
    assert (form.status_code, error_code(form)) == (400, "invalid_param")


async def test_init_records_how_long_ago_creator_info_was_called() -> None:
    async with serve(make_config()) as tiktok:
        token = tiktok.tokens()
        await tiktok.creator_info(token)
        tiktok.emulator.advance_clock(30)

        data = await tiktok.publish_file(token)

        age = tiktok.emulator.publication(data["publish_id"]).creator_info_age_seconds
        assert age is not None
        assert 30 <= age < 31
