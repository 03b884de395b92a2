"""Standalone or mounted under a prefix: self-referencing URLs follow the mount point."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from tests.emulator.flows import (
    AUDITED_KEY,
    REDIRECT_URI,
    SECRET,
    make_config,
    pkce_pair,
    video_body,
)
from tiktimer.platforms.tiktok.emulator import Emulator, EmulatorConfig, create_emulator_app

HOST = "http://tiktimer.local"
PREFIX = "/sandbox/tiktok"


@asynccontextmanager
async def mounted(config: EmulatorConfig) -> AsyncIterator[tuple[httpx.AsyncClient, Emulator]]:
    emulator_app = create_emulator_app(config)
    parent = FastAPI()
    parent.mount(PREFIX, emulator_app)
    transport = httpx.ASGITransport(app=parent)
    async with httpx.AsyncClient(transport=transport, base_url=HOST) as http:
        yield http, emulator_app.state.emulator


async def test_mounted_emulator_builds_urls_under_its_prefix() -> None:
    async with mounted(make_config(processing_seconds=0)) as (http, emulator):
        verifier, challenge = pkce_pair()
        params = {
            "client_key": AUDITED_KEY,
            "scope": "user.info.basic,video.publish",
            "redirect_uri": REDIRECT_URI,
            "state": "st",
            "response_type": "code",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        page = await http.get(f"{PREFIX}/v2/auth/authorize/", params=params)
        assert f'action="{HOST}{PREFIX}/v2/auth/authorize/"' in page.text

        consent = await http.post(
            f"{PREFIX}/v2/auth/authorize/", data=params | {"decision": "allow", "creator": "alice"}
        )
        code = httpx.URL(consent.headers["location"]).params["code"]
        tokens = await http.post(
            f"{PREFIX}/v2/oauth/token/",
            data={
                "client_key": AUDITED_KEY,
                "client_secret": SECRET,
                "code": code,
                "grant_type": "authorization_code",
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
        )
        headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
        init = await http.post(
            f"{PREFIX}/v2/post/publish/video/init/", headers=headers, json=video_body()
        )
        upload_url = init.json()["data"]["upload_url"]
        put = await http.put(
            upload_url,
            content=b"\0" * 1_000_000,
            headers={"Content-Type": "video/mp4", "Content-Range": "bytes 0-999999/1000000"},
        )

        assert upload_url.startswith(f"{HOST}{PREFIX}/upload/video/?upload_id=")
        assert put.status_code == 201
        assert [r.endpoint for r in emulator.requests()] == [
            "authorize",
            "authorize",
            "token",
            "video_init",
            "upload",
        ]
        assert emulator.requests()[-1].path == "/upload/video/"
        assert (await http.get(f"{PREFIX}/_emulator/creators")).status_code == 200


async def test_public_base_url_wins_for_every_self_reference() -> None:
    async with mounted(make_config(public_base_url="https://tiktok.example/emu/")) as (http, emu):
        params = {
            "client_key": AUDITED_KEY,
            "scope": "video.publish",
            "redirect_uri": REDIRECT_URI,
            "state": "st",
            "response_type": "code",
            "code_challenge": pkce_pair()[1],
            "code_challenge_method": "S256",
        }
        page = await http.get(f"{PREFIX}/v2/auth/authorize/", params=params)
        token = emu.issue_tokens(AUDITED_KEY, "alice")["access_token"]
        init = await http.post(
            f"{PREFIX}/v2/post/publish/video/init/",
            headers={"Authorization": f"Bearer {token}"},
            json=video_body(),
        )

        assert 'action="https://tiktok.example/emu/v2/auth/authorize/"' in page.text
        upload_url = init.json()["data"]["upload_url"]
        assert upload_url.startswith("https://tiktok.example/emu/upload/video/?upload_id=")


async def test_upload_base_url_is_used_for_upload_urls() -> None:
    config = make_config(upload_base_url="https://upload.tiktok.example/")
    async with mounted(config) as (http, emulator):
        token = emulator.issue_tokens(AUDITED_KEY, "alice")["access_token"]

        init = await http.post(
            f"{PREFIX}/v2/post/publish/video/init/",
            headers={"Authorization": f"Bearer {token}"},
            json=video_body(),
        )

        url = init.json()["data"]["upload_url"]
        assert url.startswith("https://upload.tiktok.example/upload/video/?upload_id=")
