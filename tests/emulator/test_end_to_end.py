"""A correct client, start to finish, the way the reference says to talk to TikTok."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import httpx

from tests.emulator.flows import (
    AUDITED_KEY,
    REDIRECT_URI,
    SECRET,
    TikTok,
    bearer,
    chunk_plan,
    chunk_ranges,
    pattern_sha256,
    pkce_pair,
)
from tiktimer.platforms.tiktok.emulator import (
    SANDBOX_CLIENT_KEY,
    create_emulator_app,
)

VIDEO_SIZE = 130_000_123
CAPTION = "scheduled 🐈 #cat @friend"


async def test_authorize_consent_token_refresh_post_and_publish(tiktok: TikTok) -> None:
    http, emulator = tiktok.http, tiktok.emulator

    # 1. Authorize: the browser opens TikTok's page; the user consents.
    verifier, challenge = pkce_pair()
    query = {
        "client_key": AUDITED_KEY,
        "scope": "user.info.basic,video.publish,video.upload",
        "redirect_uri": REDIRECT_URI,
        "state": "csrf-123",
        "response_type": "code",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = await http.get("https://www.tiktok.test/v2/auth/authorize/", params=query)
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert action is not None
    # What a browser submits: hidden inputs, enabled checked boxes, the choices made.
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text)
    boxes = re.findall(
        r'type="checkbox" name="(granted_scopes)" value="([^"]+)" checked\s*>', page.text
    )
    fields += boxes + [("creator", "alice"), ("decision", "allow")]
    consent = await http.post(
        action.group(1),
        content=urlencode(fields),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    # 2. Callback: compare state, read the URL-decoded code and the granted scopes.
    callback = httpx.URL(consent.headers["location"])
    assert callback.params["state"] == "csrf-123"
    assert callback.params["scopes"] == query["scope"]

    # 3. Token exchange with the PKCE verifier, credentials in the form body.
    exchanged = await http.post(
        "/v2/oauth/token/",
        headers={"Cache-Control": "no-cache"},
        data={
            "client_key": AUDITED_KEY,
            "client_secret": SECRET,
            "code": callback.params["code"],
            "grant_type": "authorization_code",
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
    )
    tokens = exchanged.json()
    assert "error" not in tokens

    # 4. Refresh rotates: persist the new refresh token, use the new access token.
    refreshed = (
        await http.post(
            "/v2/oauth/token/",
            data={
                "client_key": AUDITED_KEY,
                "client_secret": SECRET,
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
            },
        )
    ).json()
    assert refreshed["refresh_token"] != tokens["refresh_token"]
    token = refreshed["access_token"]

    # 5. creator_info right before posting; privacy chosen from its options.
    info = (await tiktok.creator_info(token)).json()
    assert info["error"]["code"] == "ok"
    privacy = info["data"]["privacy_level_options"][0]

    # 6. Init with a floor-count chunk plan.
    chunk_size, count = chunk_plan(VIDEO_SIZE)
    init = await tiktok.init_video(
        token,
        {
            "post_info": {
                "title": CAPTION,
                "privacy_level": privacy,
                "disable_duet": False,
                "disable_comment": False,
                "disable_stitch": False,
                "brand_content_toggle": False,
                "brand_organic_toggle": False,
            },
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": VIDEO_SIZE,
                "chunk_size": chunk_size,
                "total_chunk_count": count,
            },
        },
    )
    assert init.json()["error"]["code"] == "ok"
    data = init.json()["data"]

    # 7. Sequential chunk PUTs to the upload URL, used verbatim.
    ranges = chunk_ranges(VIDEO_SIZE, chunk_size, count)
    statuses = [
        (await tiktok.put_chunk(data["upload_url"], first, last, VIDEO_SIZE)).status_code
        for first, last in ranges
    ]
    assert statuses == [206] * (count - 1) + [201]

    # 8. Poll status until a terminal state (the clock stands in for waiting).
    seen = []
    for _ in range(5):
        body = (await tiktok.status(token, data["publish_id"])).json()["data"]
        seen.append(body["status"])
        if body["status"] in ("PUBLISH_COMPLETE", "FAILED"):
            break
        emulator.advance_clock(0.5)
    assert seen[0] == "PROCESSING_UPLOAD"
    assert seen[-1] == "PUBLISH_COMPLETE"
    assert len(body["publicaly_available_post_id"]) == 1

    # What TikTok saw: one publication of this caption, every byte, recent creator_info.
    [record] = emulator.publications(caption=CAPTION)
    assert record.status == "PUBLISH_COMPLETE"
    assert record.media_bytes == VIDEO_SIZE
    assert record.media_sha256 == pattern_sha256(VIDEO_SIZE)
    assert record.creator_open_id == tokens["open_id"]
    assert record.creator_info_age_seconds is not None
    assert record.creator_info_age_seconds < 1
    user = await http.get("/v2/user/info/", params={"fields": "open_id"}, headers=bearer(token))
    assert user.json()["data"]["user"]["open_id"] == tokens["open_id"]


async def test_default_config_has_an_unaudited_sandbox_client() -> None:
    app = create_emulator_app()
    emulator = app.state.emulator

    [client] = emulator.clients()

    assert client.client_key == SANDBOX_CLIENT_KEY
    assert client.audited is False
    assert client.pkce_required is True
    assert client.redirect_uris == ()
    assert emulator.creators() == []
