"""Direct-post and inbox video inits: privacy, captions, caps, audit and strict bodies."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.flows import (
    UNAUDITED_KEY,
    TikTok,
    error_code,
    make_config,
    serve,
    video_body,
)
from tiktimer.platforms.tiktok.emulator import ClientConfig, CreatorSettings

INBOX = "/v2/post/publish/inbox/video/init/"


async def test_file_upload_init_returns_publish_id_and_upload_url(tiktok: TikTok) -> None:
    response = await tiktok.init_video(tiktok.tokens(), video_body())

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["publish_id"].startswith("v_pub_file~v2-1.")
    assert len(data["publish_id"]) <= 64
    assert data["upload_url"].startswith("https://open.tiktokapis.test/upload/video/?upload_id=")
    assert "&upload_token=" in data["upload_url"]
    assert len(data["upload_url"]) <= 256


@pytest.mark.parametrize("privacy", ["FOLLOWER_OF_CREATOR", "EVERYONE", None])
async def test_privacy_must_be_one_of_the_creators_options(
    tiktok: TikTok, privacy: str | None
) -> None:
    response = await tiktok.init_video(tiktok.tokens("alice"), video_body(privacy=privacy))

    assert (response.status_code, error_code(response)) == (403, "privacy_level_option_mismatch")


async def test_caption_is_counted_in_utf16_code_units(tiktok: TikTok) -> None:
    token = tiktok.tokens()
    at_limit = "😀" * 1100  # 1100 code points, 2200 UTF-16 units
    over = "😀" * 1100 + "a"

    accepted = await tiktok.init_video(token, video_body(title=at_limit))
    refused = await tiktok.init_video(token, video_body(title=over))

    assert accepted.status_code == 200
    assert len(over) == 1101
    assert (refused.status_code, error_code(refused)) == (400, "invalid_param")
    assert "2200" in refused.json()["error"]["message"]


async def test_daily_post_cap(tiktok: TikTok) -> None:
    tiktok.emulator.update_creator("alice", posts_today=14)
    token = tiktok.tokens()

    last = await tiktok.init_video(token, video_body())
    refused = await tiktok.init_video(token, video_body())

    assert last.status_code == 200
    assert (refused.status_code, error_code(refused)) == (403, "spam_risk_too_many_posts")
    tiktok.emulator.advance_clock(24 * 3600)
    assert (await tiktok.init_video(tiktok.tokens(), video_body())).status_code == 200


async def test_daily_cap_is_shared_across_clients(tiktok: TikTok) -> None:
    tiktok.emulator.update_creator("bob", posts_today=14)
    body = video_body(privacy="SELF_ONLY", disable_duet=True, disable_stitch=True)
    audited = await tiktok.init_video(tiktok.tokens("bob"), body)
    unaudited_token = tiktok.tokens("bob", client_key=UNAUDITED_KEY)

    refused = await tiktok.init_video(unaudited_token, body)

    assert audited.status_code == 200
    assert error_code(refused) == "spam_risk_too_many_posts"


@pytest.mark.parametrize("privacy", ["PUBLIC_TO_EVERYONE", "SELF_ONLY"])
async def test_unaudited_client_cannot_post_to_a_public_account(
    tiktok: TikTok, privacy: str
) -> None:
    token = tiktok.tokens("alice", client_key=UNAUDITED_KEY)

    response = await tiktok.init_video(token, video_body(privacy=privacy))

    assert response.status_code == 403
    assert error_code(response) == "unaudited_client_can_only_post_to_private_accounts"


async def test_unaudited_client_posts_only_self_only(tiktok: TikTok) -> None:
    token = tiktok.tokens("bob", client_key=UNAUDITED_KEY)

    public = await tiktok.init_video(token, video_body(privacy="MUTUAL_FOLLOW_FRIENDS"))
    private = await tiktok.init_video(
        token, video_body(privacy="SELF_ONLY", disable_duet=True, disable_stitch=True)
    )

    assert error_code(public) == "privacy_level_option_mismatch"
    assert private.status_code == 200
    record = tiktok.emulator.publication(private.json()["data"]["publish_id"])
    assert record.privacy_level == "SELF_ONLY"


async def test_unaudited_posts_are_forced_private_even_when_options_are_wider() -> None:
    config = make_config(unaudited_self_only_options=False)
    async with serve(config) as tiktok:
        token = tiktok.tokens("bob", client_key=UNAUDITED_KEY)
        body = video_body(privacy="MUTUAL_FOLLOW_FRIENDS", disable_duet=True, disable_stitch=True)

        response = await tiktok.init_video(token, body)

        record = tiktok.emulator.publication(response.json()["data"]["publish_id"])
        assert (record.requested_privacy_level, record.privacy_level) == (
            "MUTUAL_FOLLOW_FRIENDS",
            "SELF_ONLY",
        )


async def test_unaudited_client_reaches_its_active_user_cap() -> None:
    async with serve(make_config(unaudited_active_user_cap=2)) as tiktok:
        body = video_body(privacy="SELF_ONLY", disable_duet=True, disable_stitch=True)
        for name in ("p1", "p2", "p3"):
            tiktok.emulator.create_creator(CreatorSettings(username=name, is_private=True))
        for name in ("p1", "p2", "p1"):
            token = tiktok.tokens(name, client_key=UNAUDITED_KEY)
            assert (await tiktok.init_video(token, body)).status_code == 200

        refused = await tiktok.init_video(tiktok.tokens("p3", client_key=UNAUDITED_KEY), body)

        assert (refused.status_code, error_code(refused)) == (403, "reached_active_user_cap")


async def test_banned_creator_cannot_init(tiktok: TikTok) -> None:
    tiktok.emulator.update_creator("alice", banned=True)

    response = await tiktok.init_video(tiktok.tokens(), video_body())

    assert (response.status_code, error_code(response)) == (
        403,
        "spam_risk_user_banned_from_posting",
    )


@pytest.mark.parametrize(
    "mutate",
    [
        lambda body: body["source_info"].update(video_cover_timestamp_ms=1000),
        lambda body: body["post_info"].update(disable_comment="true"),
        lambda body: body["post_info"].update(disable_comment=0),
        lambda body: body["source_info"].update(video_size=1_000_000.0),
        lambda body: body["source_info"].update(source="UPLOAD"),
        lambda body: body["post_info"].pop("brand_content_toggle"),
        lambda body: body["source_info"].pop("chunk_size"),
    ],
)
async def test_strict_body_rules(tiktok: TikTok, mutate: Any) -> None:
    body = video_body()
    mutate(body)

    response = await tiktok.init_video(tiktok.tokens(), body)

    assert (response.status_code, error_code(response)) == (400, "invalid_param")


async def test_branded_content_cannot_be_private(tiktok: TikTok) -> None:
    body = video_body(privacy="SELF_ONLY", brand_content_toggle=True)

    response = await tiktok.init_video(tiktok.tokens(), body)

    assert error_code(response) == "invalid_param"
    assert "private" in response.json()["error"]["message"]


async def test_interactions_the_creator_disabled_must_be_sent_disabled(tiktok: TikTok) -> None:
    tiktok.emulator.update_creator("alice", comment_disabled=True)
    token = tiktok.tokens()

    refused = await tiktok.init_video(token, video_body())
    accepted = await tiktok.init_video(token, video_body(disable_comment=True))

    assert error_code(refused) == "invalid_param"
    assert accepted.status_code == 200


async def test_lenient_modes_accept_what_strict_mode_refuses() -> None:
    config = make_config(reject_unknown_fields=False, strict_ux_rules=False)
    async with serve(config) as tiktok:
        body = video_body()
        body["source_info"]["video_cover_timestamp_ms"] = 1000
        body["post_info"].pop("brand_content_toggle")

        assert (await tiktok.init_video(tiktok.tokens(), body)).status_code == 200


async def test_json_content_type_and_body_are_required(tiktok: TikTok) -> None:
    headers = {"Authorization": f"Bearer {tiktok.tokens()}"}

    as_form = await tiktok.http.post(
        "/v2/post/publish/video/init/", headers=headers, data={"post_info": "x"}
    )
    broken = await tiktok.http.post(
        "/v2/post/publish/video/init/",
        headers=headers | {"Content-Type": "application/json; charset=UTF-8"},
        content=b"{not json",
    )

    assert (as_form.status_code, error_code(as_form)) == (400, "invalid_param")
    assert (broken.status_code, error_code(broken)) == (400, "invalid_param")


async def test_video_init_needs_video_publish(tiktok: TikTok) -> None:
    token = tiktok.tokens(scopes=("user.info.basic", "video.upload"))

    response = await tiktok.init_video(token, video_body())

    assert (response.status_code, error_code(response)) == (401, "scope_not_authorized")


async def test_inbox_init_ignores_post_info_and_needs_video_upload(tiktok: TikTok) -> None:
    body = video_body()
    publish_only = tiktok.tokens(scopes=("user.info.basic", "video.publish"))

    refused = await tiktok.call(INBOX, publish_only, body)
    accepted = await tiktok.call(INBOX, tiktok.tokens(), body)

    assert error_code(refused) == "scope_not_authorized"
    publish_id = accepted.json()["data"]["publish_id"]
    assert publish_id.startswith("v_inbox_file~v2.")
    record = tiktok.emulator.publication(publish_id)
    assert record.post_info_ignored is True
    assert record.caption is None
    assert record.post_mode == "MEDIA_UPLOAD"


async def test_at_most_five_pending_inbox_shares(tiktok: TikTok) -> None:
    token = tiktok.tokens()
    body = {"source_info": video_body()["source_info"]}
    for _ in range(5):
        tiktok.emulator.advance_clock(60)  # stay under the init rate limit
        assert (await tiktok.call(INBOX, token, body)).status_code == 200

    refused = await tiktok.call(INBOX, token, body)

    assert (refused.status_code, error_code(refused)) == (403, "spam_risk_too_many_pending_share")


async def test_audited_client_active_user_cap_is_optional() -> None:
    capped = ClientConfig(client_key="capped", client_secret="x", audited=True, active_user_cap=1)
    async with serve(make_config(clients=(capped,))) as tiktok:
        await tiktok.creator_info(tiktok.tokens("alice", client_key="capped"))
        first = await tiktok.init_video(tiktok.tokens("alice", client_key="capped"), video_body())
        info = await tiktok.creator_info(tiktok.tokens("bob", client_key="capped"))

        assert first.status_code == 200
        assert (info.status_code, error_code(info)) == (200, "reached_active_user_cap")
