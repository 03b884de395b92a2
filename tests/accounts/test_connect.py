"""The OAuth dance against the TikTok emulator, over HTTP, with every way it can fail."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text, update

from tests.accounts.conftest import connect, consent, start
from tests.fixtures.app import TEST_SECRET
from tests.fixtures.users import user_headers
from tiktimer.accounts.tokens import AccountTokens, AccountUnusable
from tiktimer.models import OAuthState, SocialAccount
from tiktimer.platforms.tiktok.emulator.emulator import Emulator
from tiktimer.platforms.tiktok.errors import TikTokError
from tiktimer.platforms.tiktok.sandbox import client_secret_for


async def accounts(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict]:
    response = await client.get("/api/v1/accounts", headers=headers)
    assert response.status_code == 200
    result: list[dict] = response.json()
    return result


async def raw_rows(app: FastAPI) -> list[dict]:
    async with app.state.services.engine.connect() as connection:
        rows = await connection.execute(text("SELECT * FROM social_accounts"))
        return [dict(r) for r in rows.mappings()]


async def plaintext_tokens(app: FastAPI, account_id: int) -> tuple[str, str]:
    cipher = app.state.services.cipher
    async with app.state.services.sessionmaker() as session:
        account = await session.get(SocialAccount, account_id)
        assert account is not None
        assert account.access_token_encrypted
        assert account.refresh_token_encrypted
        return (
            cipher.decrypt(account.access_token_encrypted),
            cipher.decrypt(account.refresh_token_encrypted),
        )


async def test_connect_stores_account_with_encrypted_tokens(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str]
) -> None:
    page = await connect(client, alice, creator="Dance Queen")
    assert page.status_code == 200
    assert "Connected as Dance Queen (sandbox)" in page.text
    [account] = await accounts(client, alice)
    assert account["display_name"] == "Dance Queen"
    assert account["status"] == "active"
    assert account["token_health"] == "ok"
    assert account["can_direct_post"] is True
    assert account["missing_scopes"] == []
    assert account["is_sandbox"] is True
    access, refresh = await plaintext_tokens(app, account["id"])
    listing = (await client.get("/api/v1/accounts", headers=alice)).text
    assert access not in listing
    assert refresh not in listing
    assert "encrypted" not in listing
    for row in await raw_rows(app):
        flat = " ".join(str(v) for v in row.values())
        assert access not in flat
        assert refresh not in flat


async def test_redirect_mode(client: httpx.AsyncClient, alice: dict[str, str]) -> None:
    response = await client.get(
        "/api/v1/auth/tiktok/authorize", params={"redirect": "true"}, headers=alice
    )
    assert response.status_code == 307
    assert "/sandbox/tiktok/v2/auth/authorize/?client_key=" in response.headers["location"]
    assert "code_challenge_method=S256" in response.headers["location"]


async def test_reused_state_is_refused(client: httpx.AsyncClient, alice: dict[str, str]) -> None:
    redirect = await consent(client, await start(client, alice))
    assert (await client.get(redirect.path_and_query)).status_code == 200
    again = await client.get(redirect.path_and_query)
    assert again.status_code == 400
    assert "already used" in again.text
    assert len(await accounts(client, alice)) == 1


async def test_forged_state_is_refused(client: httpx.AsyncClient, alice: dict[str, str]) -> None:
    redirect = await consent(client, await start(client, alice))
    query = {**redirect.query, "state": "forged"}
    response = await client.get(urlsplit(redirect.location).path, params=query)
    assert response.status_code == 400
    assert "forged" in response.text
    assert await accounts(client, alice) == []


async def test_expired_state_is_refused(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str]
) -> None:
    from datetime import UTC, datetime, timedelta

    redirect = await consent(client, await start(client, alice))
    async with app.state.services.sessionmaker() as session:
        past = datetime.now(UTC) - timedelta(seconds=1)
        await session.execute(update(OAuthState).values(expires_at=past))
        await session.commit()
    response = await client.get(redirect.path_and_query)
    assert response.status_code == 400
    assert "expired" in response.text
    assert await accounts(client, alice) == []


async def test_denied_consent_stores_nothing(
    client: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    page = await connect(client, alice, decision="deny")
    assert page.status_code == 400
    assert "declined" in page.text
    assert await accounts(client, alice) == []


async def test_wrong_redirect_uri_is_refused_by_tiktok(
    client: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    url = await start(client, alice)
    tampered = url.replace("tiktimer.test", "evil.test", 1).replace(
        "redirect_uri=http%3A%2F%2Ftiktimer.test", "redirect_uri=http%3A%2F%2Fevil.test"
    )
    parts = httpx.URL(tampered)
    page = await client.get(f"{parts.path}?{parts.query.decode()}")
    assert page.status_code >= 400
    assert await accounts(client, alice) == []


async def test_wrong_code_verifier_is_refused_by_tiktok(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str]
) -> None:
    redirect = await consent(client, await start(client, alice))
    async with app.state.services.sessionmaker() as session:
        wrong = app.state.services.cipher.encrypt("x" * 64)
        await session.execute(update(OAuthState).values(code_verifier_encrypted=wrong))
        await session.commit()
    page = await client.get(redirect.path_and_query)
    assert page.status_code == 400
    assert "TikTok refused" in page.text
    assert await accounts(client, alice) == []


async def test_missing_code_verifier_is_refused_by_tiktok(emulator: Emulator) -> None:
    """Our client always sends one; the emulator must refuse an exchange without it."""
    form = {
        "client_key": "sbawtiktimeremulator",
        "client_secret": client_secret_for(TEST_SECRET),
        "code": "whatever",
        "grant_type": "authorization_code",
        "redirect_uri": "http://tiktimer.test/api/v1/auth/tiktok/callback",
    }
    with pytest.raises(Exception):  # noqa: B017 - the emulator's own OAuth error type
        emulator.exchange_code(form)


async def test_reused_code_is_refused(client: httpx.AsyncClient, alice: dict[str, str]) -> None:
    first = await consent(client, await start(client, alice))
    assert (await client.get(first.path_and_query)).status_code == 200
    second = await consent(client, await start(client, alice))
    query = {**second.query, "code": first.query["code"]}
    page = await client.get(urlsplit(second.location).path, params=query)
    assert page.status_code == 400
    assert "TikTok refused" in page.text


async def test_exchange_token_is_bound_to_the_user(
    client: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    redirect = await consent(client, await start(client, alice), creator="manual")
    body = {"code": redirect.query["code"], "state": redirect.query["state"]}
    bob = await user_headers(client, "bob")
    stolen = await client.post("/api/v1/auth/tiktok/exchange-token", json=body, headers=bob)
    assert stolen.status_code == 400  # bound to the user who started it
    assert await accounts(client, bob) == []
    # The foreign attempt was refused before the state was spent: its owner can still finish.
    response = await client.post("/api/v1/auth/tiktok/exchange-token", json=body, headers=alice)
    assert response.status_code == 200


async def test_exchange_token_by_its_owner(
    client: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    redirect = await consent(client, await start(client, alice), creator="manual")
    body = {"code": redirect.query["code"], "state": redirect.query["state"]}
    response = await client.post("/api/v1/auth/tiktok/exchange-token", json=body, headers=alice)
    assert response.status_code == 200, response.text
    assert response.json()["account"]["display_name"] == "manual"


async def test_missing_scopes_are_shown(client: httpx.AsyncClient, alice: dict[str, str]) -> None:
    page = await connect(client, alice, granted_scopes="user.info.basic,video.upload")
    assert page.status_code == 200
    assert "did not grant video.publish" in page.text
    [account] = await accounts(client, alice)
    assert account["missing_scopes"] == ["video.publish"]
    assert account["can_direct_post"] is False
    assert account["can_upload_drafts"] is True


async def test_reconnect_updates_same_account_and_keeps_refresh_token(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str]
) -> None:
    await connect(client, alice, creator="same")
    [before] = await accounts(client, alice)
    await connect(client, alice, creator="same")
    [after] = await accounts(client, alice)
    assert after["id"] == before["id"]
    _, refresh = await plaintext_tokens(app, after["id"])
    assert refresh


async def test_another_users_account_is_404(
    client: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    await connect(client, alice)
    [account] = await accounts(client, alice)
    bob = await user_headers(client, "bob")
    assert (await client.get(f"/api/v1/accounts/{account['id']}", headers=bob)).status_code == 404
    gone = await client.delete(
        "/api/v1/auth/tiktok/disconnect", params={"account_id": account["id"]}, headers=bob
    )
    assert gone.status_code == 404
    assert await accounts(client, bob) == []


async def test_refresh_rotates_and_old_refresh_token_dies(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str]
) -> None:
    await connect(client, alice)
    [account] = await accounts(client, alice)
    old_access, old_refresh = await plaintext_tokens(app, account["id"])
    tokens: AccountTokens = app.state.services.account_tokens
    fresh = await tokens.refresh(account["id"])
    new_access, new_refresh = await plaintext_tokens(app, account["id"])
    assert fresh.token == new_access != old_access
    assert new_refresh != old_refresh
    with pytest.raises(TikTokError):
        await app.state.services.tiktok.refresh_access_token(old_refresh)


async def test_concurrent_refreshes_perform_one(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], emulator: Emulator
) -> None:
    await connect(client, alice)
    [account] = await accounts(client, alice)
    tokens: AccountTokens = app.state.services.account_tokens
    # Force both callers to want a refresh at the same moment.
    async with app.state.services.sessionmaker() as session:
        from datetime import UTC, datetime

        await session.execute(
            update(SocialAccount).values(access_token_expires_at=datetime.now(UTC))
        )
        await session.commit()
    before = emulator.count_requests(endpoint="token")
    first, second = await asyncio.gather(
        tokens.access_token(account["id"]), tokens.access_token(account["id"])
    )
    assert emulator.count_requests(endpoint="token") == before + 1
    assert first.token == second.token


async def test_dead_refresh_token_marks_account_reauth_required(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str]
) -> None:
    await connect(client, alice)
    [account] = await accounts(client, alice)
    _, refresh = await plaintext_tokens(app, account["id"])
    await app.state.services.tiktok.refresh_access_token(refresh)  # rotates it behind our back
    with pytest.raises(AccountUnusable):
        await app.state.services.account_tokens.refresh(account["id"])
    [after] = await accounts(client, alice)
    assert after["status"] == "reauth_required"
    assert after["token_health"] == "reauth_required"


async def test_disconnect_revokes_and_deletes_tokens(
    client: httpx.AsyncClient, app: FastAPI, alice: dict[str, str], emulator: Emulator
) -> None:
    await connect(client, alice)
    [account] = await accounts(client, alice)
    access, _ = await plaintext_tokens(app, account["id"])
    response = await client.delete("/api/v1/auth/tiktok/disconnect", headers=alice)
    assert response.status_code == 200
    assert response.json()["status"] == "disconnected"
    assert emulator.count_requests(endpoint="revoke") == 1
    rows = await raw_rows(app)
    assert rows[0]["access_token_encrypted"] is None
    assert rows[0]["refresh_token_encrypted"] is None
    user_info = await client.get(
        "/sandbox/tiktok/v2/user/info/?fields=open_id",
        headers={"Authorization": f"Bearer {access}"},
    )
    assert user_info.status_code == 401


async def test_no_secret_reaches_a_log_line(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        redirect = await consent(client, await start(client, alice))
        await client.get(redirect.path_and_query)
        [account] = await accounts(client, alice)
        first_access, first_refresh = await plaintext_tokens(app, account["id"])
        await app.state.services.account_tokens.refresh(account["id"])
        access, refresh = await plaintext_tokens(app, account["id"])
    secrets = {
        "code": redirect.query["code"],
        "access": first_access,
        "refresh": first_refresh,
        "new access": access,
        "new refresh": refresh,
        "client secret": client_secret_for(TEST_SECRET),
    }
    assert caplog.records, "expected some log lines to inspect"
    for record in caplog.records:
        line = record.getMessage()
        for name, value in secrets.items():
            assert value not in line, f"{name} leaked in {record.name}: {line[:200]}"
