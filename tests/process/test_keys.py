"""`tiktimer keys rotate`: every connected account stays usable across a key change."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from cryptography.fernet import Fernet

from tests.accounts.conftest import connect
from tests.fixtures.app import SelfTransport, make_settings
from tests.fixtures.databases import sqlite_url
from tests.fixtures.server import clean_env, run_tiktimer
from tests.fixtures.users import user_headers
from tiktimer.app import create_app
from tiktimer.db import migrate


@pytest.mark.slow
async def test_rotation_keeps_accounts_usable(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    await asyncio.to_thread(migrate.upgrade, url)
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()

    async def app_with(keys: str):  # type: ignore[no-untyped-def]
        transport = SelfTransport()
        app = create_app(
            make_settings(url, tmp_path, token_keys_raw=keys), tiktok_transport=transport
        )
        transport.app = app
        return app

    app = await app_with(old)
    async with LifespanManager(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://tiktimer.test"
        ) as client:
            headers = await user_headers(client, "alice")
            await connect(client, headers, creator="one")
            await connect(client, headers, creator="two")

    def rotate_with(keys: str) -> subprocess.CompletedProcess[str]:
        env = clean_env(DATABASE_URL=url, TIKTIMER_DATA_DIR=str(tmp_path), TIKTIMER_TOKEN_KEYS=keys)
        return run_tiktimer(tmp_path, "keys", "rotate", env=env)

    without_old = await asyncio.to_thread(rotate_with, new)
    assert without_old.returncode == 1
    assert "keep the old key in the list" in without_old.stderr
    rotate = await asyncio.to_thread(rotate_with, f"{new},{old}")
    assert rotate.returncode == 0, rotate.stderr
    assert "re-encrypted 4 stored secrets" in rotate.stdout

    app = await app_with(new)  # the old key is gone entirely
    async with LifespanManager(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://tiktimer.test"
        ) as client:
            from tests.fixtures.users import bearer, login

            headers = bearer(await login(client, "alice"))
            accounts = (await client.get("/api/v1/accounts", headers=headers)).json()
            assert len(accounts) == 2
            for account in accounts:
                token = await app.state.account_tokens.access_token(account["id"])
                assert token.token
