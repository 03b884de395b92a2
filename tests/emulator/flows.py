"""A correct TikTok client, written only for these tests, plus the emulator set-up they share.

Bodies of any size are produced by async generators that yield one shared block again
and again, so even a multi-gigabyte upload never builds a large buffer.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

import httpx

from tiktimer.platforms.tiktok.emulator import (
    ClientConfig,
    CreatorSettings,
    Emulator,
    EmulatorConfig,
    create_emulator_app,
)

API = "https://open.tiktokapis.test"
AUDITED_KEY = "awaudited0000001"
UNAUDITED_KEY = "sbawunaudited001"
SECRET = "s3cret-for-tests"
REDIRECT_URI = "https://app.example.com/auth/tiktok/callback/"
ALL_SCOPES = "user.info.basic,user.info.profile,video.publish,video.upload"
MEDIA_PREFIX = "https://media.example.com/videos/user/"
MEDIA_DOMAIN = "cdn.example.org"

AUDITED = ClientConfig(
    client_key=AUDITED_KEY,
    client_secret=SECRET,
    redirect_uris=(REDIRECT_URI,),
    audited=True,
    verified_url_prefixes=(MEDIA_PREFIX,),
    verified_domains=(MEDIA_DOMAIN,),
)
UNAUDITED = ClientConfig(
    client_key=UNAUDITED_KEY,
    client_secret=SECRET,
    redirect_uris=(REDIRECT_URI,),
    audited=False,
)
ALICE = CreatorSettings(username="alice", display_name="Alice")
BOB = CreatorSettings(username="bob", display_name="Bob", is_private=True)

BLOCK = bytes(range(256)) * 4096  # 1 MiB, shared by every generated body


def make_config(**overrides: Any) -> EmulatorConfig:
    defaults: dict[str, Any] = {
        "clients": (AUDITED, UNAUDITED),
        "creators": (ALICE, BOB),
        "processing_seconds": 1.0,
    }
    return EmulatorConfig(**(defaults | overrides))


@asynccontextmanager
async def serve(config: EmulatorConfig | None = None) -> AsyncIterator[TikTok]:
    app = create_emulator_app(config or make_config())
    emulator: Emulator = app.state.emulator
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=API) as http:
        yield TikTok(http, emulator)
    await emulator.aclose()


async def generated_bytes(size: int, start: int = 0) -> AsyncIterator[bytes]:
    """Bytes `start … start+size-1` of an endless fixed pattern, without holding them."""
    offset = start % len(BLOCK)
    while size > 0:
        piece = BLOCK if offset == 0 and size >= len(BLOCK) else BLOCK[offset : offset + size]
        yield piece
        size -= len(piece)
        offset = 0


def pattern_sha256(size: int) -> str:
    digest = hashlib.sha256()
    whole, rest = divmod(size, len(BLOCK))
    for _ in range(whole):
        digest.update(BLOCK)
    digest.update(BLOCK[:rest])
    return digest.hexdigest()


def chunk_plan(video_size: int, chunk_size: int = 10_000_000) -> tuple[int, int]:
    """The plan that is valid under every reading of the guide (reference §5.1)."""
    if video_size <= 64_000_000:
        return video_size, 1
    return chunk_size, video_size // chunk_size


def chunk_ranges(video_size: int, chunk_size: int, count: int) -> list[tuple[int, int]]:
    ranges = [(i * chunk_size, i * chunk_size + chunk_size - 1) for i in range(count - 1)]
    ranges.append(((count - 1) * chunk_size, video_size - 1))
    return ranges


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, hashlib.sha256(verifier.encode()).hexdigest()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def video_body(
    *,
    video_size: int = 1_000_000,
    chunk_size: int | None = None,
    count: int | None = None,
    privacy: str | None = "PUBLIC_TO_EVERYONE",
    title: str = "a #cat video",
    **post_info: Any,
) -> dict[str, Any]:
    planned_chunk, planned_count = chunk_plan(video_size)
    info: dict[str, Any] = {
        "title": title,
        "privacy_level": privacy,
        "disable_duet": False,
        "disable_comment": False,
        "disable_stitch": False,
        "brand_content_toggle": False,
        "brand_organic_toggle": False,
    } | post_info
    if privacy is None:
        info.pop("privacy_level")
    return {
        "post_info": info,
        "source_info": {
            "source": "FILE_UPLOAD",
            "video_size": video_size,
            "chunk_size": chunk_size if chunk_size is not None else planned_chunk,
            "total_chunk_count": count if count is not None else planned_count,
        },
    }


@dataclass
class Authorization:
    verifier: str
    location: httpx.URL


@dataclass
class TikTok:
    """The emulator plus a well-behaved client speaking to it."""

    http: httpx.AsyncClient
    emulator: Emulator

    # -- OAuth -----------------------------------------------------------------------

    def authorize_params(self, **overrides: str | None) -> dict[str, str]:
        params: dict[str, str | None] = {
            "client_key": AUDITED_KEY,
            "scope": ALL_SCOPES,
            "redirect_uri": REDIRECT_URI,
            "state": "csrf-" + secrets.token_hex(4),
            "response_type": "code",
        }
        params.update(overrides)
        return {name: value for name, value in params.items() if value is not None}

    async def authorize(
        self, *, creator: str = "alice", extra_form: dict[str, str] | None = None, **params: str
    ) -> Authorization:
        """Post the consent form as the user would; returns the callback location."""
        verifier, challenge = pkce_pair()
        query = self.authorize_params(
            code_challenge=challenge, code_challenge_method="S256", **params
        )
        form = query | {"decision": "allow", "creator": creator} | (extra_form or {})
        response = await self.http.post("https://www.tiktok.test/v2/auth/authorize/", data=form)
        assert response.status_code == 302, response.text
        return Authorization(verifier, httpx.URL(response.headers["location"]))

    async def token(self, **fields: str) -> httpx.Response:
        body = {"client_key": AUDITED_KEY, "client_secret": SECRET} | fields
        return await self.http.post("/v2/oauth/token/", data=body)

    async def exchange(self, auth: Authorization, **overrides: str) -> httpx.Response:
        fields = {
            "code": auth.location.params["code"],
            "grant_type": "authorization_code",
            "redirect_uri": REDIRECT_URI,
            "code_verifier": auth.verifier,
        } | overrides
        return await self.token(**fields)

    async def connect(self, creator: str = "alice") -> dict[str, Any]:
        """The whole consent + code exchange; returns the token response."""
        auth = await self.authorize(creator=creator)
        response = await self.exchange(auth)
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        return tokens

    def tokens(self, creator: str = "alice", client_key: str = AUDITED_KEY, **kw: Any) -> str:
        """An access token without the consent dance (for tests about other things)."""
        token: str = self.emulator.issue_tokens(client_key, creator, **kw)["access_token"]
        return token

    # -- Content Posting -------------------------------------------------------------

    async def call(self, path: str, token: str, body: Any = None) -> httpx.Response:
        return await self.http.post(path, headers=bearer(token), json=body if body else {})

    async def creator_info(self, token: str) -> httpx.Response:
        return await self.http.post("/v2/post/publish/creator_info/query/", headers=bearer(token))

    async def init_video(self, token: str, body: dict[str, Any]) -> httpx.Response:
        return await self.call("/v2/post/publish/video/init/", token, body)

    async def status(self, token: str, publish_id: str) -> httpx.Response:
        return await self.call("/v2/post/publish/status/fetch/", token, {"publish_id": publish_id})

    async def put_chunk(
        self,
        upload_url: str,
        first: int,
        last: int,
        total: int,
        *,
        body_size: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        size = last - first + 1 if body_size is None else body_size
        sent = {
            "Content-Type": "video/mp4",
            "Content-Length": str(last - first + 1),
            "Content-Range": f"bytes {first}-{last}/{total}",
        } | (headers or {})
        body = generated_bytes(size, start=first)
        return await self.http.put(upload_url, content=body, headers=sent)

    async def upload(self, upload_url: str, video_size: int, chunk_size: int, count: int) -> None:
        ranges = chunk_ranges(video_size, chunk_size, count)
        for index, (first, last) in enumerate(ranges):
            response = await self.put_chunk(upload_url, first, last, video_size)
            expected = 201 if index == len(ranges) - 1 else 206
            assert response.status_code == expected, response.text
            assert response.headers["content-range"] == f"bytes 0-{last}/{video_size}"

    async def publish_file(
        self, token: str, video_size: int = 1_000_000, **body: Any
    ) -> dict[str, Any]:
        """Init + upload every chunk; returns the init `data`."""
        request = video_body(video_size=video_size, **body)
        response = await self.init_video(token, request)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        source = request["source_info"]
        await self.upload(
            data["upload_url"], video_size, source["chunk_size"], source["total_chunk_count"]
        )
        return data


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


def with_client(config: EmulatorConfig, **changes: Any) -> EmulatorConfig:
    """The config with the audited client changed."""
    return replace(config, clients=(replace(AUDITED, **changes), UNAUDITED))
