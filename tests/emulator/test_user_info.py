"""`/v2/user/info/`: fields are required and each one is gated by its scope."""

from __future__ import annotations

from tests.emulator.flows import AUDITED_KEY, TikTok, bearer, error_code


async def _user_info(tiktok: TikTok, token: str, fields: str | None) -> object:
    params = {"fields": fields} if fields is not None else {}
    return await tiktok.http.get("/v2/user/info/", params=params, headers=bearer(token))


async def test_returns_the_requested_fields_nested_under_user(tiktok: TikTok) -> None:
    token = (await tiktok.connect())["access_token"]

    response = await tiktok.http.get(
        "/v2/user/info/",
        params={"fields": "open_id,union_id,avatar_url,display_name,username"},
        headers=bearer(token),
    )

    assert response.status_code == 200
    body = response.json()
    assert body["error"]["code"] == "ok"
    assert body["error"]["log_id"]
    assert response.headers["x-tt-logid"] == body["error"]["log_id"]
    assert body["data"]["user"] == {
        "open_id": tiktok.emulator.open_id(AUDITED_KEY, "alice"),
        "union_id": body["data"]["user"]["union_id"],
        "avatar_url": body["data"]["user"]["avatar_url"],
        "display_name": "Alice",
        "username": "alice",
    }


async def test_fields_is_required_and_must_be_known(tiktok: TikTok) -> None:
    token = tiktok.tokens()

    missing = await tiktok.http.get("/v2/user/info/", headers=bearer(token))
    unknown = await tiktok.http.get(
        "/v2/user/info/", params={"fields": "open_id,email"}, headers=bearer(token)
    )

    assert (missing.status_code, error_code(missing)) == (400, "invalid_params")
    assert (unknown.status_code, error_code(unknown)) == (400, "invalid_params")
    assert unknown.json()["data"] == {}


async def test_field_without_its_scope_is_scope_permission_missed(tiktok: TikTok) -> None:
    token = tiktok.tokens(scopes=("user.info.basic", "video.publish"))

    response = await tiktok.http.get(
        "/v2/user/info/", params={"fields": "open_id,follower_count"}, headers=bearer(token)
    )

    assert (response.status_code, error_code(response)) == (400, "scope_permission_missed")


async def test_token_without_any_user_scope_is_not_authorized(tiktok: TikTok) -> None:
    token = tiktok.tokens(scopes=("video.publish",))

    response = await tiktok.http.get(
        "/v2/user/info/", params={"fields": "open_id"}, headers=bearer(token)
    )

    assert (response.status_code, error_code(response)) == (401, "scope_not_authorized")


async def test_missing_or_unknown_token_is_access_token_invalid(tiktok: TikTok) -> None:
    anonymous = await tiktok.http.get("/v2/user/info/", params={"fields": "open_id"})
    unknown = await tiktok.http.get(
        "/v2/user/info/", params={"fields": "open_id"}, headers=bearer("act.nope")
    )

    assert (anonymous.status_code, error_code(anonymous)) == (401, "access_token_invalid")
    assert (unknown.status_code, error_code(unknown)) == (401, "access_token_invalid")


async def test_paths_need_their_trailing_slash(tiktok: TikTok) -> None:
    response = await tiktok.http.get(
        "/v2/user/info", params={"fields": "open_id"}, headers=bearer(tiktok.tokens())
    )

    assert response.status_code == 404
