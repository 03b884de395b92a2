"""The `/_emulator/` admin API that tests in other processes drive."""

from __future__ import annotations

from typing import Any

import httpx

from tests.emulator.flows import (
    AUDITED_KEY,
    REDIRECT_URI,
    TikTok,
    bearer,
    error_code,
    make_config,
    serve,
    video_body,
)

ADMIN = "/_emulator"


async def _tokens(tiktok: TikTok, username: str = "alice", **extra: Any) -> str:
    body = {"client_key": AUDITED_KEY, "username": username} | extra
    response = await tiktok.http.post(f"{ADMIN}/tokens", json=body)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def test_create_and_update_creators(tiktok: TikTok) -> None:
    created = await tiktok.http.post(
        f"{ADMIN}/creators",
        json={
            "username": "erin",
            "display_name": "Erin",
            "privacy_level_options": ["SELF_ONLY"],
            "max_video_post_duration_sec": 60,
            "comment_disabled": True,
            "duet_disabled": True,
            "stitch_disabled": True,
            "posts_today": 3,
        },
    )
    token = await _tokens(tiktok, "erin")
    info = (await tiktok.creator_info(token)).json()["data"]
    patched = await tiktok.http.patch(f"{ADMIN}/creators/erin", json={"banned": True})
    after = await tiktok.creator_info(token)

    assert created.status_code == 201
    assert created.json()["posts_counted_today"] == 3
    assert created.json()["open_ids"][AUDITED_KEY] == tiktok.emulator.open_id(AUDITED_KEY, "erin")
    assert info["privacy_level_options"] == ["SELF_ONLY"]
    assert info["max_video_post_duration_sec"] == 60
    assert (info["comment_disabled"], info["duet_disabled"]) == (True, True)
    assert patched.json()["banned"] is True
    assert patched.json()["posts_today"] == 3
    assert error_code(after) == "spam_risk_user_banned_from_posting"
    listed = (await tiktok.http.get(f"{ADMIN}/creators")).json()
    assert [c["username"] for c in listed] == ["alice", "bob", "erin"]


async def test_bad_creator_settings_are_422(tiktok: TikTok) -> None:
    bad_option = await tiktok.http.post(
        f"{ADMIN}/creators", json={"username": "x1", "privacy_level_options": ["EVERYONE"]}
    )
    bad_name = await tiktok.http.post(f"{ADMIN}/creators", json={"username": "Not Valid!"})
    missing = await tiktok.http.patch(f"{ADMIN}/creators/nobody", json={"banned": True})

    assert (bad_option.status_code, bad_name.status_code, missing.status_code) == (422, 422, 404)


async def test_register_a_client_then_authorize_with_it(tiktok: TikTok) -> None:
    registered = await tiktok.http.post(
        f"{ADMIN}/clients",
        json={
            "client_key": "newapp",
            "client_secret": "newsecret",
            "redirect_uris": [REDIRECT_URI],
            "audited": True,
        },
    )
    refused = await tiktok.http.post(
        f"{ADMIN}/clients",
        json={"client_key": "bad", "client_secret": "x", "redirect_uris": ["http://a.example/"]},
    )

    auth = await tiktok.authorize(client_key="newapp")
    tokens = await tiktok.exchange(auth, client_key="newapp", client_secret="newsecret")

    assert registered.status_code == 201
    assert "client_secret" not in registered.json()
    assert refused.status_code == 422
    assert tokens.status_code == 200
    keys = [c["client_key"] for c in (await tiktok.http.get(f"{ADMIN}/clients")).json()]
    assert "newapp" in keys


async def test_tokens_shortcut_with_scopes(tiktok: TikTok) -> None:
    token = await _tokens(tiktok, scopes=["user.info.basic"])

    response = await tiktok.creator_info(token)

    assert error_code(response) == "scope_not_authorized"


async def test_publications_and_requests_over_http(tiktok: TikTok) -> None:
    token = await _tokens(tiktok)
    await tiktok.publish_file(token, title="hello")
    await tiktok.publish_file(token, title="other")
    await tiktok.http.post(f"{ADMIN}/clock/advance", json={"seconds": 5})

    listed = (await tiktok.http.get(f"{ADMIN}/publications", params={"caption": "hello"})).json()
    count = await tiktok.http.get(
        f"{ADMIN}/publications/count", params={"status": "PUBLISH_COMPLETE", "creator": "alice"}
    )
    one = await tiktok.http.get(f"{ADMIN}/publications/{listed[0]['publish_id']}")
    requests = (await tiktok.http.get(f"{ADMIN}/requests", params={"endpoint": "upload"})).json()
    request_count = await tiktok.http.get(f"{ADMIN}/requests/count", params={"status": 201})

    assert len(listed) == 1
    assert listed[0]["caption"] == "hello"
    assert listed[0]["status"] == "PUBLISH_COMPLETE"
    assert listed[0]["media_bytes"] == 1_000_000
    assert listed[0]["completed_at"]
    assert isinstance(listed[0]["post_ids"][0], int)
    assert count.json() == {"count": 2}
    assert one.json()["publish_id"] == listed[0]["publish_id"]
    assert len(requests) == 2
    assert requests[0]["token_hash"] is None
    assert request_count.json() == {"count": 2}
    assert (await tiktok.http.get(f"{ADMIN}/publications/nope")).status_code == 404


async def test_faults_over_http(tiktok: TikTok) -> None:
    token = await _tokens(tiktok)
    added = await tiktok.http.post(
        f"{ADMIN}/faults",
        json={
            "endpoint": "video_init",
            "kind": "tiktok_error",
            "error_code": "reached_active_user_cap",
        },
    )
    refused = await tiktok.init_video(token, video_body())
    listed = (await tiktok.http.get(f"{ADMIN}/faults")).json()
    invalid = await tiktok.http.post(
        f"{ADMIN}/faults", json={"endpoint": "token", "kind": "tiktok_error"}
    )
    cleared = await tiktok.http.delete(f"{ADMIN}/faults")

    assert added.status_code == 201
    assert added.json()["nth"] == 1
    assert (refused.status_code, error_code(refused)) == (403, "reached_active_user_cap")
    assert listed[0]["fired"] == 1
    assert invalid.status_code == 422
    assert cleared.json() == {"ok": True}
    assert (await tiktok.http.get(f"{ADMIN}/faults")).json() == []


async def test_publish_failures_over_http() -> None:
    async with serve(make_config(processing_seconds=0)) as tiktok:
        token = await _tokens(tiktok)
        await tiktok.http.post(
            f"{ADMIN}/publish-failures", json={"fail_reason": "internal", "count": 1}
        )

        data = await tiktok.publish_file(token)

        status = (await tiktok.status(token, data["publish_id"])).json()["data"]
        assert status == {"status": "FAILED", "fail_reason": "internal"}


async def test_user_posts_an_inbox_draft_over_http() -> None:
    async with serve(make_config(processing_seconds=0)) as tiktok:
        token = await _tokens(tiktok)
        body = {"source_info": video_body()["source_info"]}
        response = await tiktok.call("/v2/post/publish/inbox/video/init/", token, body)
        data = response.json()["data"]
        early = await tiktok.http.post(
            f"{ADMIN}/publications/{data['publish_id']}/user-post", json={}
        )
        await tiktok.upload(data["upload_url"], 1_000_000, 1_000_000, 1)

        posted = await tiktok.http.post(
            f"{ADMIN}/publications/{data['publish_id']}/user-post",
            json={"privacy_level": "SELF_ONLY"},
        )

        assert early.status_code == 409
        assert posted.json()["status"] == "PUBLISH_COMPLETE"
        assert posted.json()["post_ids"] == []


async def test_remove_authorization_revokes_and_fails_in_flight_posts(tiktok: TikTok) -> None:
    token = await _tokens(tiktok)
    data = (await tiktok.init_video(token, video_body())).json()["data"]

    removed = await tiktok.http.post(
        f"{ADMIN}/authorizations/remove", json={"client_key": AUDITED_KEY, "username": "alice"}
    )

    assert removed.json() == {"revoked_grants": 1}
    assert (await tiktok.creator_info(token)).status_code == 401
    record = tiktok.emulator.publication(data["publish_id"])
    assert (record.status, record.fail_reason) == ("FAILED", "auth_removed")


async def test_reset_forgets_state_but_keeps_clients(tiktok: TikTok) -> None:
    token = await _tokens(tiktok)
    await tiktok.init_video(token, video_body())
    await tiktok.http.post(f"{ADMIN}/creators", json={"username": "temp"})

    await tiktok.http.post(f"{ADMIN}/reset")

    assert tiktok.emulator.count_publications() == 0
    assert tiktok.emulator.count_requests() == 0
    assert [c.username for c in tiktok.emulator.creators()] == ["alice", "bob"]
    assert (await tiktok.creator_info(token)).status_code == 401
    assert (await _tokens(tiktok)).startswith("act.")


async def test_admin_token_guards_the_admin_api() -> None:
    async with serve(make_config(admin_token="letmein")) as tiktok:
        denied = await tiktok.http.get(f"{ADMIN}/creators")
        allowed = await tiktok.http.get(
            f"{ADMIN}/creators", headers={"X-Emulator-Admin-Token": "letmein"}
        )

        assert (denied.status_code, allowed.status_code) == (401, 200)


async def test_admin_api_can_be_switched_off() -> None:
    async with serve(make_config(admin_enabled=False)) as tiktok:
        assert (await tiktok.http.get(f"{ADMIN}/creators")).status_code == 404


async def test_admin_calls_are_not_logged_as_tiktok_requests(tiktok: TikTok) -> None:
    await tiktok.http.get(f"{ADMIN}/creators")
    await tiktok.http.get("/v2/unknown/", headers=bearer("x"))

    [record] = tiktok.emulator.requests()
    assert (record.endpoint, record.status) == (None, 404)
    assert isinstance(tiktok.http, httpx.AsyncClient)
