"""A YouTube channel connected, refreshed, revoked and published to through the app and
its built-in YouTube sandbox, over HTTP to the app, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import insert, select, text

from tests.fixtures.app import TEST_BASE_URL, make_settings, sandboxed_app
from tests.fixtures.users import user_headers
from tests.youtube.conftest import video_bytes
from tiktimer.accounts.tokens import AccountTokens, AccountUnusable
from tiktimer.kit.time import utc_now
from tiktimer.models import Media, Post, PostMedia, SocialAccount
from tiktimer.platforms.oauth import GrantRevoked
from tiktimer.platforms.youtube.sandbox import CHANNELS, SANDBOX_MOUNT

CHANNEL = CHANNELS[0]


@dataclass
class Connected:
    page: httpx.Response
    account_id: int


async def start(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    response = await client.get("/api/v1/auth/youtube/authorize", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["sandbox"] is True
    url: str = response.json()["authorization_url"]
    return url


async def consent(
    client: httpx.AsyncClient, authorization_url: str, *, login: str = CHANNEL.login
) -> str:
    """Load the sandbox's consent page and allow; returns the callback's path and query."""
    parts = urlsplit(authorization_url)
    assert f"{parts.scheme}://{parts.netloc}" == TEST_BASE_URL
    page = await client.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200, page.text
    action = f"{SANDBOX_MOUNT}/o/oauth2/v2/auth/consent"
    assert f'action="{action}"' in page.text  # the mounted form posts back to the mount
    form = {k: v[0] for k, v in parse_qs(parts.query).items()}
    form |= {"login": login, "decision": "allow"}
    answer = await client.post(action, data=form)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    assert back.path == "/api/v1/auth/youtube/callback"
    return f"{back.path}?{back.query}"


async def connect(client: httpx.AsyncClient, headers: dict[str, str]) -> Connected:
    page = await client.get(await consent(client, await start(client, headers)))
    accounts = (await client.get("/api/v1/accounts", headers=headers)).json()
    [account] = [a for a in accounts if a["platform"] == "youtube"]
    return Connected(page, account["id"])


async def plaintexts(app: FastAPI, account_id: int) -> tuple[str, str]:
    services = app.state.services
    async with services.sessionmaker() as session:
        account = await session.get(SocialAccount, account_id)
        assert account is not None
        assert account.access_token_encrypted
        assert account.refresh_token_encrypted
        return (
            services.cipher.decrypt(account.access_token_encrypted),
            services.cipher.decrypt(account.refresh_token_encrypted),
        )


async def raw_row(app: FastAPI, account_id: int) -> dict[str, object]:
    async with app.state.services.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT * FROM social_accounts WHERE id = :id"), {"id": account_id}
        )
        return dict(rows.mappings().one())


async def test_a_channel_connects_through_the_sandbox_with_tokens_encrypted(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    alice = await user_headers(client, "alice")
    connected = await connect(client, alice)

    assert connected.page.status_code == 200, connected.page.text
    assert f"Connected as {CHANNEL.title} (sandbox)" in connected.page.text
    [account] = (await client.get("/api/v1/accounts", headers=alice)).json()
    assert account["platform"] == "youtube"
    assert account["open_id"] == CHANNEL.channel_id
    assert account["status"] == "active"
    assert account["is_sandbox"] is True
    assert account["missing_scopes"] == []  # TikTok's scopes are not YouTube's
    access, refresh = await plaintexts(app, connected.account_id)
    assert access.startswith("ya29.")
    assert refresh.startswith("1//")
    row = await raw_row(app, connected.account_id)
    stored = " ".join(str(value) for value in row.values())
    assert access not in stored
    assert refresh not in stored
    assert row["access_token_encrypted"]
    assert row["refresh_token_encrypted"]


async def test_tiktok_keeps_its_own_routes(client: httpx.AsyncClient) -> None:
    alice = await user_headers(client, "alice")
    tiktok = await client.get("/api/v1/auth/tiktok/authorize", headers=alice)
    youtube = await client.get("/api/v1/auth/youtube/authorize", headers=alice)
    unknown = await client.get("/api/v1/auth/myspace/authorize", headers=alice)

    assert "/sandbox/tiktok/" in tiktok.json()["authorization_url"]
    assert "/sandbox/youtube/" in youtube.json()["authorization_url"]
    assert unknown.status_code == 404


async def test_a_callback_needs_the_starting_browser_and_its_own_platform(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    alice = await user_headers(client, "alice")
    callback = await consent(client, await start(client, alice))
    other_browser = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=TEST_BASE_URL
    )
    async with other_browser:
        foreign = await other_browser.get(callback)
    reused = await client.get(callback)  # the state was spent by the refused try
    tiktok_url = (await client.get("/api/v1/auth/tiktok/authorize", headers=alice)).json()
    tiktok_state = parse_qs(urlsplit(tiktok_url["authorization_url"]).query)["state"][0]
    crossed = await client.get(f"/api/v1/auth/youtube/callback?state={tiktok_state}&code=x")

    assert foreign.status_code == 400
    assert "another browser" in foreign.text
    assert reused.status_code == 400
    assert "already used" in reused.text
    assert crossed.status_code == 400
    assert "forged state" in crossed.text
    assert (await client.get("/api/v1/accounts", headers=alice)).json() == []


async def test_the_public_mount_is_the_consent_page_only(client: httpx.AsyncClient) -> None:
    token = await client.post(f"{SANDBOX_MOUNT}/token", data={"grant_type": "refresh_token"})
    videos = await client.get(f"{SANDBOX_MOUNT}/youtube/v3/videos", params={"id": "x"})
    upload = await client.post(f"{SANDBOX_MOUNT}/upload/youtube/v3/videos")

    assert [token.status_code, videos.status_code, upload.status_code] == [404, 404, 404]


async def test_account_tokens_refresh_a_channel_through_google(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    alice = await user_headers(client, "alice")
    account_id = (await connect(client, alice)).account_id
    tokens: AccountTokens = app.state.services.account_tokens
    before, refresh_before = await plaintexts(app, account_id)

    renewed = await tokens.refresh(account_id)

    after, refresh_after = await plaintexts(app, account_id)
    assert renewed.token == after != before
    assert refresh_after == refresh_before  # Google keeps the refresh token on a refresh
    assert (await tokens.access_token(account_id)).token == after


async def test_a_revoked_grant_makes_the_channel_reauth_required(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    alice = await user_headers(client, "alice")
    account_id = (await connect(client, alice)).account_id
    _, refresh = await plaintexts(app, account_id)
    await app.state.services.oauth["youtube"].emulator.revoke(refresh)  # the user, at Google

    with pytest.raises(AccountUnusable):
        await app.state.services.account_tokens.refresh(account_id)

    account = (await client.get(f"/api/v1/accounts/{account_id}", headers=alice)).json()
    assert account["status"] == "reauth_required"
    assert "invalid_grant" in account["status_reason"]


async def test_disconnect_revokes_at_google_and_forgets_the_tokens(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    alice = await user_headers(client, "alice")
    account_id = (await connect(client, alice)).account_id
    _, refresh = await plaintexts(app, account_id)

    response = await client.delete("/api/v1/auth/youtube/disconnect", headers=alice)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "disconnected"
    row = await raw_row(app, account_id)
    assert row["access_token_encrypted"] is None
    assert row["refresh_token_encrypted"] is None
    provider = app.state.services.account_tokens.oauth_provider("youtube")
    with pytest.raises(GrantRevoked):
        await provider.refresh(refresh)  # Google no longer knows the grant


async def test_a_scheduled_post_is_published_to_the_sandbox(
    client: httpx.AsyncClient, app: FastAPI, tmp_path: Path
) -> None:
    settings = make_settings(
        app.state.services.settings.database.url,
        tmp_path,
        run_scheduler=True,
        scheduler_poll_seconds=0.2,
        status_poll_first_seconds=0.2,
    )
    async with sandboxed_app(settings) as serving:
        transport = httpx.ASGITransport(app=serving)
        async with httpx.AsyncClient(transport=transport, base_url=TEST_BASE_URL) as browser:
            alice = await user_headers(browser, "alice")
            account_id = (await connect(browser, alice)).account_id
            post_id = await _scheduled_post(serving, account_id, video_bytes(300_000))
            post = await _settled(serving, post_id)
        [video] = await serving.state.services.oauth["youtube"].emulator.videos()

    assert post.status == "published", post.last_error
    assert post.platform_publish_id == video.id
    assert video.resource["snippet"]["title"] == "A Short from TikTimer"


async def _scheduled_post(app: FastAPI, account_id: int, data: bytes) -> int:
    services = app.state.services
    key = f"media/{secrets.token_hex(8)}.mp4"
    source = services.settings.storage.data_dir / "upload.mp4"
    source.write_bytes(data)
    await services.storage.put_file(key, source)
    media_id = secrets.token_hex(16)
    async with services.engine.begin() as connection:
        user_id = (
            await connection.execute(
                select(SocialAccount.user_id).where(SocialAccount.id == account_id)
            )
        ).scalar_one()
        await connection.execute(
            insert(Media).values(
                id=media_id,
                user_id=user_id,
                storage_key=key,
                size=len(data),
                sha256="0" * 64,
                content_type="video/mp4",
                kind="video",
            )
        )
        post_id: int = (
            await connection.execute(
                insert(Post)
                .values(
                    user_id=user_id,
                    social_account_id=account_id,
                    platform="youtube",
                    scheduled_time=utc_now(),
                    title="A Short from TikTimer",
                    content="Made in the sandbox.",
                    privacy_level="PUBLIC_TO_EVERYONE",
                )
                .returning(Post.id)
            )
        ).scalar_one()
        await connection.execute(
            insert(PostMedia).values(post_id=post_id, position=0, media_id=media_id)
        )
    return post_id


async def _settled(app: FastAPI, post_id: int, seconds: float = 30.0) -> Post:
    """Wait (bounded) until the dispatcher has settled the post."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        async with app.state.services.sessionmaker() as session:
            post = await session.get(Post, post_id)
            assert post is not None
            if post.status in ("published", "failed", "unconfirmed", "missed"):
                return post
        if loop.time() > deadline:
            raise AssertionError(f"post {post_id} still {post.status}: {post.last_error}")
        await asyncio.sleep(0.1)


async def test_tiktoks_disconnect_never_sends_a_google_token_to_tiktok(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    alice = await user_headers(client, "alice")
    account_id = (await connect(client, alice)).account_id

    by_id = await client.delete(
        "/api/v1/auth/tiktok/disconnect", params={"account_id": account_id}, headers=alice
    )
    only = await client.delete("/api/v1/auth/tiktok/disconnect", headers=alice)

    assert by_id.status_code == 400
    assert "/api/v1/auth/youtube/disconnect" in by_id.json()["detail"]
    assert only.status_code == 400  # no TikTok account: the channel is not counted
    account = (await client.get(f"/api/v1/accounts/{account_id}", headers=alice)).json()
    assert account["status"] == "active"
