"""`tiktimer keys rotate`: every connected account stays usable across a key change."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.accounts.conftest import connect
from tests.fixtures.app import make_settings, sandboxed_app
from tests.fixtures.databases import sqlite_url
from tests.fixtures.server import clean_env, run_tiktimer
from tests.fixtures.users import user_headers
from tiktimer.config import Settings
from tiktimer.db import migrate


@pytest.mark.slow
async def test_rotation_keeps_accounts_usable(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    await asyncio.to_thread(migrate.upgrade, url)
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()

    def settings_with(keys: str) -> Settings:
        return make_settings(url, tmp_path, token_keys_raw=keys)

    async with sandboxed_app(settings_with(old)) as app:
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

    async with sandboxed_app(settings_with(new)) as app:  # the old key is gone entirely
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://tiktimer.test"
        ) as client:
            from tests.fixtures.users import bearer, login

            headers = bearer(await login(client, "alice"))
            accounts = (await client.get("/api/v1/accounts", headers=headers)).json()
            assert len(accounts) == 2
            for account in accounts:
                token = await app.state.services.account_tokens.access_token(account["id"])
                assert token.token
